//! The Kubernetes manifests (`packaging/kubernetes/`): what the Deployment gives the binary
//! (ports, probes, environment, mounted files) is what the binary reads, checked by resolving
//! the server's settings from the Deployment's own environment; and every overlay renders with
//! `kubectl kustomize` and validates against the Kubernetes schema (kubernetes-validate,
//! installed by `packaging/kubernetes/check.sh`, which `scripts/test.sh` runs first and which
//! makes these tools required through `PROXMOX_MCP_REQUIRE_K8S_TOOLS`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proxmox_mcp::{Overrides, Settings};
use serde_json::Value;
use sha2::Digest;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/kubernetes")
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn env_of(c: &Value) -> Vec<(String, String)> {
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let value = e["value"]
                .as_str()
                .unwrap_or_else(|| panic!("{e}: a literal value"));
            (e["name"].as_str().unwrap().to_string(), value.to_string())
        })
        .collect()
}

fn port(c: &Value, name: &str) -> u64 {
    c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no port {name}"))["containerPort"]
        .as_u64()
        .unwrap()
}

/// Where `path` inside the container comes from: the local file behind a mounted volume
/// (ConfigMap: the generator's file; Secret: a stand-in with `secrets[key]`).
fn local(deployment: &Value, path: &str, secrets: &Path) -> PathBuf {
    let spec = &deployment["spec"]["template"]["spec"];
    let c = container(deployment);
    for m in c["volumeMounts"].as_array().unwrap() {
        let mount = m["mountPath"].as_str().unwrap();
        let Some(file) = path.strip_prefix(&format!("{mount}/")) else {
            continue;
        };
        assert_eq!(m["readOnly"], true, "{mount} is mounted writable");
        let volume = spec["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == m["name"])
            .unwrap();
        if volume["configMap"]["name"] == "proxmox-mcp-config" {
            let generated = &yaml("base/kustomization.yaml")["configMapGenerator"][0];
            assert_eq!(generated["name"], "proxmox-mcp-config");
            let files: Vec<&str> = generated["files"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(files.contains(&file), "{file} is not in the ConfigMap");
            return dir().join("base").join(file);
        }
        assert_eq!(volume["secret"]["secretName"], "proxmox-mcp-secrets");
        return secrets.join(file);
    }
    panic!("{path} is on no mounted volume");
}

/// The settings the binary resolves from `deployment`'s environment, files mapped to theirs.
fn settings_of(deployment: &Value, secrets: &Path) -> Settings {
    let mut env: HashMap<String, String> = HashMap::new();
    for (name, value) in env_of(container(deployment)) {
        let value = if name.ends_with("_FILE") || name == "PROXMOX_MCP_CONFIG" {
            local(deployment, &value, secrets).display().to_string()
        } else {
            value
        };
        env.insert(name, value);
    }
    // Kubernetes sets HOSTNAME to the pod's name (the audit lines' replica).
    env.insert("HOSTNAME".into(), "proxmox-mcp-5d8f7-x2k9q".into());
    Settings::resolve(&Overrides::default(), &env).unwrap_or_else(|e| panic!("{e}"))
}

fn secrets_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pmcp-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("pve_token_value"),
        "00000000-0000-0000-0000-000000000000\n",
    )
    .unwrap();
    std::fs::write(d.join("api_key"), "k8s-0123456789abcdef0123456789abcdef\n").unwrap();
    let digest = hex::encode(sha2::Sha256::digest(b"n8n-0123456789abcdef0123456789abcd"));
    std::fs::write(
        d.join("keys.toml"),
        format!("[[keys]]\nname = \"n8n\"\nscope = \"operate\"\nsha256 = \"{digest}\"\n"),
    )
    .unwrap();
    d
}

