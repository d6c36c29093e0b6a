//! What the `proxmox_api` tests share: hostile paths, each of which must be refused before any
//! request is sent.

/// Paths that try to leave `/api2/json` or smuggle something past the path check: `..` and `.`,
/// schemes and hosts, query strings and fragments, percent-encoding, backslashes, whitespace and
/// control characters, other API formats, empty segments, characters PVE paths do not use, and
/// an overlong path.
pub fn hostile_paths() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "/",
        "/api2/json",
        "../etc/passwd",
        "/nodes/../access/password",
        "/nodes/pve01/..",
        "/./version",
        "/cluster/./resources",
        "http://evil.example/api2/json/version",
        "https://127.0.0.1:8006/api2/json/version",
        "//evil.example/version",
        "file:/etc/passwd",
        "/cluster/resources?type=vm",
        "/version#frag",
        "/nodes/pve01%2F..%2Faccess/password",
        "/nodes/%2e%2e/access/password",
        "/version%00",
        "/nodes\\pve01\\status",
        "/nodes/pve01/status\r\nX-Injected: 1",
        "/nodes/pve01 /status",
        "/nodes/pve01/\u{0}status",
        "/nodes/pvé/status",
        "/api2/extjs/version",
        "/api2/json/api2/json/version",
        "/api2/json//version",
        "nodes//status",
        "/cluster/resources;type=vm",
        "/nodes/pve01/qemu/100/config&delete=net0",
        "/nodes/{node}/status",
        "/nodes/*/status",
        "~root/.ssh",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("/nodes/{}", "a".repeat(600)));
    v
}
