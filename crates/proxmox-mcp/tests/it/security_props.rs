//! Property tests at the REST door (malformed bodies, random query strings and random tool
//! arguments) and at both MCP transports (malformed and random JSON-RPC, random tool arguments):
//! they never panic the server nor make it answer a 5xx (no fault is injected here, so a 5xx
//! could only be ours), and the server still answers afterwards.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Map, Value};

use crate::support::rest::{KEYS, Rest};

/// Statuses the REST door may answer to anything a caller throws at it.
const EXPECTED: &[u16] = &[200, 400, 401, 403, 404, 405, 409, 413, 422];

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    })
}

/// A JSON value of the kinds agents send: scalars, VMIDs near the seeded ones, odd strings,
/// small arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (95i64..115).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z0-9 _:/.-]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        Just(Value::from("pve1")),
        Just(Value::from("101")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn random_input_never_makes_the_rest_door_fail() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()));
    let admin = KEYS[2].2;
    // Each tool's parameter names (plus one nobody has), from its input schema.
    let tools: Vec<(String, Vec<String>)> = r
        .demo
        .app
        .registry()
        .tools()
        .map(|t| {
            let mut params: Vec<String> = t
                .input_schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            params.push("bogus".into());
            (t.name.to_string(), params)
        })
        .collect();
    let send = |method: Method, path: String, body: Option<Vec<u8>>, key: Option<&str>| {
        let mut req = r.http.request(method, r.url(&path));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        rt.block_on(async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        })
    };

    // 1. Bodies that are not JSON, or JSON of the wrong shape, at every tool.
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "\\PC{0,64}".prop_map(String::into_bytes),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        json_value().prop_map(|v| {
            let s = v.to_string().into_bytes();
            s[..s.len() / 2].to_vec()
        }),
    ];
    runner()
        .run(&(0..tools.len(), body), |(i, body)| {
            let (status, text) = send(
                Method::POST,
                format!("/{}", tools[i].0),
                Some(body.clone()),
                Some(admin),
            );
            prop_assert!(
                EXPECTED.contains(&status),
                "{} {:?}: {status} {text}",
                tools[i].0,
                String::from_utf8_lossy(&body)
            );
            Ok(())
        })
        .unwrap();

    // 2. Random arguments built from each tool's own parameter names.
    let args = (
        0..tools.len(),
        prop::collection::vec((0usize..16, json_value()), 0..5),
    );
    runner()
        .run(&args, |(i, pairs)| {
            let (name, params) = &tools[i];
            let obj: Map<String, Value> = pairs
                .into_iter()
                .map(|(k, v)| (params[k % params.len()].clone(), v))
                .collect();
            let body = Value::Object(obj).to_string();
            let (status, text) = send(
                Method::POST,
                format!("/{name}"),
                Some(body.clone().into_bytes()),
                Some(admin),
            );
            prop_assert!(EXPECTED.contains(&status), "{name} {body}: {status} {text}");
            Ok(())
        })
        .unwrap();

    // 3. Plausible arguments: each parameter present or not, with values that often make sense
    //    (seeded VMIDs, node and storage names, small numbers, confirm flags).
    let plausible = prop_oneof![
        (99i64..112).prop_map(Value::from),
        (1i64..8).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::from("pve1")),
        Just(Value::from("pve2")),
        Just(Value::from("local-lvm")),
        Just(Value::from("uptime")),
        json_value(),
    ];
    let args = (
        0..tools.len(),
        prop::collection::vec(prop::option::weighted(0.7, plausible), 16),
    );
    runner()
        .run(&args, |(i, values)| {
            let (name, params) = &tools[i];
            let obj: Map<String, Value> = params
                .iter()
                .filter(|p| *p != "bogus")
                .zip(values)
                .filter_map(|(p, v)| Some((p.clone(), v?)))
                .collect();
            let body = Value::Object(obj).to_string();
            let (status, text) = send(
                Method::POST,
                format!("/{name}"),
                Some(body.clone().into_bytes()),
                Some(admin),
            );
            prop_assert!(EXPECTED.contains(&status), "{name} {body}: {status} {text}");
            Ok(())
        })
        .unwrap();

    // 4. Random query strings on GET, random paths and random keys.
    let query = (
        0..tools.len(),
        "[ -~]{0,40}",
        prop::option::of("[ -~]{0,20}"),
    );
    runner()
        .run(&query, |(i, q, key)| {
            let q: String = q.chars().filter(|c| !matches!(c, '#' | ' ')).collect();
            let (status, text) = send(
                Method::GET,
                format!("/{}?{q}", tools[i].0),
                None,
                key.as_deref()
                    .or(Some(admin))
                    .filter(|k| !k.is_empty() && !k.contains(' ')),
            );
            prop_assert!(
                EXPECTED.contains(&status),
                "{} ?{q}: {status} {text}",
                tools[i].0
            );
            Ok(())
        })
        .unwrap();

    // The server still answers, and correctly.
    let (status, _) = send(Method::GET, "/openapi.json".into(), None, None);
    assert_eq!(status, 200);
    let (status, text) = send(
        Method::POST,
        "/get_nodes".into(),
        Some(b"{}".to_vec()),
        Some(admin),
    );
    assert_eq!(status, 200, "{text}");
    assert!(serde_json::from_str::<Value>(&text).unwrap().is_object());
}

