//! The REST door reading a tool's arguments: a query string (`GET /<tool>?...`) coerced by the
//! tool's input schema, and a body (`POST /<tool>`) with its `Content-Type`. Literal inputs are a
//! query string; generated ones pick a built-in tool, a content type and a body. Properties: no
//! panic; query arguments are an object whose keys all come from the query, an integer
//! parameter holds a number or the text as given (for the tool to refuse by name), a key given
//! twice for a parameter that is no array is refused naming it; a body is read as exactly its
//! JSON, whitespace as no arguments, anything else refused with 415 (no JSON type) or 422.

#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use proxmox_mcp::fuzzing::{rest_body, rest_query};
use proxmox_mcp::{ToolSpec, builtin_tools};
use proxmox_mcp_fuzz::{Input, input};
use serde_json::{Map, Value};

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("APPLICATION/JSON"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("application/jsonx"),
    Some(""),
    None,
];

fn tools() -> &'static [ToolSpec] {
    static TOOLS: OnceLock<Vec<ToolSpec>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        builtin_tools()
            .map(|r| r.tools().cloned().collect())
            .unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    let tools = tools();
    assert!(!tools.is_empty(), "the built-in tools load");
    match input(data) {
        Input::Literal(bytes) => {
            let query = String::from_utf8_lossy(bytes);
            for tool in tools.iter().take(3) {
                check_query(&query, &tool.input_schema);
            }
        }
        Input::Generated(mut u) => {
            let _ = generated(&mut u, tools);
        }
    }
});

fn generated(u: &mut Unstructured<'_>, tools: &[ToolSpec]) -> arbitrary::Result<()> {
    let tool = u.choose(tools)?;
    let query = String::arbitrary(u)?;
    check_query(&query, &tool.input_schema);
    let content_type = *u.choose(CONTENT_TYPES)?;
    let body = <&[u8]>::arbitrary(u)?;
    check_body(content_type, body);
    Ok(())
}

fn check_query(query: &str, schema: &Map<String, Value>) {
    let given: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let props = schema.get("properties").and_then(Value::as_object);
    let type_of = |key: &str| {
        props
            .and_then(|p| p.get(key))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
    };
    match rest_query(query, schema) {
        Ok(Value::Object(args)) => {
            for (key, value) in &args {
                assert!(
                    given.iter().any(|(k, _)| k == key),
                    "{key} not in {query:?}"
                );
                if type_of(key) == Some("integer") {
                    assert!(
                        value.is_i64() || value.is_u64() || value.is_string(),
                        "{key}: {value}"
                    );
                }
            }
            for (key, _) in &given {
                assert!(args.contains_key(key), "{key} of {query:?} lost");
            }
        }
        Ok(other) => panic!("query arguments are not an object: {other}"),
        Err((status, _, message, param)) => {
            assert_eq!(status, 422, "{message}");
            let param =
                param.unwrap_or_else(|| panic!("a query refusal names the parameter: {message}"));
            assert!(
                given.iter().filter(|(k, _)| *k == param).count() > 1,
                "{message}"
            );
            assert_ne!(type_of(&param), Some("array"), "{message}");
        }
    }
}

fn check_body(content_type: Option<&str>, body: &[u8]) {
    match rest_body(content_type, body) {
        Ok(Value::Null) if body.iter().all(u8::is_ascii_whitespace) => {}
        Ok(args) => {
            let json: Value = serde_json::from_slice(body).expect("accepted bodies are JSON");
            assert_eq!(args, json);
        }
        Err((status, kind, message, _)) => {
            let is_json_type = content_type.is_some_and(|t| {
                t.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
            if is_json_type {
                assert_eq!((status, kind), (422, "malformed_json"), "{message}");
                assert!(serde_json::from_slice::<Value>(body).is_err(), "{message}");
            } else {
                assert_eq!((status, kind), (415, "unsupported_media_type"), "{message}");
            }
        }
    }
}
