//! Several clusters: two simulators at once behind one server configured by a file with two
//! `[[clusters]]` entries. The first is the default; `cluster` reaches the other; an unknown
//! name is a bad parameter; `list_clusters` says which answer; audit lines, metrics and the
//! doctor name the cluster; configuration mistakes are errors naming the key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proxmox_mcp::App;
use proxmox_mcp::DemoCluster;
use proxmox_mcp::{self, RestConfig};
use proxmox_mcp::{Caller, NoProgress};
use proxmox_mcp::{DoctorArgs, Level, diagnose};
use proxmox_mcp::{Gate, KeyRing, Scope};
use proxmox_mcp::{Overrides, Settings};
use pve_client::Credentials;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-multi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `[[clusters]]` entry reaching `demo` (pinned certificate, its token).
fn entry(name: &str, demo: &DemoCluster) -> String {
    let cfg = demo.client_config().unwrap();
    let Credentials::Token { name: token, value } = &cfg.credentials else {
        panic!("demo clusters use tokens")
    };
    format!(
        "[[clusters]]\nname = \"{name}\"\nhost = \"{}\"\nport = {}\nuser = \"{}\"\n\
         token_name = \"{token}\"\ntoken_value = \"{}\"\nfingerprint = \"{}\"\ntimeout = 3\n",
        cfg.host,
        cfg.port,
        cfg.user,
        value.expose(),
        demo.server().fingerprint()
    )
}

/// Two simulators (tasks end at once) and a config file naming both, with an audit log.
struct Two {
    first: DemoCluster,
    second: Option<DemoCluster>,
    config: PathBuf,
    audit: PathBuf,
}

impl Two {
    async fn start(name: &str) -> Two {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let first = DemoCluster::spawn(pve_sim::seed::demo(), 0.0)
            .await
            .unwrap();
        let second = DemoCluster::spawn(pve_sim::seed::demo(), 0.0)
            .await
            .unwrap();
        let dir = temp_dir(name);
        let audit = dir.join("audit.jsonl");
        let config = dir.join("proxmox-mcp.toml");
        let text = format!(
            "{}{}[guard]\naudit_log = \"{}\"\n",
            entry("first", &first),
            entry("second", &second),
            audit.display()
        );
        std::fs::write(&config, text).unwrap();
        Two {
            first,
            second: Some(second),
            config,
            audit,
        }
    }

    fn second(&self) -> &DemoCluster {
        self.second.as_ref().unwrap()
    }

    fn settings(&self) -> Settings {
        let flags = Overrides {
            config: Some(self.config.clone()),
            ..Overrides::default()
        };
        Settings::resolve(&flags, &HashMap::new()).unwrap()
    }

    async fn app(&self) -> Arc<App> {
        Arc::new(App::from_settings(&self.settings()).await.unwrap())
    }
}

async fn call(app: &App, tool: &str, args: Value) -> Result<Value, proxmox_mcp::ToolError> {
    let ctx = app.ctx(
        Caller::new("test"),
        Arc::new(NoProgress),
        CancellationToken::new(),
    );
    app.registry().call(tool, Some(args), ctx).await
}

fn has_guest(demo: &DemoCluster, vmid: u32) -> bool {
    demo.server()
        .with_sim(|s| s.cluster.guests.contains_key(&vmid))
}

fn vmids(out: &Value) -> Vec<u64> {
    out["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vmid"].as_u64().unwrap())
        .collect()
}

