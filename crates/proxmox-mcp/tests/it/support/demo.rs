//! Shared test setup: the demo simulator on 127.0.0.1:0 over HTTPS (pinned certificate, random
//! token) and an `App` over it; a `call` shortcut through `Registry::call`.

use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::{
    App, Caller, DemoCluster, Guard, GuardConfig, McpHttpConfig, NoProgress, RestConfig, ToolError,
    builtin_tools,
};
use pve_client::PveClient;
use pve_sim::server::SimServer;
use pve_sim::state::Snapshot;
use pve_sim::tasks::TaskSpec;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A simulator plus an app whose client reaches it.
pub struct Demo {
    pub demo: DemoCluster,
    pub app: Arc<App>,
}

impl Demo {
    /// The demo cluster with tasks that end at once.
    pub async fn start() -> Demo {
        Self::with(pve_sim::seed::demo(), 0.0).await
    }

    /// `cluster` with task durations scaled by `time_scale`, and SSH to its nodes as
    /// `serve --demo` wires it; the client times out after 3 s and does not retry (so injected
    /// faults show at once).
    pub async fn with(cluster: pve_sim::state::Cluster, time_scale: f64) -> Demo {
        let demo = DemoCluster::spawn(cluster, time_scale).await.unwrap();
        let client = PveClient::new(test_client_config(&demo)).unwrap();
        let ssh = demo.ssh_client(client.clone()).unwrap();
        let app = Arc::new(App::with_ssh(builtin_tools().unwrap(), client, ssh));
        Demo { demo, app }
    }

    /// The same demo cluster behind an app without SSH to its nodes.
    pub fn without_ssh(self) -> Demo {
        let client = PveClient::new(test_client_config(&self.demo)).unwrap();
        let registry = self.app.registry().clone();
        Demo {
            app: Arc::new(App::new(registry, client)),
            demo: self.demo,
        }
    }
}

/// The demo's client configuration for tests: 3 s timeout, no retry, no guest cache.
pub fn test_client_config(demo: &DemoCluster) -> pve_client::ClientConfig {
    let mut cfg = demo.client_config().unwrap();
    cfg.request_timeout = Duration::from_secs(3);
    cfg.max_retries = 0;
    cfg.guest_cache_ttl = Duration::ZERO;
    cfg
}

impl Demo {
    /// The simulator, to look at its state or inject faults.
    pub fn sim(&self) -> &SimServer {
        self.demo.server()
    }

    /// Calls a tool through the registry, as every front door does. A successful result is
    /// checked against the tool's own output schema, as MCP clients check `structuredContent`.
    pub async fn call(&self, tool: &str, args: Value) -> Result<Value, ToolError> {
        let ctx = self.app.ctx(
            Caller::new("test"),
            Arc::new(NoProgress),
            CancellationToken::new(),
        );
        let out = self.app.registry().call(tool, Some(args), ctx).await?;
        assert_conforms(&self.app, tool, &out);
        Ok(out)
    }

    /// The power state of guest `vmid` in the simulator (`running`, `stopped`), if it exists.
    pub fn guest_status(&self, vmid: u32) -> Option<String> {
        self.sim().with_sim(|s| {
            s.cluster
                .guests
                .get(&vmid)
                .map(|g| g.status.as_str().to_string())
        })
    }

