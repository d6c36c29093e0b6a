//! Server-wide tool filters, applied once at start to the registry every door serves (as
//! github-mcp-server does), in this order:
//!
//! 1. `toolsets`: the toolsets named (keywords `all` and `default`); when absent, the default
//!    toolsets, unless `tools` is given, in which case none.
//! 2. `tools`: these tools are added, whatever their toolset.
//! 3. `read_only`: every tool whose `Access` is not Read is removed (even one named in `tools`);
//!    a tool whose access depends on its arguments stays when its mildest call reads, offered
//!    as its reading view (`ToolSpec::mildest_view`), and admission refuses its calls that
//!    would change something.
//! 4. `exclude_tools`: these tools are removed; exclusion wins over everything.
//!
//! An unknown toolset or tool name is an error naming it, so a typo never silently widens or
//! narrows what the server offers.

use std::collections::BTreeSet;

use super::toolsets::{self, TOOLSETS};
use super::{Access, Hidden, Refusal, Registry, ToolSpec};

/// What the operator asked for (flags, environment or config file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    /// Only tools that read.
    pub read_only: bool,
    /// Toolsets to serve; `None`: the default ones (or none when `tools` is given).
    pub toolsets: Option<Vec<String>>,
    /// Tools added to the toolsets.
    pub tools: Vec<String>,
    /// Tools removed at the end.
    pub exclude_tools: Vec<String>,
}

/// A filter naming a toolset or tool that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown toolset(s) {}: known toolsets are {}, plus the keywords `all` and `default`", list(.0), list(&known_toolsets()))]
    UnknownToolsets(Vec<String>),
    #[error("unknown tool(s) {}: see docs/tools.md for the tool names", list(.0))]
    UnknownTools(Vec<String>),
}

impl ToolFilter {
    /// `registry` with this filter applied, or the unknown names.
    pub fn apply(&self, registry: &Registry) -> Result<Registry, FilterError> {
        let sets = self.toolset_names()?;
        let mut unknown: Vec<String> = self
            .tools
            .iter()
            .chain(&self.exclude_tools)
            .filter(|n| registry.get(n).is_none())
            .cloned()
            .collect();
        unknown.dedup();
        if !unknown.is_empty() {
            return Err(FilterError::UnknownTools(unknown));
        }
        let hidden_why = |t: &ToolSpec| {
            let chosen = sets.contains(t.toolset) || self.tools.iter().any(|n| n == t.name);
            let readable = !self.read_only || t.least_access() == Access::Read;
            let excluded = self.exclude_tools.iter().any(|n| n == t.name);
            if !readable {
                Some(Refusal::ReadOnly)
            } else if !chosen || excluded {
                Some(Refusal::NotOffered)
            } else {
                None
            }
        };
        let hidden: Vec<Hidden> = registry
            .tools()
            .filter_map(|t| {
                hidden_why(t).map(|why| Hidden {
                    name: t.name,
                    access: t.access,
                    why,
                })
            })
            .collect();
        let kept = registry.filtered(|t| hidden_why(t).is_none());
        let kept = if self.read_only {
            kept.viewed(ToolSpec::mildest_view)
        } else {
            kept
        };
        Ok(kept.with_hidden(hidden).with_read_only(self.read_only))
    }

    /// The toolsets chosen, keywords expanded.
    fn toolset_names(&self) -> Result<BTreeSet<&'static str>, FilterError> {
        let defaults = || TOOLSETS.iter().filter(|t| t.default).map(|t| t.name);
        let Some(names) = &self.toolsets else {
            return Ok(if self.tools.is_empty() {
                defaults().collect()
            } else {
                BTreeSet::new()
            });
        };
        let mut out = BTreeSet::new();
        let mut unknown = Vec::new();
        for n in names {
            match n.as_str() {
                toolsets::ALL => out.extend(TOOLSETS.iter().map(|t| t.name)),
                toolsets::DEFAULT => out.extend(defaults()),
                other => match toolsets::get(other) {
                    Some(t) => {
                        out.insert(t.name);
                    }
                    None => unknown.push(other.to_string()),
                },
            }
        }
        if unknown.is_empty() {
            Ok(out)
        } else {
            Err(FilterError::UnknownToolsets(unknown))
        }
    }
}

fn known_toolsets() -> Vec<String> {
    TOOLSETS.iter().map(|t| t.name.to_string()).collect()
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
