//! Generated artefacts match the registry: `docs/tools.md`, the README tool table and the schema
//! snapshot under `tests/snapshots/`. `UPDATE_SNAPSHOTS=1` rewrites them.

use std::path::{Path, PathBuf};

use proxmox_mcp as docs;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn updating() -> bool {
    std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1")
}

/// Compares `path` with `want`; rewrites it when updating.
fn assert_file(path: &Path, want: &str) {
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: run `UPDATE_SNAPSHOTS=1 cargo test -p proxmox-mcp --test it docs` and commit it",
        path.display()
    );
}

#[test]
fn tools_md_is_generated_from_the_registry() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    assert_file(
        &repo_root().join("docs/tools.md"),
        &docs::tools_markdown(&r),
    );
}

#[test]
fn schema_snapshot_is_current() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tool-schemas.json");
    assert_file(&path, &docs::schema_snapshot(&r));
}

#[test]
fn readme_tool_table_is_current() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let want = docs::replace_readme_table(&readme, &docs::readme_table(&r))
        .expect("README.md lacks the <!-- tools:start --> / <!-- tools:end --> markers");
    assert_file(&path, &want);
}

#[test]
fn every_tool_is_documented_and_well_formed() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    let names: Vec<&str> = r.tools().map(|t| t.name).collect();
    // The seventeen contract tools (and get_task) come first, in their documented order; later
    // groups append theirs.
    assert_eq!(
        names[..18],
        [
            "get_nodes",
            "get_node_status",
            "get_vms",
            "create_vm",
            "start_vm",
            "stop_vm",
            "shutdown_vm",
            "reset_vm",
            "delete_vm",
            "execute_vm_command",
            "get_containers",
            "start_container",
            "stop_container",
            "restart_container",
            "update_container_resources",
            "get_storage",
            "get_cluster_status",
            "get_task",
        ]
    );
    for t in r.tools() {
        assert!(
            t.name.len() <= 32,
            "{} is long for n8n's 64-char prefixed names",
            t.name
        );
        assert_eq!(t.input_schema["type"], "object", "{}", t.name);
        assert_eq!(t.output_schema["type"], "object", "{}", t.name);
        // Unknown parameters are refused by the parser; the model-visible schema leaves the
        // keyword out (the REST door's OpenAPI document states it).
        assert!(
            !t.input_schema.contains_key("additionalProperties"),
            "{}",
            t.name
        );
        assert!(!t.description.is_empty() && !t.title.is_empty());
        let props = t.input_schema["properties"].as_object().unwrap();
        for (p, s) in props {
            assert!(
                s.get("description")
                    .is_some_and(|d| d.as_str().is_some_and(|d| !d.is_empty())),
                "{}: parameter {p} has no description",
                t.name
            );
        }
        if props.contains_key("vmid") {
            let required = t.input_schema.get("required").and_then(|r| r.as_array());
            assert!(
                !required.is_some_and(|r| r.contains(&"node".into())),
                "{}: node must be optional",
                t.name
            );
        }
    }
}
