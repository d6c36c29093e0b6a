//! The `proxmox-mcp` binary: parses the command line and runs the library (kept thin).

fn main() {}
