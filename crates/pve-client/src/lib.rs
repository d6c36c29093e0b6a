//! Proxmox VE API client. Knows nothing of MCP, HTTP servers or the simulator.
