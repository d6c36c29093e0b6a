//! `list_node_services`: a node's system services (the PVE daemons, corosync, sshd...) with
//! their systemd state, and which enabled ones are not running.

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::core::nodes::NodeParams;

/// `list_node_services`.
pub(crate) fn list_node_services() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_node_services",
            title: "Node services",
            description: "A node's services and their state. Use it to find a stopped PVE daemon.",
            toolset: "monitoring",
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_node_services_handler),
    )
}

/// One service.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ServiceLine {
    /// Unit name without `.service`.
    pub(crate) service: String,
    /// systemd state: `running`, `dead`, `failed`, `exited`...
    pub(crate) state: String,
    /// `enabled`, `disabled`, `not-found`...
    pub(crate) unit_state: String,
}

/// Output of `list_node_services`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ServicesOutput {
    pub(crate) node: String,
    pub(crate) services: Vec<ServiceLine>,
    pub(crate) count: usize,
    /// Enabled services that are not running.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) not_running: Vec<String>,
}

async fn list_node_services_handler(
    ctx: &ToolCtx,
    p: NodeParams,
) -> Result<ServicesOutput, ToolError> {
    let node = p.node.trim().to_string();
    if node.is_empty() {
        return Err(ToolError::invalid("node", "must not be empty"));
    }
    let mut services: Vec<ServiceLine> = ctx
        .client
        .node_services(&node)
        .await?
        .into_iter()
        .map(|s| ServiceLine {
            service: s.service,
            state: s.state,
            unit_state: s.unit_state,
        })
        .collect();
    services.sort_by(|a, b| a.service.cmp(&b.service));
    let not_running = services
        .iter()
        .filter(|s| s.unit_state.starts_with("enabled") && s.state != "running")
        .map(|s| s.service.clone())
        .collect();
    Ok(ServicesOutput {
        node,
        count: services.len(),
        services,
        not_running,
    })
}
