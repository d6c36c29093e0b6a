//! MCP resources and completion over `crate::resources`: `resources/list` (paged),
//! `resources/templates/list`, `resources/read` (one `application/json` text content) and
//! `completion/complete` for the templates' and the prompts' arguments. Every read and
//! completion is admitted first (`ToolHost::admit_read`: the key's rate, refusals audited).

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CacheScope, CompleteRequestParams, CompleteResult, CompletionInfo, ListResourceTemplatesResult,
    ListResourcesResult, PaginatedRequestParams, ReadResourceResult, Reference, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::{Value, json};

use super::handler::McpHandler;
use crate::auth::Identity;
use crate::caller::Caller;
use crate::error::ToolError;
use crate::registry::Refused;
use crate::resources::{self, MIME, TEMPLATES};
use pve_client::GuestKind;

/// Resources per `resources/list` page.
pub(crate) const PAGE: usize = 100;

/// How long a client may keep a list that never changes while the server runs (templates,
/// prompts): an hour, for anyone (`cacheScope: public`).
pub(crate) const STATIC_TTL_MS: u64 = 3_600_000;
/// How long a client may keep the list of resources, which follows the cluster: 10 s, for this
/// caller only (`cacheScope: private`).
const RESOURCES_TTL_MS: u64 = 10_000;

impl McpHandler {
    /// Admits a read of `what` by `identity` (`None`: nothing is allowed).
    pub(crate) fn admit_read_of(
        &self,
        identity: Option<Identity>,
        what: &'static str,
        args: &Value,
    ) -> Result<(), McpError> {
        let Some(identity) = identity else {
            return Err(McpError::invalid_request(
                "the request has no identity",
                None,
            ));
        };
        let caller = Caller {
            transport: self.transport,
            key: identity.key,
            toolsets: None,
        };
        self.host()
            .admit_read(&caller, self.rate(), what, Some(args))
            .map_err(|r| match r {
                Refused::Rate { error, .. }
                | Refused::Scope(error)
                | Refused::ReadOnly(error)
                | Refused::NotOffered(error) => McpError::invalid_request(error.to_string(), None),
            })
    }

    /// `resources/list`: a page of every cluster's resources; the cursor is the offset.
    pub(crate) async fn resources_page(
        &self,
        identity: Option<Identity>,
        request: Option<PaginatedRequestParams>,
    ) -> Result<ListResourcesResult, McpError> {
        let cursor = request.and_then(|r| r.cursor);
        self.admit_read_of(identity, "resources/list", &json!({"cursor": cursor}))?;
        let offset = match cursor.as_deref() {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| McpError::invalid_params(format!("invalid cursor `{c}`"), None))?,
        };
        let all = resources::list(self.host().clusters())
            .await
            .map_err(|e| mcp_error(&e))?;
        let page: Vec<Resource> = all
            .iter()
            .skip(offset)
            .take(PAGE)
            .map(|r| {
                Resource::new(r.uri.clone(), r.name.clone())
                    .with_description(r.description.clone())
                    .with_mime_type(MIME)
            })
            .collect();
        let next = offset + page.len();
        let mut result = ListResourcesResult::with_all_items(page)
            .with_ttl_ms(RESOURCES_TTL_MS)
            .with_cache_scope(CacheScope::Private);
        if next < all.len() {
            result.next_cursor = Some(next.to_string());
        }
        Ok(result)
    }

    /// `resources/templates/list`: the three templates.
    pub(crate) fn resource_templates(&self) -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(
            TEMPLATES
                .iter()
                .map(|(uri, name, title, description)| {
                    ResourceTemplate::new(*uri, *name)
                        .with_title(*title)
                        .with_description(*description)
                        .with_mime_type(MIME)
                })
                .collect(),
        )
        .with_ttl_ms(STATIC_TTL_MS)
        .with_cache_scope(CacheScope::Public)
    }

    /// `resources/read`.
    pub(crate) async fn read(
        &self,
        identity: Option<Identity>,
        uri: String,
    ) -> Result<ReadResourceResult, McpError> {
        self.admit_read_of(identity, "resources/read", &json!({"uri": uri}))?;
        let value = resources::read(self.host().clusters(), &uri)
            .await
            .map_err(|e| mcp_error(&e))?;
        let text = serde_json::to_string(&value)
            .map_err(|e| McpError::internal_error(format!("resource JSON: {e}"), None))?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type(MIME),
        ]))
    }

    /// `completion/complete` for `node`, `vmid` and `cluster` of a template or a prompt.
    pub(crate) async fn complete_argument(
        &self,
        identity: Option<Identity>,
        request: CompleteRequestParams,
    ) -> Result<CompleteResult, McpError> {
        let args = json!({"ref": request.r#ref, "argument": request.argument});
        self.admit_read_of(identity, "completion/complete", &args)?;
        let kind = match &request.r#ref {
            Reference::Resource(r) if r.uri.contains("/vm/") => Some(GuestKind::Qemu),
            Reference::Resource(r) if r.uri.contains("/ct/") => Some(GuestKind::Lxc),
            _ => None,
        };
        let known = match &request.r#ref {
            Reference::Resource(r) => TEMPLATES.iter().any(|(t, ..)| *t == r.uri),
            Reference::Prompt(p) => self.prompt_names().any(|n| n == p.name),
            _ => false,
        };
        if !known {
            return Err(McpError::invalid_params(
                format!("nothing to complete for {}", args["ref"]),
                None,
            ));
        }
        let cluster = request
            .context
            .as_ref()
            .and_then(|c| c.get_argument("cluster"))
            .map(String::as_str);
        let values = resources::complete(
            self.host().clusters(),
            cluster,
            &request.argument.name,
            &request.argument.value,
            kind,
        )
        .await
        .map_err(|e| mcp_error(&e))?;
        let info = CompletionInfo::with_all_values(values)
            .map_err(|e| McpError::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }
}

/// A resource error as MCP words it: a guest or node that is not there is "resource not
/// found", a malformed URI an invalid parameter, the rest an internal error with PVE's words.
fn mcp_error(e: &ToolError) -> McpError {
    match e {
        ToolError::InvalidParams { .. } => McpError::invalid_params(e.to_string(), None),
        ToolError::Pve {
            status: Some(404), ..
        } => McpError::resource_not_found(e.to_string(), None),
        _ => McpError::internal_error(e.to_string(), None),
    }
}