    /// A config value of guest `vmid` in the simulator, as text.
    pub fn guest_config(&self, vmid: u32, key: &str) -> Option<String> {
        self.sim().with_sim(|s| {
            let v = s.cluster.guests.get(&vmid)?.config.get(key)?.clone();
            Some(match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
        })
    }
}

/// Serves `app`'s MCP door (with `mcp`) and REST door (with `rest`) on 127.0.0.1:0 until
/// `shutdown` is cancelled; their base URLs (`http://127.0.0.1:PORT`), MCP first.
pub async fn serve_doors(
    app: &Arc<App>,
    mcp: McpHttpConfig,
    rest: RestConfig,
    shutdown: &CancellationToken,
) -> (String, String) {
    crate::support::mcp::init_tls();
    let l = proxmox_mcp::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mcp_url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(proxmox_mcp::serve_mcp(
        app.clone(),
        l,
        mcp,
        None,
        shutdown.clone(),
    ));
    let l = proxmox_mcp::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let rest_url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(proxmox_mcp::serve_rest(
        app.clone(),
        l,
        rest,
        shutdown.clone(),
    ));
    (mcp_url, rest_url)
}

/// Panics unless `out` validates against the output schema `tool` declares.
pub fn assert_conforms(app: &App, tool: &str, out: &Value) {
    let spec = app.registry().get(tool).expect("tool exists");
    let schema = Value::Object((*spec.output_schema).clone());
    let validator = jsonschema::validator_for(&schema).expect("output schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(out)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{tool}: structured output breaks its output schema: {errors:?}\n{out}"
    );
}

/// The demo cluster (tasks end at once) behind an app whose registry has `cfg` as its guard,
/// with SSH to the simulated nodes (the demo's key, host keys pinned) as `serve --demo` wires it.
pub async fn guarded(cfg: GuardConfig) -> Demo {
    let demo = DemoCluster::spawn(pve_sim::seed::demo(), 0.0)
        .await
        .unwrap();
    let client = PveClient::new(test_client_config(&demo)).unwrap();
    let registry = proxmox_mcp::builtin_tools()
        .unwrap()
        .with_guard(Guard::new(&cfg).unwrap());
    let ssh = demo.ssh_client(client.clone()).unwrap();
    Demo {
        demo,
        app: Arc::new(App::with_ssh(registry, client, ssh)),
    }
}

/// The write requests (anything but GET) the simulator received since the last clear.
pub fn writes(d: &Demo) -> Vec<String> {
    d.sim()
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The volid of a seeded, unprotected backup of `vmid` (its name holds the seed's time).
pub fn seeded_backup(d: &Demo, vmid: u32) -> String {
    d.sim().with_sim(|s| {
        s.cluster
            .volumes
            .iter()
            .find(|v| v.content == "backup" && v.vmid == Some(vmid) && !v.protected)
            .map(|v| v.volid.clone())
            .unwrap()
    })
}

/// What a call must give: JSON-pointer checks on the output (`"*"` = present), or an error of
/// a kind whose message contains a text.
pub enum Want {
    Fields(Vec<(&'static str, Value)>),
    Err(&'static str, &'static str),
}

/// Calls `tool` with `args` and checks the outcome; returns the output (or Null on error).
pub async fn check(d: &Demo, tool: &str, args: Value, want: Want) -> Value {
    let got = d.call(tool, args.clone()).await;
    match (want, got) {
        (Want::Fields(fields), Ok(out)) => {
            for (ptr, expected) in fields {
                let actual = out.pointer(ptr);
                if expected == json!("*") {
                    assert!(actual.is_some(), "{tool} {args}: {ptr} missing in {out}");
                } else {
                    assert_eq!(actual, Some(&expected), "{tool} {args}: {ptr} in {out}");
                }
            }
            out
        }
        (Want::Err(kind, text), Err(e)) => {
            assert_eq!(e.kind(), kind, "{tool} {args}: {e}");
            assert!(
                e.to_string().contains(text),
                "{tool} {args}: {e:?} lacks {text:?}"
            );
            Value::Null
        }
        (Want::Fields(_), Err(e)) => panic!("{tool} {args}: expected success, got {e:?}"),
        (Want::Err(kind, _), Ok(out)) => panic!("{tool} {args}: expected {kind} error, got {out}"),
    }
}

/// Starts a task in the simulator that runs for an hour whatever its time scale (a backup of
/// VM 103 that changes nothing); its UPID.
pub fn long_task(d: &Demo) -> String {
    long_task_of(d, 103)
}

/// Starts an hour-long backup task of guest `vmid` on pve01 (changing nothing); its UPID.
pub fn long_task_of(d: &Demo, vmid: u32) -> String {
    d.sim().with_sim(|s| {
        let scale = std::mem::replace(&mut s.time_scale, 1.0);
        let upid = s.spawn_task(TaskSpec {
            node: "pve01".into(),
            kind: "vzdump".into(),
            id: vmid.to_string(),
            user: "root@pam".into(),
            duration: 3600.0,
            log: vec![format!("INFO: starting new backup job: vzdump {vmid}")],
            lock_vmid: None,
            finish: Box::new(|_, _| Ok(Vec::new())),
        });
        s.time_scale = scale;
        upid
    })
}

/// Adds snapshot `name` of guest `vmid`'s current config in the simulator, if it is not there.
pub fn add_snapshot(d: &Demo, vmid: u32, name: &str) {
    d.sim().with_sim(|s| {
        let now = s.now as i64;
        let g = s.cluster.guests.get_mut(&vmid).unwrap();
        if g.snapshots.iter().any(|x| x.name == name) {
            return;
        }
        g.snapshots.push(Snapshot {
            name: name.into(),
            description: String::new(),
            snaptime: now,
            vmstate: false,
            parent: g.parent_snapshot.clone(),
            config: g.config.clone(),
        });
        g.parent_snapshot = Some(name.into());
    });
}
