//! The route table against the official schema, route by route: every route exists there with
//! the same method and token rule; its declared parameters are exactly the schema's (names,
//! optional flags, types, ranges, lengths, enumerations, formats, patterns, `requires`, and
//! the keys of every inline property string); its permission points at the schema's ACL path.
//! A mismatch prints the schema's own line in the declaration syntax of `params/decl/`.

use std::collections::BTreeMap;

use crate::support::schema;
use pve_sim::route::{Format, Perm, Route};

fn what(r: &Route) -> String {
    format!("{} {}", r.method.as_str(), r.path)
}

#[test]
fn the_declarations_parse() {
    let errors = pve_sim::route::declaration_errors();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn every_route_exists_in_the_schema() {
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in pve_sim::routes::all() {
        if !seen.insert((r.method, r.path)) {
            problems.push(format!("{}: declared twice", what(r)));
        }
        let Some(m) = schema::method(r.method.as_str(), r.path) else {
            problems.push(format!("{}: not in the schema", what(r)));
            continue;
        };
        let allowtoken = m["allowtoken"] == 1;
        if allowtoken != r.allow_token {
            problems.push(format!(
                "{}: allow_token {} but schema allowtoken {}",
                what(r),
                r.allow_token,
                m["allowtoken"]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The simulator's declaration of a parameter, in the test's comparable form: inline property
/// strings as ` props` (their keys compared apart).
fn sim_line(spec: &pve_sim::route::ParamSpec) -> String {
    let line = spec.to_string();
    match spec.ty.str_spec().and_then(|s| s.format) {
        Some(Format::Props(p)) => line.replace(&format!(" props={}", p.name), " props"),
        _ => line,
    }
}

#[test]
fn every_parameter_matches_the_schema() {
    let mut problems = Vec::new();
    for r in pve_sim::routes::all() {
        let Some(m) = schema::method(r.method.as_str(), r.path) else {
            continue;
        };
        let props = schema::params(m);
        let ours: BTreeMap<&str, _> = r.params.iter().map(|p| (p.name, p)).collect();
        for (name, prop) in &props {
            let want = schema::decl_line(name, prop);
            let Some(spec) = ours.get(name.as_str()) else {
                problems.push(format!("{}: missing  {want}", what(r)));
                continue;
            };
            let have = sim_line(spec);
            if have != want {
                problems.push(format!("{}:\n  have {have}\n  want {want}", what(r)));
            }
            if let (Some(Format::Props(p)), Some(_)) = (
                spec.ty.str_spec().and_then(|s| s.format),
                prop["format"].as_object(),
            ) {
                let mut keys: Vec<String> = p.keys.iter().map(ToString::to_string).collect();
                keys.sort();
                let want = schema::prop_lines(&prop["format"]);
                if keys != want {
                    problems.push(format!(
                        "{} {name} (props {}):\n  have {keys:#?}\n  want {want:#?}",
                        what(r),
                        p.name
                    ));
                }
            }
        }
        for name in ours.keys() {
            if !props.contains_key(*name) {
                problems.push(format!("{}: '{name}' is not in the schema", what(r)));
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
                    problems.push(format!("{}: World but schema says {perms}", what(r)));
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
            problems.push(format!("{}: perm path {ours}, schema {sp}", what(r)));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
