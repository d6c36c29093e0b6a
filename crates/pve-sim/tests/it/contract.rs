//! The route table against the official schema: every route exists there with the same method,
//! every parameter it accepts is declared with the same name, type and optional flag, tokens
//! are allowed where the schema allows them, and (in `samples`) responses validate against the
//! schema's `returns`.

use pve_sim::route::{ParamType, Perm};
use serde_json::Value;

use crate::support::schema;

#[test]
fn every_route_exists_in_the_schema() {
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in pve_sim::routes::all() {
        if !seen.insert((r.method, r.path)) {
            problems.push(format!("{} {}: declared twice", r.method.as_str(), r.path));
        }
        let Some(m) = schema::method(r.method.as_str(), r.path) else {
            problems.push(format!(
                "{} {}: not in the schema",
                r.method.as_str(),
                r.path
            ));
            continue;
        };
        let allowtoken = m["allowtoken"] == 1;
        if allowtoken != r.allow_token {
            problems.push(format!(
                "{} {}: allow_token {} but schema allowtoken {}",
                r.method.as_str(),
                r.path,
                r.allow_token,
                m["allowtoken"]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_parameter_matches_the_schema() {
    let mut problems = Vec::new();
    for r in pve_sim::routes::all() {
        let Some(m) = schema::method(r.method.as_str(), r.path) else {
            continue;
        };
        let props = schema::params(m);
        let what = format!("{} {}", r.method.as_str(), r.path);
        for spec in r.params {
            let Some(prop) = props.get(spec.name) else {
                problems.push(format!(
                    "{what}: parameter '{}' not in the schema",
                    spec.name
                ));
                continue;
            };
            let want = prop["type"].as_str().unwrap_or("?");
            let have = match spec.ty {
                ParamType::Integer { .. } => "integer",
                ParamType::Number { .. } => "number",
                ParamType::Boolean => "boolean",
                ParamType::String { .. } => "string",
                ParamType::Array => "array",
            };
            if want != have {
                problems.push(format!(
                    "{what}: '{}' is {have}, schema says {want}",
                    spec.name
                ));
            }
            if schema::optional(prop) != spec.optional {
                problems.push(format!(
                    "{what}: '{}' optional={}, schema optional={}",
                    spec.name,
                    spec.optional,
                    schema::optional(prop)
                ));
            }
            if let ParamType::String {
                values: Some(values),
                ..
            } = spec.ty
                && let Some(schema_enum) = prop["enum"].as_array()
            {
                let theirs: Vec<&str> = schema_enum.iter().filter_map(Value::as_str).collect();
                if values.iter().any(|v| !theirs.contains(v)) {
                    problems.push(format!(
                        "{what}: '{}' enum {values:?} not within schema's {theirs:?}",
                        spec.name
                    ));
                }
            }
        }
        // Path parameters must be declared by the route.
        for seg in r.path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_start_matches('{').trim_end_matches('}');
            if !r.params.iter().any(|p| p.name == name) {
                problems.push(format!("{what}: path parameter '{name}' not declared"));
            }
        }
        // Required schema parameters must be accepted.
        for (name, prop) in &props {
            if !schema::optional(prop) && !r.params.iter().any(|p| p.name == name) {
                problems.push(format!(
                    "{what}: required schema parameter '{name}' not accepted"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn permissions_point_at_the_schema_path() {
    let mut problems = Vec::new();
    for r in pve_sim::routes::all() {
        let Some(m) = schema::method(r.method.as_str(), r.path) else {
            continue;
        };
        let perms = &m["permissions"];
        let check = &perms["check"];
        let schema_path = (check[0] == "perm").then(|| check[1].as_str().unwrap_or(""));
        let ours = match r.perm {
            Perm::World => {
                if perms["user"] != "world" {
                    problems.push(format!(
                        "{} {}: World but schema says {perms}",
                        r.method.as_str(),
                        r.path
                    ));
                }
                continue;
            }
            Perm::All => continue,
            Perm::Vm(_) => "/vms/{vmid}",
            Perm::Node(_) => "/nodes/{node}",
            Perm::Storage(_) => "/storage/{storage}",
            Perm::Root(_) => "/",
            Perm::Path(p, _) => p,
        };
        if let Some(sp) = schema_path
            && sp != ours
        {
            problems.push(format!(
                "{} {}: perm path {ours}, schema {sp}",
                r.method.as_str(),
                r.path
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
