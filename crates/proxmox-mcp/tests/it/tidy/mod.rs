//! Tidy checks over the whole workspace, run as ordinary tests: the invariants ARCHITECTURE.md
//! states that a machine can check (file headers, module boundaries, the schema's licence).

mod layers;

use std::fs;
use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file below `dir`, skipping build output and installed packages.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | ".git" | ".venv") {
                out.extend(rust_files(&path));
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    out
}

fn text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Files of `dir` (below the workspace root) whose code (not comments) mentions `needle`.
fn code_mentions(dir: &str, needle: &str) -> Vec<String> {
    rust_files(&root().join(dir))
        .into_iter()
        .filter(|p| {
            text(p)
                .lines()
                .map(str::trim_start)
                .filter(|l| !l.starts_with("//"))
                .any(|l| l.contains(needle))
        })
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn every_rust_file_starts_with_a_module_doc_line() {
    let mut missing = Vec::new();
    for dir in ["crates", "bench"] {
        for path in rust_files(&root().join(dir)) {
            if !text(&path).starts_with("//!") {
                missing.push(path.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a leading //! line: {missing:?}"
    );
}

#[test]
fn only_the_mcp_module_imports_rmcp() {
    let outside: Vec<String> = code_mentions("crates/proxmox-mcp/src", "rmcp")
        .into_iter()
        .filter(|p| !p.contains("/src/mcp/"))
        .collect();
    assert!(
        outside.is_empty(),
        "rmcp used outside src/mcp/: {outside:?}"
    );
}

#[test]
fn tools_and_registry_know_no_transport() {
    for dir in [
        "crates/proxmox-mcp/src/tools",
        "crates/proxmox-mcp/src/registry",
    ] {
        for needle in ["rmcp", "axum"] {
            let hits = code_mentions(dir, needle);
            assert!(hits.is_empty(), "{needle} used in {dir}: {hits:?}");
        }
    }
}

#[test]
fn the_agpl_schema_never_reaches_a_binary() {
    for dir in [
        "crates/pve-sim/src",
        "crates/pve-client/src",
        "crates/proxmox-mcp/src",
        "bench/src",
    ] {
        for needle in ["apidoc", "fixtures/pve-api"] {
            let hits = code_mentions(dir, needle);
            assert!(
                hits.is_empty(),
                "{dir} refers to the schema fixture: {hits:?}"
            );
        }
    }
}

/// The `[dependencies]` table of a crate's manifest, as text.
fn normal_dependencies(krate: &str) -> String {
    let manifest = text(&root().join("crates").join(krate).join("Cargo.toml"));
    let start = manifest
        .find("[dependencies]")
        .unwrap_or_else(|| panic!("{krate} has no [dependencies]"));
    let rest = &manifest[start + "[dependencies]".len()..];
    let end = rest.find("\n[").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn the_simulator_and_the_client_stay_apart() {
    let sim = normal_dependencies("pve-sim");
    assert!(
        !sim.contains("pve-client") && !sim.contains("proxmox-mcp"),
        "pve-sim must depend on neither pve-client nor proxmox-mcp"
    );
    let client = normal_dependencies("pve-client");
    assert!(
        !client.contains("pve-sim") && !client.contains("proxmox-mcp"),
        "pve-client may use pve-sim in tests only"
    );
}

#[test]
fn no_file_picks_its_module_path() {
    let mut hits = Vec::new();
    for dir in ["crates", "bench"] {
        // Spelled in two parts, so that this file does not name the attribute itself.
        hits.extend(code_mentions(dir, concat!("#[", "path")));
    }
    assert!(hits.is_empty(), "files with a path attribute: {hits:?}");
}

#[test]
fn a_tool_context_is_built_in_one_place() {
    // A struct expression `ToolCtx {`, not a type in a signature or a declaration.
    let mut builders = Vec::new();
    for path in rust_files(&root().join("crates/proxmox-mcp/src")) {
        for line in text(&path).lines().map(str::trim) {
            let Some(at) = line.find("ToolCtx {") else {
                continue;
            };
            let before = line[..at].trim_end();
            let declared = ["->", "struct", "impl", "for"]
                .iter()
                .any(|w| before.ends_with(w));
            if !line.starts_with("//") && !declared {
                builders.push(path.display().to_string());
            }
        }
    }
    assert!(
        builders.len() == 1 && builders[0].ends_with("registry/host.rs"),
        "ToolCtx built outside registry/host.rs: {builders:?}"
    );
}
