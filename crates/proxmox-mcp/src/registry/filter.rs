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
//! With `dynamic` (`--dynamic-toolsets`), `toolsets` names the toolsets a session may turn on
//! (every toolset when absent) and a session starts with the default ones among them (none when
//! only `tools` is given); the registry keeps the tools of all of them, with the toolset tools,
//! and `registry::dynamic::Offer` says what each caller is offered. Steps 2 to 4 apply as above.
//!
//! An unknown toolset or tool name is an error naming it, so a typo never silently widens or
//! narrows what the server offers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::dynamic::{self, Offer};
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
    /// Dynamic toolsets: sessions start with the default toolsets and turn others on.
    pub dynamic: bool,
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
        let allowed: BTreeSet<&'static str> = match (&self.toolsets, self.dynamic) {
            (None, true) => named_toolsets().collect(),
            _ => sets.clone(),
        };
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
            let chosen = if t.toolset == dynamic::TOOLSET {
                self.dynamic
            } else {
                allowed.contains(t.toolset) || self.tools.iter().any(|n| n == t.name)
            };
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
        let kept = kept.with_hidden(hidden).with_read_only(self.read_only);
        if !self.dynamic {
            return Ok(kept);
        }
        let mut tools: BTreeMap<&'static str, Vec<&'static str>> =
            allowed.iter().map(|s| (*s, Vec::new())).collect();
        for t in kept.tools() {
            if let Some(list) = tools.get_mut(t.toolset) {
                list.push(t.name);
            }
        }
        let offer = Offer {
            start: sets
                .iter()
                .copied()
                .filter(|s| toolsets::get(s).is_some_and(|t| t.default))
                .collect(),
            allowed: Arc::new(tools),
            pinned: kept
                .tools()
                .filter(|t| self.tools.iter().any(|n| n == t.name))
                .map(|t| t.name)
                .collect(),
        };
        Ok(kept.with_offer(offer))
    }

    /// The toolsets chosen, keywords expanded.
    fn toolset_names(&self) -> Result<BTreeSet<&'static str>, FilterError> {
        let defaults = || {
            TOOLSETS
                .iter()
                .filter(|t| t.default && t.name != dynamic::TOOLSET)
                .map(|t| t.name)
        };
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
                toolsets::ALL => out.extend(named_toolsets()),
                toolsets::DEFAULT => out.extend(defaults()),
                other => match toolsets::get(other).filter(|t| t.name != dynamic::TOOLSET) {
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

/// The toolsets `--toolsets` may name (all but the toolset tools' own).
fn named_toolsets() -> impl Iterator<Item = &'static str> {
    TOOLSETS
        .iter()
        .map(|t| t.name)
        .filter(|n| *n != dynamic::TOOLSET)
}

fn known_toolsets() -> Vec<String> {
    named_toolsets().map(str::to_string).collect()
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
