//! The rules the simulator follows for any client, each checked over every served route the
//! schema says it applies to: PVE's order of checks and its parameter validation
//! (`checks`), every declared parameter accepted and stored as PVE stores it (`stored`),
//! pveproxy's decoding of lists, booleans, numbers, JSON and query strings (`encoding`), and
//! tasks that do what they say (`tasks`).

mod checks;
mod encoding;
mod stored;
mod tasks;

use std::collections::BTreeMap;

use pve_sim::route::{Method, Route};
use serde_json::Value;

use crate::samples::values::{Ctx, fill};
use crate::support::{Auth, Resp, TestSim, schema, values};

/// The path parameters of a route template.
pub(crate) fn path_params(route: &Route) -> Vec<&'static str> {
    route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// A valid value (made from the schema) for each required parameter that is not in the path.
pub(crate) fn required(route: &Route) -> Result<BTreeMap<String, String>, String> {
    let m = schema::method(route.method.as_str(), route.path)
        .ok_or_else(|| format!("{} {} not in the schema", route.method.as_str(), route.path))?;
    let pp = path_params(route);
    let mut out = BTreeMap::new();
    for (name, prop) in schema::params(m) {
        if schema::optional(&prop) || pp.contains(&name.as_str()) {
            continue;
        }
        let v = values::valid(&prop).ok_or_else(|| {
            format!(
                "{} {}: no valid value for '{name}' (add a format sample)",
                route.method.as_str(),
                route.path
            )
        })?;
        out.insert(values::concrete(&name), v);
    }
    Ok(out)
}

/// Sends a request as root@pam (ticket, so writes pass the CSRF check) or with the token.
pub(crate) async fn send(
    sim: &TestSim,
    auth: &Auth,
    method: Method,
    path: &str,
    params: &BTreeMap<String, String>,
) -> Resp {
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sim.call(method.as_str(), path, auth, &refs).await
}

/// The concrete path of a route on the sample objects, one path parameter replaced.
pub(crate) fn path_with(route: &Route, ctx: &Ctx, replace: Option<(&str, &str)>) -> String {
    let mut template = route.path.to_string();
    if let Some((name, value)) = replace {
        let encoded =
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        template = template.replace(&format!("{{{name}}}"), &encoded);
    }
    fill(route.method, &template, ctx)
}

/// The `errors` map of a 400 answer.
pub(crate) fn errors(r: &Resp) -> BTreeMap<String, String> {
    r.body["errors"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The schema's parameters of a route.
pub(crate) fn schema_params(route: &Route) -> serde_json::Map<String, Value> {
    schema::method(route.method.as_str(), route.path)
        .map(schema::params)
        .unwrap_or_default()
}
