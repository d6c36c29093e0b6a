//! Live figures that move a little over time: guest and node CPU, memory, disk and network use.