/// Statuses the MCP door may answer to anything a caller throws at it.
const MCP_EXPECTED: &[u16] = &[200, 202, 400, 401, 404, 405, 406, 413, 415, 422];

/// A JSON-RPC message of the shapes MCP clients send, with random parts: known and unknown
/// methods, random ids and params, `tools/call` of real tools with random arguments.
fn json_rpc(tools: Vec<String>) -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        Just("initialize".to_string()),
        Just("ping".to_string()),
        Just("tools/list".to_string()),
        Just("tools/call".to_string()),
        Just("resources/list".to_string()),
        Just("notifications/cancelled".to_string()),
        Just("notifications/initialized".to_string()),
        "[a-z/_]{0,16}",
    ];
    let id = prop_oneof![
        Just(None),
        any::<i64>().prop_map(|i| Some(Value::from(i))),
        "[a-z0-9-]{0,8}".prop_map(|s| Some(Value::from(s))),
        json_value().prop_map(Some),
    ];
    let call = |tools: Vec<String>| {
        (prop::sample::select(tools), json_value()).prop_map(|(name, args)| {
            let mut p = Map::new();
            p.insert("name".into(), Value::from(name));
            p.insert("arguments".into(), args);
            Value::Object(p)
        })
    };
    let params = prop_oneof![json_value(), call(tools.clone())];
    let v2 = prop::bool::weighted(0.9);
    let any_message = (method, id, prop::option::of(params), v2);
    // Half of them: a well-formed `tools/call` of a real tool with random arguments.
    let tool_call = (1i64..1000, call(tools)).prop_map(|(id, call)| {
        (
            "tools/call".to_string(),
            Some(Value::from(id)),
            Some(call),
            true,
        )
    });
    prop_oneof![any_message, tool_call].prop_map(|(method, id, params, v2)| {
        let mut m = Map::new();
        m.insert(
            "jsonrpc".into(),
            Value::from(if v2 { "2.0" } else { "1.0" }),
        );
        m.insert("method".into(), Value::from(method));
        if let Some(id) = id {
            m.insert("id".into(), id);
        }
        if let Some(p) = params {
            m.insert("params".into(), p);
        }
        Value::Object(m)
    })
}

#[test]
fn random_json_rpc_never_makes_the_mcp_doors_fail() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let door = rt.block_on(crate::support::door::Door::with_keys());
    let admin = KEYS[2].2;
    let tools: Vec<String> = door
        .demo
        .app
        .registry()
        .tools()
        .map(|t| t.name.to_string())
        .chain(["no_such_tool".to_string()])
        .collect();
    let sid = rt.block_on(door.session(admin));
    let legacy = rt.block_on(door.legacy(admin));
    let body = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Raw),
        1 => "\\PC{0,64}".prop_map(|s| Body::Raw(s.into_bytes())),
        1 => json_value().prop_map(|v| Body::Raw(v.to_string().into_bytes())),
        6 => json_rpc(tools.clone()).prop_map(Body::Json),
        1 => json_rpc(tools).prop_map(|v| {
            let s = v.to_string().into_bytes();
            Body::Raw(s[..s.len() / 2].to_vec())
        }),
    ];
    // Where: 0 Streamable HTTP without a session, 1 with the live session, 2 the legacy
    // session's POST URL; and with the admin key or a random one.
    let target = (0u8..3, prop::option::weighted(0.9, Just(admin)));
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(target, body), |((to, key), body)| {
            let bytes = match &body {
                Body::Raw(b) => b.clone(),
                Body::Json(v) => v.to_string().into_bytes(),
            };
            let mut req = match to {
                2 => door.http.post(&legacy.endpoint),
                _ => door
                    .request(Method::POST, "/proxmox/mcp", None)
                    .header("content-type", "application/json"),
            };
            if to == 1 {
                req = req
                    .header("mcp-session-id", &sid)
                    .header("mcp-protocol-version", "2025-06-18");
            }
            req = req.bearer_auth(key.unwrap_or("not-a-key"));
            let (status, text) = rt.block_on(async move {
                let resp = req.body(bytes).send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.text().await.unwrap_or_default())
            });
            prop_assert!(
                MCP_EXPECTED.contains(&status),
                "to {to}: {body:?}: {status} {text}"
            );
            Ok(())
        })
        .unwrap();

    // Both transports still answer, correctly.
    rt.block_on(async {
        // Every tool but the toolset tools (served with dynamic toolsets only).
        let all = proxmox_mcp::builtin_tools()
            .unwrap()
            .tools()
            .filter(|t| t.toolset != "dynamic")
            .count();
        let client = door.client(admin).await;
        assert_eq!(client.list_all_tools().await.unwrap().len(), all);
        let mut legacy = door.legacy(admin).await;
        assert_eq!(legacy.tool_names().await.len(), all);
    });
}

/// A body to send: raw bytes, or a JSON-RPC message (shown as JSON when a case fails).
#[derive(Debug, Clone)]
enum Body {
    Raw(Vec<u8>),
    Json(Value),
}
