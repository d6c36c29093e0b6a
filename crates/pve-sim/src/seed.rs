//! The demo cluster and a builder for clusters of any shape (up to 50 nodes, 10,000 guests).
