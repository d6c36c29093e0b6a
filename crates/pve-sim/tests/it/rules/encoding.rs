//! Parameters decoded as pveproxy decodes them, each encoding tried on the routes that take
//! it: a list given as repeated form keys (joined with NUL, split again by the `-list` format),
//! booleans as `1`/`0` only (JSON `true`/`false` in a JSON body), numbers as strings or JSON
//! numbers, JSON and form bodies alike, query strings on GET and DELETE (and on POST, where
//! they win over the body).

use serde_json::json;

use super::{errors, path_params, path_with, required, schema_params, send};
use crate::samples::values::prepare;
use crate::support::{Auth, start, values};

/// Every `-list` parameter takes its valid sample split over repeated keys.
#[tokio::test]
async fn repeated_keys_are_lists() {
    let sim = start().await;
    let ctx = prepare(&sim).await;
    let auth = Auth::token();
    let mut problems = Vec::new();
    let mut tried = 0;
    for route in pve_sim::routes::all() {
        let Ok(base) = required(route) else { continue };
        let pp = path_params(route);
        for (name, prop) in schema_params(route) {
            let Some(format) = prop["format"].as_str().filter(|f| f.ends_with("-list")) else {
                continue;
            };
            if pp.contains(&name.as_str()) {
                continue;
            }
            let Some((good, _)) = values::format_samples(format) else {
                continue;
            };
            let parts: Vec<&str> = good
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            if parts.len() < 2 {
                continue;
            }
            tried += 1;
            // The other required parameters plus this one twice, and a broken one so that
            // nothing runs: only the broken one may be refused.
            let mut pairs: Vec<(String, String)> = base
                .iter()
                .filter(|(k, _)| **k != name)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            pairs.extend(parts.iter().map(|p| (name.clone(), (*p).to_string())));
            pairs.push(("zz-not-a-parameter".into(), "1".into()));
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let path = path_with(route, &ctx, None);
            let r = sim.call(route.method.as_str(), &path, &auth, &refs).await;
            let errs = errors(&r);
            if errs.contains_key(&name) {
                problems.push(format!(
                    "{} {} {name} as repeated keys: {}",
                    route.method.as_str(),
                    route.path,
                    errs[&name]
                ));
            }
        }
    }
    assert!(tried > 20, "only {tried} list parameters tried");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every boolean parameter refuses `true`/`yes` in a form or query (the API takes `1`/`0`).
#[tokio::test]
async fn booleans_are_one_or_zero() {
    let sim = start().await;
    let ctx = prepare(&sim).await;
    let auth = Auth::token();
    let mut problems = Vec::new();
    let mut tried = 0;
    for route in pve_sim::routes::all() {
        let Ok(base) = required(route) else { continue };
        for (name, prop) in schema_params(route) {
            if prop["type"] != "boolean" {
                continue;
            }
            tried += 1;
            let key = values::concrete(&name);
            for word in ["true", "yes"] {
                let mut params = base.clone();
                params.insert(key.clone(), word.into());
                let path = path_with(route, &ctx, None);
                let r = send(&sim, &auth, route.method, &path, &params).await;
                let want = format!("type check ('boolean') failed - got '{word}'");
                if r.status != 400 || errors(&r).get(&key) != Some(&want) {
                    problems.push(format!(
                        "{} {} {key}={word}: {} {:?}",
                        route.method.as_str(),
                        route.path,
                        r.status,
                        errors(&r)
                    ));
                }
            }
        }
    }
    assert!(tried > 100, "only {tried} boolean parameters tried");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A JSON body and a form body make the same change; JSON numbers, numbers as strings and
/// JSON booleans are all taken; a JSON array is a list for a `-list` parameter.
#[tokio::test]
async fn json_and_form_bodies_agree() {
    let sim = start().await;
    let path = "/nodes/pve01/qemu/101/config";
    let auth = Auth::token();
    let r = sim
        .call(
            "PUT",
            path,
            &auth,
            &[
                ("cores", "3"),
                ("onboot", "1"),
                ("cpulimit", "1.5"),
                ("tags", "a;b"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let form = sim.get(path, &[]).await.data().clone();
    let r = sim
        .call_json(
            "PUT",
            path,
            &auth,
            &json!({"cores": 3, "onboot": true, "cpulimit": "1.5", "tags": ["a", "b"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let by_json = sim.get(path, &[]).await.data().clone();
    for key in ["cores", "onboot", "cpulimit", "tags"] {
        assert_eq!(form[key], by_json[key], "{key}");
    }
    assert_eq!(by_json["cores"], 3);
    assert_eq!(by_json["onboot"], 1);
    assert_eq!(by_json["tags"], "a;b");
    let r = sim
        .call_json("PUT", path, &auth, &json!({"cores": "three"}))
        .await;
    assert_eq!(
        r.error("cores"),
        "type check ('integer') failed - got 'three'"
    );
    let r = sim
        .call_json("PUT", path, &auth, &json!({"delete": ["tags", "cpulimit"]}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let after = sim.get(path, &[]).await;
    assert!(after.data().get("tags").is_none() && after.data().get("cpulimit").is_none());
}

/// GET and DELETE take their parameters from the query string; on POST a query key wins
/// over the same key in the body.
#[tokio::test]
async fn query_strings_on_get_delete_and_post() {
    let sim = start().await;
    let auth = Auth::token();
    let vms = sim.get("/cluster/resources", &[("type", "vm")]).await;
    assert!(
        vms.data()
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] == "qemu" || e["type"] == "lxc")
    );
    // DELETE with its options in the query: destroy VM 103 and purge it.
    let r = sim
        .call("DELETE", "/nodes/pve01/qemu/103", &auth, &[("purge", "1")])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    sim.server.advance(3600.0);
    let gone = sim.get("/nodes/pve01/qemu/103/config", &[]).await;
    assert_eq!(gone.status, 500);
    // POST: the body says one thing, the query another; the query wins.
    let r = sim
        .call_raw(
            "PUT",
            "/nodes/pve01/qemu/101/config?cores=5",
            &auth,
            "application/x-www-form-urlencoded",
            "cores=2&sockets=1".into(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let config = sim.get("/nodes/pve01/qemu/101/config", &[]).await;
    assert_eq!(config.data()["cores"], 5);
    // A body on GET is not read.
    let r = sim
        .call_raw(
            "GET",
            "/cluster/resources?type=node",
            &auth,
            "application/x-www-form-urlencoded",
            "type=storage".into(),
        )
        .await;
    assert!(
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] == "node")
    );
}