#[test]
fn the_deployment_gives_the_binary_what_it_reads() {
    let secrets = secrets_dir();
    let deployment = yaml("base/deployment.yaml");
    let c = container(&deployment);
    let s = settings_of(&deployment, &secrets);
    assert_eq!(u64::from(s.mcp_listen.port()), port(c, "mcp"));
    assert_eq!(u64::from(s.rest_listen.unwrap().port()), port(c, "rest"));
    assert!(s.mcp_listen.ip().is_unspecified());
    // The Secret's named keys (keys.toml), then its admin key; the ConfigMap holds none.
    let keys: Vec<_> = s.security.keys.iter().map(|k| k.name()).collect();
    assert_eq!(keys, ["n8n", "default"]);
    assert!(
        !std::fs::read_to_string(dir().join("base/config.toml"))
            .unwrap()
            .lines()
            .any(|l| l.trim_start().starts_with("[[keys]]") || l.contains("sha256 =")),
        "key digests belong in the Secret"
    );
    assert!(s.guard.audit_stdout);
    assert_eq!(
        s.guard.audit_replica.as_deref(),
        Some("proxmox-mcp-5d8f7-x2k9q")
    );
    assert!(!s.stateless);
    assert_eq!(s.drain_delay.as_secs(), 5);
    // The Service's name (and its DNS forms) are accepted Host values.
    let service = yaml("base/service.yaml");
    let name = service["metadata"]["name"].as_str().unwrap();
    assert!(
        s.allowed_hosts.iter().any(|h| h == name),
        "{:?}",
        s.allowed_hosts
    );
    assert!(
        s.allowed_hosts
            .iter()
            .any(|h| h == &format!("{name}.proxmox-mcp.svc"))
    );
    for p in service["spec"]["ports"].as_array().unwrap() {
        assert_eq!(
            p["port"].as_u64().unwrap(),
            port(c, p["targetPort"].as_str().unwrap())
        );
    }

    // Probes: /healthz alive, /readyz ready, on the MCP port; /readyz with a Host it accepts.
    let live = &c["livenessProbe"]["httpGet"];
    assert_eq!(
        (live["path"].as_str(), live["port"].as_str()),
        (Some("/healthz"), Some("mcp"))
    );
    let ready = &c["readinessProbe"]["httpGet"];
    assert_eq!(
        (ready["path"].as_str(), ready["port"].as_str()),
        (Some("/readyz"), Some("mcp"))
    );
    let host = ready["httpHeaders"][0]["value"].as_str().unwrap();
    assert_eq!(ready["httpHeaders"][0]["name"], "Host");
    assert!(
        ["localhost", "127.0.0.1"].contains(&host) || s.allowed_hosts.iter().any(|h| h == host)
    );
    // The grace period covers the drain delay and the 10 s drain.
    let grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap();
    assert!(grace >= s.drain_delay.as_secs() + 10 + 5, "{grace}");

    // Non-root, read-only root filesystem, no capabilities, no privilege escalation.
    let pod = &deployment["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(pod["runAsNonRoot"], true);
    assert_eq!(pod["runAsUser"], 10001, "the Dockerfile's USER");
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"][0], "ALL");
    assert!(c["resources"]["limits"]["memory"].is_string());
}

#[test]
fn the_ha_overlay_serves_stateless_with_sticky_legacy_sse() {
    let secrets = secrets_dir();
    // The overlay's container patch adds to the base's environment (merged by name).
    let mut deployment = yaml("base/deployment.yaml");
    let patch = yaml("overlays/ha/deployment.yaml");
    assert!(patch["spec"]["replicas"].as_u64().unwrap() >= 2);
    let added = container(&patch)["env"].as_array().unwrap().clone();
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .extend(added);
    let s = settings_of(&deployment, &secrets);
    assert!(s.stateless);
    let service = yaml("overlays/ha/service.yaml");
    assert_eq!(service["spec"]["sessionAffinity"], "ClientIP");
    let pdb = yaml("overlays/ha/pdb.yaml");
    assert!(
        pdb["spec"]["minAvailable"].as_u64().unwrap() < patch["spec"]["replicas"].as_u64().unwrap()
    );
}

/// A tool the render test needs: present, or (when `PROXMOX_MCP_REQUIRE_K8S_TOOLS` is set, as
/// `scripts/test.sh` does after installing them) a failure.
fn tool(path: &Path, what: &str) -> bool {
    let there = Command::new(path).arg("--help").output().is_ok();
    if !there {
        assert!(
            std::env::var_os("PROXMOX_MCP_REQUIRE_K8S_TOOLS").is_none(),
            "{what} is missing: run packaging/kubernetes/check.sh"
        );
        eprintln!("{what} is missing: the render check is left to packaging/kubernetes/check.sh");
    }
    there
}

#[test]
fn every_overlay_renders_and_validates_against_the_kubernetes_schema() {
    let validator = dir().join(".venv/bin/kubernetes-validate");
    if !tool(Path::new("kubectl"), "kubectl") || !tool(&validator, "kubernetes-validate") {
        return;
    }
    let out = std::env::temp_dir().join(format!("pmcp-k8s-render-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let validate = |file: &Path| {
        Command::new(&validator)
            .args(["--strict", "--quiet"])
            .arg(file)
            .output()
            .unwrap()
    };
    for overlay in ["single", "ha"] {
        let rendered = Command::new("kubectl")
            .arg("kustomize")
            .arg(dir().join("overlays").join(overlay))
            .output()
            .unwrap();
        assert!(
            rendered.status.success(),
            "{}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let text = String::from_utf8(rendered.stdout).unwrap();
        let kinds: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("kind: "))
            .collect();
        for kind in [
            "Deployment",
            "Service",
            "ConfigMap",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ] {
            assert!(kinds.contains(&kind), "{overlay}: no {kind} in {kinds:?}");
        }
        let file = out.join(format!("{overlay}.yaml"));
        std::fs::write(&file, &text).unwrap();
        let v = validate(&file);
        assert!(
            v.status.success(),
            "{overlay}: {}",
            String::from_utf8_lossy(&v.stdout)
        );
        // The same objects with one wrong field fail: the check can fail.
        let broken = out.join(format!("{overlay}-broken.yaml"));
        std::fs::write(&broken, text.replacen("  replicas:", "  replica_count:", 1)).unwrap();
        assert!(
            !validate(&broken).status.success(),
            "{overlay}: a broken copy validated"
        );
    }
}
