//! Entry points for the fuzz targets in `fuzz/` (hidden from the docs, not an API): the request
//! decoding and checks that are crate-private, reached the way the server reaches them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::params::{self, RawParams};
use crate::route::{ApiError, ParamSpec, PropFormat};

/// A request's parameters as the HTTP server reads them: the query string, then for a POST or
/// PUT (`with_body`) the form or JSON body (`is_json`), the query's keys winning.
pub fn read_params(
    query: &[u8],
    body: &[u8],
    with_body: bool,
    is_json: bool,
) -> Result<RawParams, ApiError> {
    let query = RawParams::from_urlencoded(query);
    if !with_body {
        return Ok(query);
    }
    crate::server::http::body_params(query, body, is_json)
}

/// PVE's parameter checks, as the dispatcher runs them before a handler: the values coerced
/// to their types, or the 400 with its `errors` map.
pub fn validate(specs: &[ParamSpec], raw: &RawParams) -> Result<BTreeMap<String, Value>, ApiError> {
    params::validate(specs, raw)
}

/// Every property-string format declared by name (`pve-qm-ide`, `qemu-net`...).
pub fn property_formats() -> Vec<&'static PropFormat> {
    params::decl::all_named_props()
}

/// The property-string format declared under `name`.
pub fn property_format(name: &str) -> Option<&'static PropFormat> {
    params::decl::named_props(name)
}

/// Parses `value` as a property string of `format` (`path` names the parameter in errors): its
/// keys and values, or PVE's reason.
pub fn property_string(
    format: &PropFormat,
    value: &str,
    path: &str,
) -> Result<BTreeMap<String, String>, String> {
    params::props::parse(format, value, path)
}

/// PVE's list splitting (`-list` formats): on NUL when the value holds one, else on commas,
/// semicolons and white space.
pub fn split_list(text: &str) -> Vec<&str> {
    params::split_list(text)
}

/// PVE's named string format `name` checked by code (`pve-node`, `pve-vmid`, `CIDR`...).
pub fn named_format(name: &str, value: &str) -> Result<(), String> {
    crate::formats::check(name, value)
}

/// An SSH exec request read as the simulated node's login shell reads it: the words and
/// whether the hang-up prologue wrapped them, or the shell's exit status and message.
pub fn ssh_line(data: &[u8]) -> Result<(Vec<String>, bool), (u32, String)> {
    crate::ssh::line::parse(data)
        .map(|l| (l.words, l.prologue))
        .map_err(|r| (r.status, r.message))
}
