//! The checks a POST body passes before either transport reads it as one JSON-RPC message, and
//! the answers when it does not, as the Streamable HTTP transport specification asks: HTTP 400
//! with a JSON-RPC error without an id: `-32700` (parse error) for a body that is not JSON,
//! `-32600` (invalid request) for a batch (an array; batches left the protocol in 2025-06-18) or
//! anything else that is not a JSON-RPC message (a request's parameters are the handler's to
//! judge). A POST whose `Content-Type` is not `application/json` is a 415.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};

/// JSON-RPC error codes used here.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// The 400 answer when `body` is not one JSON-RPC message a client may send.
pub(crate) fn message_refusal(body: &[u8]) -> Option<Response> {
    classify(body)
        .err()
        .map(|(code, message, id)| error(code, &message, id))
}

/// `body` as the one JSON-RPC message a client sent (after [`message_refusal`] let it through).
pub(crate) fn parse_message(body: &[u8]) -> Result<ClientJsonRpcMessage, serde_json::Error> {
    serde_json::from_slice(body)
}

/// What is wrong with `body`: the JSON-RPC error code, message and id to answer.
fn classify(body: &[u8]) -> Result<(), (i64, String, Value)> {
    let error = |code, message: &str, id| (code, message.to_string(), id);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| error(PARSE_ERROR, &format!("Parse error: {e}"), Value::Null))?;
    let Value::Object(object) = &value else {
        let message = if value.is_array() {
            "Invalid Request: JSON-RPC batches are not supported; send one message per request"
        } else {
            "Invalid Request: a JSON-RPC message is a JSON object"
        };
        return Err(error(INVALID_REQUEST, message, Value::Null));
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(error(
            INVALID_REQUEST,
            "Invalid Request: `jsonrpc` must be \"2.0\"",
            Value::Null,
        ));
    }
    let has_method = object.get("method").is_some_and(Value::is_string);
    let is_answer = object.contains_key("result") || object.contains_key("error");
    if !has_method && !is_answer {
        return Err(error(
            INVALID_REQUEST,
            "Invalid Request: a message needs a `method` (request, notification) or a `result` or \
             `error` (response)",
            Value::Null,
        ));
    }
    // Read from the bytes, as the doors read the message after this check (`parse_message`):
    // the check and the doors then agree, even on a body that names a member twice, which a
    // `Value` keeps once and a message refuses.
    parse_message(body).map(drop).map_err(|e| {
        error(
            INVALID_REQUEST,
            &format!("Invalid Request: {e}"),
            Value::Null,
        )
    })
}

/// The 415 answer when a POST does not carry `Content-Type: application/json` (parameters
/// aside).
pub(crate) fn content_type_refusal(headers: &HeaderMap) -> Option<Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    (!json).then(|| {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        )
            .into_response()
    })
}

/// A 400 with a JSON-RPC error.
fn error(code: i64, message: &str, id: Value) -> Response {
    tracing::debug!(
        code,
        message,
        "refused a POST body that is not one JSON-RPC message"
    );
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_sorted_by_what_is_wrong() {
        // (body, expected JSON-RPC code, or 0 when accepted)
        let cases: &[(&str, i64)] = &[
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, 0),
            (r#"{"jsonrpc":"2.0","id":1,"method":"no/such"}"#, 0),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                0,
            ),
            (r#"{"jsonrpc":"2.0","id":1,"result":{}}"#, 0),
            ("{", PARSE_ERROR),
            ("", PARSE_ERROR),
            (
                r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
                INVALID_REQUEST,
            ),
            ("null", INVALID_REQUEST),
            (r#"{"id":1,"method":"ping"}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":1}"#, INVALID_REQUEST),
            (
                r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#,
                INVALID_REQUEST,
            ),
            // Found by the `mcp_post` fuzz target: a member named twice passed this check (read
            // as a `Value`, the last one wins) and the legacy SSE door then refused the body
            // with a plain-text 400; it is now a JSON-RPC error here, for both doors.
            (
                r#"{"id":1,"jsonrpc":"2.0","method":"initialize","method":"i048"}"#,
                INVALID_REQUEST,
            ),
        ];
        for (body, want) in cases {
            let got = classify(body.as_bytes()).map_or_else(|(code, _, _)| code, |()| 0);
            assert_eq!(got, *want, "{body}");
            let status = message_refusal(body.as_bytes()).map_or(StatusCode::OK, |r| r.status());
            let want_status = if *want == 0 {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(status, want_status, "{body}");
        }
    }
}
