//! The dispatcher: matches a request to the route table, then runs PVE's checks in PVE's order
//! (authentication, 501 for an unknown method/path, API-token refusal, a parameter repeating
//! one of the path, the route's permission, the `{node}` lookup with 500/595, parameter
//! validation with the 400 `errors` map) and only then the handler. No HTTP here: the server
//! and the handler tests both call it.

use serde_json::Value;

use crate::Sim;
use crate::auth::{self, Credentials};
use crate::params::{self, RawParams};
use crate::route::{ApiError, Call, Identity, Method, Perm, Role, Route};

/// What a dispatched request came to: the matched route template (for the request log), the
/// identity it ran as, and the result.
#[derive(Debug)]
pub struct Outcome {
    pub route: Option<&'static str>,
    pub identity: Option<Identity>,
    pub result: Result<Value, ApiError>,
    /// The `data` as JSON text, when the handler answered through [`Sim::respond_raw`]
    /// (then `result` is `Ok(Value::Null)`).
    pub raw: Option<String>,
}

/// Who is calling: an identity already established, or credentials to check.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    Identity(&'a Identity),
    Credentials(&'a Credentials),
}

/// Runs one API call as `identity`: route matching, validation, node checks, permission check
/// and the handler. `path` is below `/api2/json` (`/nodes/pve1/qemu`); `params` may be
/// `&[("full", "1")]`, a `Vec<(&str, &str)>` or a [`RawParams`]. Any extra result attributes
/// (`total`) are left in `sim.attribs`.
pub fn dispatch(
    sim: &mut Sim,
    method: Method,
    path: &str,
    params: impl Into<RawParams>,
    identity: &Identity,
) -> Result<Value, ApiError> {
    let outcome = run(sim, method, path, params.into(), Caller::Identity(identity));
    match (outcome.result, outcome.raw) {
        (Ok(_), Some(raw)) => serde_json::from_str(&raw)
            .map_err(|e| ApiError::internal(format!("handler wrote invalid JSON: {e}"))),
        (result, _) => result,
    }
}

/// The full pipeline, as the HTTP server runs it (authentication included).
pub fn run(
    sim: &mut Sim,
    method: Method,
    path: &str,
    raw: RawParams,
    caller: Caller<'_>,
) -> Outcome {
    sim.attribs.clear();
    sim.raw_data = None;
    if method.is_write() {
        sim.facts.invalidate();
    }
    let found = find(method, path);
    let route_tpl = found.as_ref().map(|(r, _)| r.path);
    let mut out = Outcome {
        route: route_tpl,
        identity: None,
        result: Ok(Value::Null),
        raw: None,
    };
    let world = found
        .as_ref()
        .is_some_and(|(r, _)| matches!(r.perm, Perm::World));
    let identity = match caller {
        Caller::Identity(id) => id.clone(),
        Caller::Credentials(_) if world => Identity {
            userid: String::new(),
            role: Role::None,
        },
        Caller::Credentials(creds) => match sim.auth.authenticate(creds, method, sim.now) {
            Ok(id) => id,
            Err(e) => {
                out.result = Err(e);
                return out;
            }
        },
    };
    if !identity.userid.is_empty() {
        out.identity = Some(identity.clone());
    }
    let Some((route, path_params)) = found else {
        out.result = Err(ApiError::new(
            501,
            format!("Method '{} {}' not implemented", method.as_str(), path),
        ));
        return out;
    };
    out.result = run_route(sim, &route, path, path_params, raw, identity);
    out.raw = sim.raw_data.take().filter(|_| out.result.is_ok());
    out
}

fn run_route(
    sim: &mut Sim,
    route: &Route,
    path: &str,
    path_params: Vec<(&'static str, String)>,
    raw: RawParams,
    identity: Identity,
) -> Result<Value, ApiError> {
    if identity.is_token() && !route.allow_token {
        return Err(ApiError::new(
            403,
            "Permission check failed - API tokens are not allowed for this call",
        ));
    }
    let duplicates: std::collections::BTreeMap<String, String> = raw
        .0
        .iter()
        .filter(|(k, _)| path_params.iter().any(|(p, _)| p == k))
        .map(|(k, _)| {
            (
                k.clone(),
                "duplicate parameter (already defined in URI)".to_string(),
            )
        })
        .collect();
    if !duplicates.is_empty() {
        return Err(ApiError::params(duplicates));
    }
    let raw_value = |name: &str| -> Option<String> {
        path_params
            .iter()
            .find(|(p, _)| *p == name)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                raw.0
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| params::value_text(v))
            })
    };
    check_perm(sim, route.perm, &identity, &raw_value)?;
    if let Some((_, node)) = path_params.iter().find(|(p, _)| *p == "node")
        && crate::formats::check("pve-node", node).is_ok()
    {
        check_node(sim, node)?;
    }
    let mut all = RawParams(
        path_params
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::String(v.clone())))
            .collect(),
    );
    all.extend(raw);
    let params = params::validate(route.params, &all)?;
    let call = Call {
        method: route.method,
        path: path.to_string(),
        params,
        identity,
    };
    (route.handler)(sim, &call)
}

