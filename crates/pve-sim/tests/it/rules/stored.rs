//! Every option a guest's config update declares is accepted, stored and read back as PVE
//! would (numbers and booleans as numbers, strings as given), including the options the
//! simulator has no behaviour for; the options PVE rewrites are read back rewritten: tags
//! sorted, de-duplicated and `;`-joined, secrets masked. PVE's per-caller rule holds: only
//! `root@pam` (not even its tokens) may set `args`.

use std::collections::BTreeMap;

use pve_sim::route::Method;
use serde_json::Value;

use crate::support::{Auth, TestSim, schema, start, values};

/// A guest kind's config routes and the sample guest they act on.
struct Kind {
    update: &'static str,
    read: &'static str,
    path: &'static str,
    /// Options PVE rewrites or acts on rather than storing them as given; each has its own
    /// test (disks, NICs, mount points, tags, secrets, `memory`'s `current=`) or changes what
    /// the guest is (`template`, `lock`).
    rewritten: &'static [&'static str],
}

const QEMU: Kind = Kind {
    update: "/nodes/{node}/qemu/{vmid}/config",
    read: "/nodes/{node}/qemu/{vmid}/config",
    path: "/nodes/pve01/qemu/101/config",
    rewritten: &[
        "ide[n]",
        "sata[n]",
        "scsi[n]",
        "virtio[n]",
        "efidisk0",
        "tpmstate0",
        "unused[n]",
        "net[n]",
        "cdrom",
        "tags",
        "cipassword",
        "template",
        "lock",
        "memory",
        "digest",
    ],
};

const LXC: Kind = Kind {
    update: "/nodes/{node}/lxc/{vmid}/config",
    read: "/nodes/{node}/lxc/{vmid}/config",
    path: "/nodes/pve01/lxc/200/config",
    rewritten: &[
        "rootfs",
        "mp[n]",
        "unused[n]",
        "net[n]",
        "tags",
        "template",
        "lock",
        "digest",
    ],
};

/// What `GET .../config` shows for a value that was sent as `text`.
fn expected(prop: &Value, text: &str) -> Value {
    match prop["type"].as_str() {
        Some("integer" | "boolean") => text
            .parse::<i64>()
            .map_or_else(|_| Value::from(text), Value::from),
        Some("number") => text
            .parse::<f64>()
            .map_or_else(|_| Value::from(text), Value::from),
        _ => Value::from(text),
    }
}

async fn options_round_trip(sim: &TestSim, kind: &Kind, auth: &Auth) -> (usize, Vec<String>) {
    let update = schema::method("PUT", kind.update).unwrap();
    let read = schema::method("GET", kind.read).unwrap();
    let shown = read["returns"]["properties"].as_object().unwrap();
    let mut problems = Vec::new();
    let mut n = 0;
    for (name, prop) in schema::params(update) {
        if kind.rewritten.contains(&name.as_str()) || !shown.contains_key(&name) {
            continue;
        }
        let Some(value) = values::valid(&prop) else {
            problems.push(format!("{}: no sample value for {name}", kind.update));
            continue;
        };
        let key = values::concrete(&name);
        n += 1;
        let r = sim
            .call("PUT", kind.path, auth, &[(key.as_str(), value.as_str())])
            .await;
        if r.status != 200 {
            problems.push(format!(
                "PUT {} {key}={value}: {} {} {:?}",
                kind.path,
                r.status,
                r.message().trim_end(),
                r.body.get("errors")
            ));
            continue;
        }
        let got = sim.get(kind.path, &[]).await.data()[&key].clone();
        let want = expected(&prop, &value);
        if got != want {
            problems.push(format!(
                "{} {key}: sent {value}, read back {got}",
                kind.path
            ));
        }
    }
    (n, problems)
}

#[tokio::test]
async fn every_config_option_is_stored_and_read_back() {
    let sim = start().await;
    let root = sim.root().await;
    let mut problems = Vec::new();
    for kind in [&QEMU, &LXC] {
        let (n, p) = options_round_trip(&sim, kind, &root).await;
        assert!(n > 20, "{}: only {n} options tried", kind.update);
        problems.extend(p);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn only_root_at_pam_sets_args() {
    let sim = start().await;
    let path = "/nodes/pve01/qemu/101/config";
    let r = sim
        .call("PUT", path, &Auth::token(), &[("args", "-no-reboot")])
        .await;
    assert_eq!(r.status, 500, "{:?}", r.body);
    assert_eq!(r.message(), "only root can set 'args' config\n");
    let r = sim
        .call("PUT", path, &Auth::token(), &[("delete", "args")])
        .await;
    assert_eq!(r.message(), "only root can set 'args' config\n");
    let r = sim
        .call(
            "POST",
            "/nodes/pve01/qemu",
            &Auth::token(),
            &[("vmid", "990"), ("args", "-S")],
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (500, "only root can set 'args' config\n")
    );
    let root = sim.root().await;
    let r = sim
        .call("PUT", path, &root, &[("args", "-no-reboot")])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(sim.get(path, &[]).await.data()["args"], "-no-reboot");
    // Options any VM administrator may set are not affected.
    let r = sim
        .call("PUT", path, &Auth::token(), &[("cores", "3")])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Every write route that takes a tag list stores tags the PVE way; reads show them so.
#[tokio::test]
async fn tags_are_sorted_deduplicated_and_semicolon_joined() {
    let sim = start().await;
    let root = sim.root().await;
    let mut routes = 0;
    for route in pve_sim::routes::all()
        .iter()
        .filter(|r| r.method == Method::Put)
    {
        let takes_tags = super::schema_params(route)
            .get("tags")
            .is_some_and(|p| p["format"] == "pve-tag-list");
        if !takes_tags {
            continue;
        }
        routes += 1;
        let path = if route.path.contains("/lxc/") {
            "/nodes/pve01/lxc/200/config"
        } else {
            "/nodes/pve01/qemu/101/config"
        };
        // Repeated keys, as list-minded clients send them; mixed case and a duplicate.
        let r = sim
            .call(
                "PUT",
                path,
                &root,
                &[
                    ("tags", "web"),
                    ("tags", "Prod"),
                    ("tags", "db"),
                    ("tags", "web"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert_eq!(
            sim.get(path, &[]).await.data()["tags"],
            "db;prod;web",
            "{path}"
        );
        let vmid: u32 = path.split('/').nth(4).unwrap().parse().unwrap();
        let resources = sim.get("/cluster/resources", &[("type", "vm")]).await;
        let entry = resources
            .data()
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["vmid"] == vmid)
            .cloned()
            .unwrap();
        assert_eq!(entry["tags"], "db;prod;web");
    }
    assert_eq!(routes, 2, "qemu and lxc config updates take tags");
}

/// A secret the schema takes on a config route is never shown: `GET .../config` masks it.
#[tokio::test]
async fn secrets_come_back_masked() {
    let sim = start().await;
    let root = sim.root().await;
    let secrets: BTreeMap<&str, &str> = [("cipassword", "/nodes/pve01/qemu/101/config")].into();
    for route in pve_sim::routes::all() {
        for (name, _) in super::schema_params(route) {
            if name.contains("password") && route.path.ends_with("/config") {
                assert!(
                    secrets.contains_key(name.as_str()),
                    "secret {name} untested"
                );
            }
        }
    }
    for (name, path) in secrets {
        let r = sim.call("PUT", path, &root, &[(name, "s3cret-Pa55")]).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let config = sim.get(path, &[]).await;
        assert_eq!(config.data()[name], "**********");
        assert!(!config.body.to_string().contains("s3cret"));
    }
}
