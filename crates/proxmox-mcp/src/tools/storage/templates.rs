//! `list_available_templates`: the appliance index of a node (`GET /nodes/{node}/aplinfo`),
//! the container templates `download_to_storage` can fetch by name.

use pve_client::api::disks::Appliance;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{mib, trimmed};

/// `list_available_templates`.
pub(crate) fn list_available_templates() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "list_available_templates",
            "List downloadable container templates",
            "Container templates available for download. Use it to pick a template for download_to_storage.",
            Access::Read,
            true,
        ),
        handler!(list_available_templates_handler),
    )
}

/// Parameters of `list_available_templates`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplatesParams {
    /// Text in the name, OS or headline.
    #[serde(default)]
    pub(crate) search: Option<String>,
    /// system, turnkeylinux, mail.
    #[serde(default)]
    pub(crate) section: Option<String>,
    /// Default: the first online node.
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// One template.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TemplateLine {
    /// The name to pass to download_to_storage.
    pub(crate) template: String,
    pub(crate) section: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size_mb: Option<u64>,
}

/// Output of `list_available_templates`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TemplatesOutput {
    /// The node asked.
    pub(crate) node: String,
    pub(crate) templates: Vec<TemplateLine>,
    pub(crate) count: usize,
}

/// `node`, or the first online node.
pub(super) async fn node_or_first(
    ctx: &ToolCtx,
    node: Option<String>,
) -> Result<String, ToolError> {
    if let Some(n) = trimmed(node) {
        return Ok(n);
    }
    let mut nodes = ctx.client.nodes().await?;
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    nodes
        .into_iter()
        .find(|n| n.status == "online")
        .map(|n| n.node)
        .ok_or_else(|| ToolError::pve("no node of the cluster is online"))
}

fn matches(a: &Appliance, search: Option<&str>, section: Option<&str>) -> bool {
    let has = |field: Option<&str>, needle: &str| {
        field.is_some_and(|f| f.to_lowercase().contains(needle))
    };
    section.is_none_or(|s| a.section.eq_ignore_ascii_case(s))
        && search.is_none_or(|s| {
            has(Some(&a.template), s) || has(a.os.as_deref(), s) || has(a.headline.as_deref(), s)
        })
}

async fn list_available_templates_handler(
    ctx: &ToolCtx,
    p: TemplatesParams,
) -> Result<TemplatesOutput, ToolError> {
    let node = node_or_first(ctx, p.node).await?;
    let search = p
        .search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let section = p
        .section
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut templates: Vec<TemplateLine> = ctx
        .client
        .aplinfo(&node)
        .await?
        .into_iter()
        .filter(|a| matches(a, search.as_deref(), section.as_deref()))
        .map(|a| TemplateLine {
            size_mb: a.size.map(mib),
            template: a.template,
            section: a.section,
            os: a.os,
            version: a.version,
            headline: a.headline,
        })
        .collect();
    templates.sort_by(|a, b| (&a.section, &a.template).cmp(&(&b.section, &b.template)));
    Ok(TemplatesOutput {
        node,
        count: templates.len(),
        templates,
    })
}
