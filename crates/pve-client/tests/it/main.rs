//! Integration tests of pve-client against the pve-sim simulator over loopback HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used)]