/// Enforces a route's `Perm`, filling `{param}`s of the ACL path from the call.
fn check_perm(
    sim: &Sim,
    perm: Perm,
    identity: &Identity,
    raw_value: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ApiError> {
    let (path, privs): (String, &[&str]) = match perm {
        Perm::World | Perm::All => return Ok(()),
        Perm::Vm(p) => (format!("/vms/{}", raw_value("vmid").unwrap_or_default()), p),
        Perm::Node(p) => (
            format!("/nodes/{}", raw_value("node").unwrap_or_default()),
            p,
        ),
        Perm::Storage(p) => (
            format!("/storage/{}", raw_value("storage").unwrap_or_default()),
            p,
        ),
        Perm::Root(p) => ("/".to_string(), p),
        Perm::Path(tpl, p) => (fill_template(tpl, raw_value), p),
    };
    if privs.is_empty() || auth::allowed(identity, &path, privs, &sim.cluster) {
        Ok(())
    } else {
        Err(ApiError::forbidden(&path, privs[0]))
    }
}

fn fill_template(tpl: &str, raw_value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = tpl;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + end];
        out.push_str(&raw_value(name).unwrap_or_default());
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// PVE proxies `{node}` calls: an unknown name fails the hostname lookup (500), an offline node
/// refuses the connection (595).
pub fn check_node(sim: &Sim, node: &str) -> Result<(), ApiError> {
    match sim.cluster.nodes.get(node) {
        None => Err(unknown_node(node)),
        Some(n) if !n.online => Err(ApiError::new(595, "Connection refused")),
        Some(_) => Ok(()),
    }
}

/// PVE's answer for a node name that is not in the cluster (the hostname lookup fails).
pub(crate) fn unknown_node(node: &str) -> ApiError {
    ApiError::internal(format!(
        "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
    ))
}

/// The route table, built once.
pub fn table() -> &'static [Route] {
    crate::routes::all()
}

/// Finds the route for `method` and a concrete `path`, with its percent-decoded path
/// parameters. Literal segments win over `{param}` segments.
pub fn find(method: Method, path: &str) -> Option<(Route, Vec<(&'static str, String)>)> {
    let segs = split_path(path)?;
    let mut best: Option<(usize, &Route, Option<Vec<String>>)> = None;
    for route in table().iter().filter(|r| r.method == method) {
        let folded = fold_volume_tail(route.path, &segs);
        if let Some(score) = match_score(route.path, folded.as_deref().unwrap_or(&segs))
            && best.as_ref().is_none_or(|(s, _, _)| score > *s)
        {
            best = Some((score, route, folded));
        }
    }
    let (_, route, folded) = best?;
    let segs = folded.unwrap_or(segs);
    let params = route
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .zip(&segs)
        .filter_map(|(t, v)| {
            t.strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .map(|name| (name, v.clone()))
        })
        .collect();
    Some((*route, params))
}

/// PVE's storage content routes take volume ids holding `/` unencoded (`fragmentDelimiter`):
/// a template ending in `{volume}` takes all remaining segments as that one parameter.
fn fold_volume_tail(template: &str, segs: &[String]) -> Option<Vec<String>> {
    if !template.ends_with("/{volume}") {
        return None;
    }
    let n = template.split('/').filter(|s| !s.is_empty()).count();
    if segs.len() <= n {
        return None;
    }
    let mut out = segs[..n - 1].to_vec();
    out.push(segs[n - 1..].join("/"));
    Some(out)
}

/// Splits and percent-decodes a path; `None` if a segment is not valid UTF-8 once decoded.
fn split_path(path: &str) -> Option<Vec<String>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        })
        .collect()
}

/// Number of literal segments matched, or `None` if the template does not match.
fn match_score(template: &str, segs: &[String]) -> Option<usize> {
    let tsegs: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    if tsegs.len() != segs.len() {
        return None;
    }
    let mut score = 0;
    for (t, s) in tsegs.iter().zip(segs) {
        if t.starts_with('{') && t.ends_with('}') {
            continue;
        }
        if t != s {
            return None;
        }
        score += 1;
    }
    Some(score)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn unknown_path_is_501() {
        let mut sim = Sim::new(crate::state::Cluster::default());
        let e = dispatch(
            &mut sim,
            Method::Get,
            "/nodes/pve1/foo",
            RawParams::new(),
            &Identity::root(),
        )
        .unwrap_err();
        assert_eq!(e.status, 501);
        assert_eq!(e.message, "Method 'GET /nodes/pve1/foo' not implemented");
    }

    #[test]
    fn segments_match() {
        let segs = split_path("/nodes/pve1/tasks/UPID%3Apve1%3A0%3A").unwrap();
        assert_eq!(segs[3], "UPID:pve1:0:");
        assert_eq!(match_score("/nodes/{node}/tasks/{upid}", &segs), Some(2));
        assert_eq!(match_score("/nodes/{node}/tasks", &segs), None);
    }
}
