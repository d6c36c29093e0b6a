//! PVE verifies every parameter against the route's schema before its handler runs: for every
//! served route and every parameter the schema constrains (type, range, length, enumeration,
//! named format, pattern, property string), an invalid value on an existing object is a 400
//! whose `errors` map names that parameter and nothing else. Numbered families are accepted
//! up to PVE's highest index and refused one past it.

use std::collections::BTreeMap;

use super::{errors, path_params, path_with, required, schema_params, send};
use crate::samples::values::prepare;
use crate::support::{Auth, start, values};

#[tokio::test]
async fn every_constrained_parameter_is_checked_before_the_handler() {
    let sim = start().await;
    let ctx = prepare(&sim).await;
    let auth = Auth::token();
    let mut problems = Vec::new();
    let mut checked = 0;
    for route in pve_sim::routes::all() {
        let base = match required(route) {
            Ok(b) => b,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let props = schema_params(route);
        let pp = path_params(route);
        for (name, prop) in &props {
            let Some((bad, why)) = values::invalid(prop) else {
                continue;
            };
            let key = values::concrete(name);
            let mut params = base.clone();
            let path = if pp.contains(&name.as_str()) {
                path_with(route, &ctx, Some((name, &bad)))
            } else {
                params.insert(key.clone(), bad.clone());
                if let Some(r) = prop["requires"].as_str()
                    && let Some(v) = props.get(r).and_then(values::valid)
                {
                    params.entry(r.to_string()).or_insert(v);
                }
                path_with(route, &ctx, None)
            };
            checked += 1;
            let r = send(&sim, &auth, route.method, &path, &params).await;
            let errs = errors(&r);
            let what = format!(
                "{} {} {key}={bad:?} ({why})",
                route.method.as_str(),
                route.path
            );
            if r.status != 400 {
                problems.push(format!(
                    "{what}: status {} {}",
                    r.status,
                    r.message().trim_end()
                ));
            } else if !errs.contains_key(&key) || errs.len() != 1 {
                problems.push(format!("{what}: errors {errs:?}"));
            }
        }
    }
    assert!(checked > 800, "only {checked} parameters checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn numbered_families_end_where_pve_ends_them() {
    let sim = start().await;
    let ctx = prepare(&sim).await;
    let auth = Auth::token();
    let mut problems = Vec::new();
    let mut families = 0;
    for route in pve_sim::routes::all() {
        let Ok(base) = required(route) else {
            continue;
        };
        for (name, prop) in schema_params(route) {
            let Some(prefix) = name.strip_suffix("[n]") else {
                continue;
            };
            let Some((_, max)) = values::FAMILIES.iter().find(|(p, _)| *p == prefix) else {
                problems.push(format!("{}: no family size for {name}", route.path));
                continue;
            };
            let Some(good) = values::valid(&prop) else {
                continue;
            };
            families += 1;
            let (last, past) = (format!("{prefix}{max}"), format!("{prefix}{}", max + 1));
            let mut params: BTreeMap<String, String> = base.clone();
            params.insert(last.clone(), good.clone());
            params.insert(past.clone(), good);
            let path = path_with(route, &ctx, None);
            let r = send(&sim, &auth, route.method, &path, &params).await;
            let errs = errors(&r);
            let what = format!("{} {} {name}", route.method.as_str(), route.path);
            if r.status != 400 || !errs.get(&past).is_some_and(|e| e.contains("not defined")) {
                problems.push(format!("{what}: {past} accepted ({} {errs:?})", r.status));
            }
            if errs.contains_key(&last) {
                problems.push(format!("{what}: {last} refused: {errs:?}"));
            }
        }
    }
    assert!(families > 30, "only {families} families checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// PVE's order of checks on one example: an invalid `memory` on an existing VMID is a 400
/// naming `memory`, not "already exists".
#[tokio::test]
async fn validation_comes_before_existence_checks() {
    let sim = start().await;
    let r = sim
        .post("/nodes/pve01/qemu", &[("vmid", "100"), ("memory", "lots")])
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.error("memory")
            .starts_with("invalid format - format error"),
        "{:?}",
        r.body
    );
    let r = sim.post("/nodes/pve01/qemu", &[("vmid", "100")]).await;
    assert_eq!(r.status, 500);
    assert!(r.message().contains("already exists"));
}
