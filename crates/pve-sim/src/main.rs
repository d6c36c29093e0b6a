//! The `pve-sim` binary: serves the simulator on an address (`pve-sim --listen 127.0.0.1:8006`).

fn main() {}
