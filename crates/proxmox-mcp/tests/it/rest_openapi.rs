//! The OpenAPI document: committed as `docs/openapi.json` and current (`UPDATE_SNAPSHOTS=1`
//! rewrites it), derived from the registry, valid OpenAPI 3.1 references, served as committed.
//! The docs page: served from the binary, referring to nothing outside the server.

use std::collections::BTreeSet;
use std::path::Path;

use proxmox_mcp::{openapi_document, render_openapi};
use reqwest::Method;
use serde_json::Value;

use crate::support::rest::Rest;

fn committed_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn openapi_json_is_generated_from_the_registry() {
    let want = render_openapi(&proxmox_mcp::builtin_tools().unwrap());
    let path = committed_path();
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: run `UPDATE_SNAPSHOTS=1 cargo test -p proxmox-mcp --test it rest_openapi` and commit it",
        path.display()
    );
}

#[test]
fn every_tool_is_an_operation_with_its_schemas_and_annotations() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    let doc = openapi_document(&r);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    // The toolset tools of dynamic toolsets are MCP only.
    let rest = || r.tools().filter(|t| t.toolset != "dynamic");
    assert_eq!(paths.len(), rest().count());
    assert!(rest().count() < r.len());
    let mut ids = BTreeSet::new();
    for (i, t) in rest().enumerate() {
        let item = &paths[&format!("/{}", t.name)];
        let post = &item["post"];
        assert_eq!(post["operationId"], t.name);
        assert_eq!(post["tags"][0], t.toolset);
        assert_eq!(post["description"], t.description);
        assert_eq!(post["x-mcp-access"], t.access.as_str());
        assert_eq!(post["x-read-only-hint"], t.access.read_only_hint());
        assert_eq!(post["x-destructive-hint"], t.access.destructive_hint());
        assert_eq!(post["x-idempotent-hint"], t.idempotent_hint());
        assert_eq!(post["x-mcp-order"], i);
        // The tool's input schema, with unknown parameters refused.
        let mut input = (*t.input_schema).clone();
        input.insert("additionalProperties".into(), Value::Bool(false));
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"],
            Value::Object(input)
        );
        assert_eq!(
            post["responses"]["200"]["content"]["application/json"]["schema"],
            Value::Object((*t.output_schema).clone())
        );
        for code in ["401", "403", "404", "409", "422", "500", "502", "504"] {
            assert!(
                post["responses"][code]["$ref"].is_string(),
                "{} {code}",
                t.name
            );
        }
        // GET only for read tools, with one query parameter per property.
        assert_eq!(
            item.get("get").is_some(),
            t.access.read_only_hint(),
            "{}",
            t.name
        );
        if let Some(get) = item.get("get") {
            let params = get["parameters"].as_array().unwrap();
            assert_eq!(
                params.len(),
                t.input_schema["properties"].as_object().unwrap().len()
            );
            assert!(params.iter().all(|p| p["in"] == "query"));
            ids.insert(get["operationId"].as_str().unwrap().to_string());
        }
        assert!(
            ids.insert(t.name.to_string()),
            "duplicate operationId {}",
            t.name
        );
    }
    assert_eq!(paths["/get_vms"]["post"]["summary"], "Get Vms");
    // Every $ref points inside the document; no $defs or $schema left in place.
    let text = doc.to_string();
    assert!(!text.contains("\"$defs\"") && !text.contains("\"$schema\""));
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let ptr = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(ptr).is_some(), "dangling $ref {r}");
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_served_document_is_the_committed_one_and_the_docs_page_is_offline() {
    let r = Rest::start().await;
    let resp = r.http.get(r.url("/openapi.json")).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served = resp.text().await.unwrap();
    assert_eq!(served, render_openapi(r.demo.app.registry()));

    let page = r.http.get(r.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("docs/docs.js") && html.contains("docs/docs.css"));
    for (path, kind) in [
        ("/docs/docs.js", "text/javascript"),
        ("/docs/docs.css", "text/css"),
    ] {
        let resp = r.http.get(r.url(path)).send().await.unwrap();
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let body = resp.text().await.unwrap();
        assert!(body.len() > 500, "{path}");
        for text in [&html, &body] {
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
                "{path}: the docs page must not load anything from elsewhere"
            );
        }
    }
    // The root leads to the docs page.
    let (status, _, _) = r.send(Method::GET, "/", None, None).await;
    assert_eq!(status, 200, "GET / follows the redirect to /docs");
}
