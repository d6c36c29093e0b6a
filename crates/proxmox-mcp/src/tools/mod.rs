//! Every tool, one file per group. Each file declares, per tool: params struct, output struct,
//! a `ToolSpec` constructor and a typed handler. `all()` lists them in the documented order.

use crate::registry::ToolSpec;

/// Every built-in tool, in the order `tools/list`, the docs and the README show them.
pub fn all() -> Vec<ToolSpec> {
    Vec::new()
}