fn last_record(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[tokio::test]
async fn the_first_cluster_is_the_default_and_cluster_reaches_the_other() {
    let two = Two::start("route").await;
    let app = two.app().await;
    let names: Vec<String> = app.clusters().iter().map(|c| c.name.to_string()).collect();
    assert_eq!(names, ["first", "second"]);

    // A guest created on the second cluster only.
    two.second().server().clear_requests();
    two.first.server().clear_requests();
    let args = json!({"name": "only-second", "cores": 1, "memory_mb": 512, "disk_gb": 4,
                      "vmid": 4242, "cluster": "second"});
    let out = call(&app, "create_vm", args).await.unwrap();
    assert_eq!(out["vmid"], 4242, "{out}");
    assert!(has_guest(two.second(), 4242));
    assert!(!has_guest(&two.first, 4242));
    let second_posts = two
        .second()
        .server()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/qemu"))
        .count();
    assert_eq!(second_posts, 1);
    assert!(
        two.first.server().requests().is_empty(),
        "the default cluster was not asked anything"
    );

    // The audit line names the cluster.
    let rec = last_record(&two.audit);
    assert_eq!(rec["tool"], "create_vm");
    assert_eq!(rec["cluster"], "second", "{rec}");
    assert_eq!(rec["outcome"], "ok");

    // Without `cluster`: the first one; with it: the second.
    let default = vmids(&call(&app, "get_vms", json!({})).await.unwrap());
    assert!(!default.contains(&4242), "{default:?}");
    let second = vmids(
        &call(&app, "get_vms", json!({"cluster": "second"}))
            .await
            .unwrap(),
    );
    assert!(second.contains(&4242), "{second:?}");
    let first = vmids(
        &call(&app, "get_vms", json!({"cluster": "first"}))
            .await
            .unwrap(),
    );
    assert_eq!(first, default);

    // A write on the default cluster is audited with its name.
    call(
        &app,
        "start_vm",
        json!({"vmid": default[0], "dry_run": true}),
    )
    .await
    .unwrap();
    let rec = last_record(&two.audit);
    assert_eq!(
        (&rec["cluster"], &rec["outcome"]),
        (&json!("first"), &json!("dry_run")),
        "{rec}"
    );

    // Metrics carry the cluster label.
    let metrics = app.ops().metrics.render().await;
    assert!(
        metrics.lines().any(|l| l.starts_with(
            r#"proxmox_mcp_tool_calls_total{tool="get_vms",transport="test",cluster="second",outcome="ok"} 1"#
        )),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.contains(r#"tool="get_vms",transport="test",cluster="first""#)),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_unknown_cluster_is_a_bad_parameter_listing_the_names() {
    let two = Two::start("unknown").await;
    let app = two.app().await;
    let e = call(&app, "get_vms", json!({"cluster": "third"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    let text = e.to_string();
    assert!(
        text.contains("cluster") && text.contains("\"third\"") && text.contains("first, second"),
        "{text}"
    );
    let e = call(&app, "get_vms", json!({"cluster": 2}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");

    // Through a front door (REST), where the schema also shows the parameter; a read key.
    let tool = app.registry().get("get_vms").unwrap();
    assert_eq!(tool.input_schema["properties"]["cluster"]["type"], "string");
    assert_eq!(
        tool.input_schema["properties"]["cluster"]["enum"],
        json!(["first", "second"])
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    const KEY: &str = "key-read-multi-0123456789";
    let ring = KeyRing::single("reader", Scope::Read, KEY);
    let cfg = RestConfig {
        gate: Gate::new(Arc::new(ring)),
        ..RestConfig::default()
    };
    tokio::spawn(proxmox_mcp::serve_rest(
        app.clone(),
        listener,
        cfg,
        shutdown.clone(),
    ));
    let http = reqwest::Client::new();
    let answer = |tool: &str, args: Value| {
        let req = http
            .post(format!("{base}/{tool}"))
            .bearer_auth(KEY)
            .json(&args);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = answer("get_storage", json!({"cluster": "second"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = answer("get_storage", json!({"cluster": "nope"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("first, second"), "{body}");
    // Refused at the door (scope): the audit line names the cluster asked for, else the default.
    let (status, body) = answer("start_vm", json!({"vmid": 100, "cluster": "second"})).await;
    assert_eq!(status, 403, "{body}");
    let rec = last_record(&two.audit);
    assert_eq!(
        (&rec["outcome"], &rec["cluster"]),
        (&json!("refused"), &json!("second")),
        "{rec}"
    );
    let (status, _) = answer("start_vm", json!({"vmid": 100})).await;
    assert_eq!(status, 403);
    let rec = last_record(&two.audit);
    assert_eq!(
        (&rec["outcome"], &rec["cluster"]),
        (&json!("refused"), &json!("first")),
        "{rec}"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn list_clusters_says_which_answer() {
    let mut two = Two::start("list").await;
    let app = two.app().await;
    let out = call(&app, "list_clusters", json!({})).await.unwrap();
    assert_eq!(out["answering"], 2, "{out}");
    let c = &out["clusters"];
    assert_eq!(c[0]["name"], "first");
    assert_eq!(c[0]["default"], true);
    assert_eq!(c[1]["name"], "second");
    assert_eq!(c[1]["default"], false);
    assert_eq!(c[1]["answers"], true);
    assert_eq!(c[1]["nodes"], 3, "{out}");
    assert!(c[1]["pve_version"].as_str().unwrap().starts_with('9'));
    let port = two.second().server().addr().port();
    assert!(
        c[1]["address"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}"))
    );

    // Stop the second simulator; a fresh server (no pooled connection) finds it down.
    let second = two.second.take().unwrap();
    let addr = second.server().addr();
    drop(second);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        tokio::task::yield_now().await;
    }
    let app = two.app().await;
    let out = call(&app, "list_clusters", json!({})).await.unwrap();
    assert_eq!(out["answering"], 1, "{out}");
    let c = &out["clusters"];
    assert_eq!(c[0]["answers"], true);
    assert_eq!(c[1]["answers"], false);
    assert!(c[1].get("pve_version").is_none(), "{out}");
    assert!(!c[1]["error"].as_str().unwrap().is_empty(), "{out}");
    // The first still serves calls.
    call(&app, "get_nodes", json!({})).await.unwrap();
}

#[tokio::test]
async fn the_doctor_checks_every_cluster_or_the_one_named() {
    let two = Two::start("doctor").await;
    let args = |cluster: Option<&str>| DoctorArgs {
        demo: false,
        config: Some(two.config.clone()),
        cluster: cluster.map(str::to_string),
    };
    let env = HashMap::new();
    let titles = |r: &proxmox_mcp::Report| -> Vec<String> {
        r.sections.iter().map(|s| s.title.clone()).collect()
    };
    let all = diagnose(&args(None), &env).await;
    let t = titles(&all);
    assert!(
        t.contains(&"Cluster first".to_string()) && t.contains(&"Cluster second".to_string()),
        "{t:?}"
    );
    assert!(t.contains(&"Nodes (second)".to_string()), "{t:?}");
    assert_eq!(all.problems(), 0, "{}", all.render());
    let one = diagnose(&args(Some("second")), &env).await;
    let t = titles(&one);
    assert!(
        t.contains(&"Cluster second".to_string()) && !t.contains(&"Cluster first".to_string()),
        "{t:?}"
    );
    let none = diagnose(&args(Some("third")), &env).await;
    let fails = none.at(Level::Fail);
    assert_eq!(fails.len(), 1);
    assert!(fails[0].text.contains("\"third\""), "{}", fails[0].text);
}

#[tokio::test]
async fn configuration_mistakes_name_the_key() {
    let dir = temp_dir("errors");
    let resolve = |text: &str| {
        let path = dir.join("c.toml");
        std::fs::write(&path, text).unwrap();
        let flags = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        Settings::resolve(&flags, &HashMap::new())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let one = |name: &str| {
        format!(
            "[[clusters]]\nname = \"{name}\"\nhost = \"10.0.0.1\"\nuser = \"root@pam\"\n\
             token_name = \"t\"\ntoken_value = \"s\"\n"
        )
    };
    let e = resolve(&format!("{}{}", one("prod"), one("prod")));
    assert!(e.contains("duplicate cluster name \"prod\""), "{e}");
    let e = resolve(&one("lab").replace("host = \"10.0.0.1\"\n", ""));
    assert!(e.contains("\"lab\"") && e.contains("`host`"), "{e}");
    let e = resolve(&one("lab").replace("name = \"lab\"\n", ""));
    assert!(e.contains("`name`"), "{e}");
    let e = resolve(&format!("{}hots = \"x\"\n", one("lab")));
    assert!(e.contains("hots"), "{e}");
    // The single [cluster] stays valid and is named `default`, or as its `name` says.
    let path = dir.join("single.toml");
    std::fs::write(
        &path,
        "[cluster]\nhost = \"10.0.0.1\"\nuser = \"root@pam\"\npassword = \"p\"\n",
    )
    .unwrap();
    let flags = Overrides {
        config: Some(path),
        ..Overrides::default()
    };
    let s = Settings::resolve(&flags, &HashMap::new()).unwrap();
    assert_eq!(s.clusters.len(), 1);
    assert_eq!(s.clusters[0].name, "default");
    let env: HashMap<String, String> =
        [("PROXMOX_CLUSTER_NAME".to_string(), "home".to_string())].into();
    let s = Settings::resolve(&flags, &env).unwrap();
    assert_eq!(s.clusters[0].name, "home");
    let demo = Overrides {
        demo: true,
        ..Overrides::default()
    };
    let s = Settings::resolve(&demo, &HashMap::new()).unwrap();
    assert_eq!(s.clusters[0].name, "demo");
    let _ = std::fs::remove_dir_all(&dir);
}
