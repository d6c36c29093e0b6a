//! MCP prompts over `crate::prompts`: `prompts/list` and `prompts/get` (admitted first, as
//! every read is, by `ToolHost::admit_read`).

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CacheScope, GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage, Role,
};
use serde_json::json;

use super::handler::McpHandler;
use crate::auth::Identity;
use crate::prompts::{self, PROMPTS};

impl McpHandler {
    /// The names of the prompts.
    pub(crate) fn prompt_names(&self) -> impl Iterator<Item = &'static str> {
        PROMPTS.iter().map(|p| p.name)
    }

    /// `prompts/list`.
    pub(crate) fn prompt_list(&self) -> ListPromptsResult {
        ListPromptsResult::with_all_items(
            PROMPTS
                .iter()
                .map(|p| {
                    let args = p
                        .arguments
                        .iter()
                        .map(|a| {
                            PromptArgument::new(a.name)
                                .with_description(a.description)
                                .with_required(a.required)
                        })
                        .collect();
                    Prompt::new(p.name, Some(p.description), Some(args)).with_title(p.title)
                })
                .collect(),
        )
        .with_ttl_ms(super::resources::STATIC_TTL_MS)
        .with_cache_scope(CacheScope::Public)
    }

    /// `prompts/get`: the prompt's text for its arguments, as one user message.
    pub(crate) async fn prompt(
        &self,
        identity: Option<Identity>,
        request: GetPromptRequestParams,
    ) -> Result<GetPromptResult, McpError> {
        let args = request.arguments.clone().unwrap_or_default();
        self.admit_read_of(
            identity,
            "prompts/get",
            &json!({"name": request.name, "arguments": args}),
        )?;
        let prompt = prompts::get(&request.name).ok_or_else(|| {
            McpError::invalid_params(format!("unknown prompt `{}`", request.name), None)
        })?;
        let mut args: std::collections::HashMap<String, String> = args
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect();
        // The default cluster, by name, when the prompt's `cluster` is left out.
        let default = self.host().clusters().first().name.to_string();
        args.entry("cluster".into()).or_insert(default);
        let registry = self.host().registry();
        let text = prompt
            .render(&args, |tool| registry.get(tool).is_some())
            .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(prompt.description),
        )
    }
}
