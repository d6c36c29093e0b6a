//! Build script: links the release `proxmox-mcp` binary with `link/hot-text.ld`, which groups
//! the functions that run at start and on every call in one output section, so that they share
//! as few pages as possible (idle RSS, see docs/PERFORMANCE.md). Linux (ELF) targets only; the
//! script is `INSERT`-style, read by both lld and GNU ld.

fn main() {
    println!("cargo:rerun-if-changed=link/hot-text.ld");
    // For linkers that do not read linker scripts (mold): the default layout.
    println!("cargo:rerun-if-env-changed=PROXMOX_MCP_PLAIN_LAYOUT");
    if std::env::var_os("PROXMOX_MCP_PLAIN_LAYOUT").is_some_and(|v| !v.is_empty() && v != "0") {
        return;
    }
    // Linux targets link ELF with lld (Rust's default on x86_64 since 1.90) or GNU ld.
    let elf = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    if elf && release {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
        println!("cargo:rustc-link-arg-bin=proxmox-mcp=-Wl,-T,{dir}/link/hot-text.ld");
    }
}
