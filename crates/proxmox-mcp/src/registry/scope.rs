//! Key scopes (`read` < `operate` < `admin`) and the scope each tool needs: derived from its
//! `Access` (Read → read, Write → operate, Destructive → admin), raised to admin for tools
//! marked [`ToolSpec::admin_only`] (guest exec). A tool whose access depends on its arguments
//! is listed for the scope of its mildest call, and each call needs the scope of its own access.
//!
//! Must not import rmcp or axum: the doors ask here, they do not decide.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Access, Registry, ToolSpec};

/// What an API key may do. Ordered: a scope allows everything a lower one allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Tools that only read (`Access::Read`).
    Read,
    /// Adds lifecycle and other non-destructive writes (`Access::Write`).
    Operate,
    /// Adds destructive tools and guest exec.
    Admin,
}

impl Scope {
    /// Every scope, lowest first.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Operate, Scope::Admin];

    /// The lowest scope allowed to call a tool of this `Access`.
    pub(crate) fn for_access(access: Access) -> Scope {
        match access {
            Access::Read => Scope::Read,
            Access::Write => Scope::Operate,
            Access::Destructive => Scope::Admin,
        }
    }

    /// `read`, `operate` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Operate => "operate",
            Scope::Admin => "admin",
        }
    }

    /// Whether a key of this scope may call `tool` at all (its mildest call).
    pub(crate) fn allows(self, tool: &ToolSpec) -> bool {
        self >= tool.required_scope()
    }

    /// Whether a key of this scope may make this call of `tool` (`args` as received).
    pub(crate) fn allows_call(self, tool: &ToolSpec, args: Option<&Value>) -> bool {
        self >= tool.call_scope(args)
    }

    /// The tools of `registry` a key of this scope may call (for `tools/list`, `/openapi.json`).
    pub(crate) fn view(self, registry: &Registry) -> Registry {
        registry.filtered(|t| self.allows(t))
    }

    /// The refusal message for a key named `key` (if any) of this scope making this call of
    /// `tool` (`args` as received).
    pub(crate) fn refusal(
        self,
        tool: &ToolSpec,
        args: Option<&Value>,
        key: Option<&str>,
    ) -> String {
        let who = match key {
            Some(k) => format!("the API key `{k}` has the `{}` scope", self.as_str()),
            None => format!("this caller has the `{}` scope", self.as_str()),
        };
        let needed = tool.call_scope(args).as_str();
        let (what, access) = if tool.by_args.is_some() {
            let access = tool.call_access(args);
            (" for this call", access)
        } else {
            ("", tool.access)
        };
        format!(
            "`{}` needs the `{needed}` scope{what} ({}); {who}: use a key with the `{needed}` \
             scope",
            tool.name,
            why(tool, access),
        )
    }
}

fn why(tool: &ToolSpec, access: Access) -> &'static str {
    if tool.admin_only && access != Access::Destructive {
        "it is reserved to admin keys"
    } else {
        match access {
            Access::Read => "it reads",
            Access::Write => "it changes state",
            Access::Destructive if tool.admin_only => "it runs commands in a guest",
            Access::Destructive => "it can destroy data",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is none of `read`, `operate`, `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`: use read, operate or admin")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Scope::Read),
            "operate" => Ok(Scope::Operate),
            "admin" => Ok(Scope::Admin),
            _ => Err(UnknownScope(s.to_string())),
        }
    }
}

impl ToolSpec {
    /// Reserves this tool to admin keys whatever its `Access` (guest exec).
    pub(crate) fn admin_only(mut self) -> Self {
        self.admin_only = true;
        self
    }

    /// The lowest key scope allowed to call this tool (its mildest call, when its access
    /// depends on its arguments): the tool lists of each scope go by it.
    pub(crate) fn required_scope(&self) -> Scope {
        if self.admin_only {
            Scope::Admin
        } else {
            Scope::for_access(self.least_access())
        }
    }

    /// The lowest key scope allowed to make this call (`args` as received).
    pub(crate) fn call_scope(&self, args: Option<&Value>) -> Scope {
        if self.admin_only {
            Scope::Admin
        } else {
            Scope::for_access(self.call_access(args))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scopes_order_and_parse() {
        assert!(Scope::Read < Scope::Operate && Scope::Operate < Scope::Admin);
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
        }
        assert_eq!(" Admin ".parse::<Scope>().unwrap(), Scope::Admin);
        assert!(
            "root"
                .parse::<Scope>()
                .unwrap_err()
                .to_string()
                .contains("root")
        );
    }
}
