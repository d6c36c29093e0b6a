//! Shared test setup: the demo simulator on 127.0.0.1:0 over HTTPS (pinned certificate, random
//! token) and an `App` over it; a `call` shortcut through `Registry::call`.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::{
    App, Caller, DemoCluster, McpHttpConfig, NoProgress, RestConfig, ToolError, builtin_tools,
};
use pve_client::PveClient;
use pve_sim::server::SimServer;
use serde_json::Value;
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

    /// `cluster` with task durations scaled by `time_scale`; the client times out after 3 s
    /// and does not retry (so injected faults show at once).
    pub async fn with(cluster: pve_sim::state::Cluster, time_scale: f64) -> Demo {
        let demo = DemoCluster::spawn(cluster, time_scale).await.unwrap();
        let mut cfg = demo.client_config().unwrap();
        cfg.request_timeout = Duration::from_secs(3);
        cfg.max_retries = 0;
        cfg.guest_cache_ttl = Duration::ZERO;
        let client = PveClient::new(cfg).unwrap();
        let app = Arc::new(App::new(builtin_tools().unwrap(), client));
        Demo { demo, app }
    }

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
    crate::transport_support::init_tls();
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
