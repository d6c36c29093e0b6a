//! The REST handlers: one generic `/<tool>` handler for every tool of the registry (POST with a
//! JSON body; GET with a query string for read tools), the OpenAPI document and the 404 fallback.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::RestState;
use super::error::RestError;
use super::{openapi, query};
use crate::auth::{AuthError, Identity};
use crate::caller::Caller;
use crate::config::MAX_BODY_BYTES;
use crate::error::ToolError;
use crate::registry::{Access, NoProgress, Refused, Scope};

/// `POST /<tool>` (JSON body = arguments; empty or `null` = `{}`) and, for read tools,
/// `GET /<tool>?param=value`. Answers the tool's output as JSON, or a [`RestError`].
pub(super) async fn call_tool(
    State(st): State<Arc<RestState>>,
    tool: &'static str,
    req: Request,
) -> Response {
    match call(&st, tool, req).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn call(st: &RestState, tool: &str, req: Request) -> Result<Value, RestError> {
    // The gate stored it; without one (a router built without the gate) nothing is allowed.
    let identity = req.extensions().get::<Identity>().cloned().ok_or_else(|| {
        RestError::from(ToolError::Internal("the request has no identity".into()))
    })?;
    let caller = Caller {
        transport: "rest",
        key: identity.key,
        toolsets: None,
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let registry = st.host.registry();
    // Read before the admission, so that a refusal's audit line shows what was asked; their
    // errors count only once the call is admitted.
    let args = match registry.get(tool) {
        Some(spec) if method != Method::POST => {
            query::to_args(req.uri().query(), &spec.input_schema)
        }
        _ => body_args(req).await,
    };
    let admitted = st.host.admit(
        &caller,
        identity.scope,
        &st.gate.rate,
        tool,
        args.as_ref().ok(),
    );
    let spec = match admitted {
        Ok(spec) => spec,
        Err(Refused::NotOffered(_)) => return Err(RestError::not_found(&path)),
        Err(Refused::Scope(e) | Refused::ReadOnly(e)) => return Err(e.into()),
        Err(Refused::Rate { limited, .. }) => return Err(RestError::rate_limited(&limited)),
    };
    let args = match method {
        Method::POST => args?,
        Method::GET | Method::HEAD if spec.access == Access::Read => args?,
        Method::GET | Method::HEAD => {
            return Err(RestError::method_not_allowed(
                format!(
                    "`{tool}` changes state ({}): call it with POST and the arguments as a JSON body",
                    spec.access.as_str()
                ),
                "POST",
            ));
        }
        _ => {
            let allow = if spec.access == Access::Read {
                "GET, POST"
            } else {
                "POST"
            };
            return Err(RestError::method_not_allowed(
                format!("`{tool}` accepts {allow}"),
                allow,
            ));
        }
    };
    let ctx = st
        .host
        .ctx(caller, Arc::new(NoProgress), st.shutdown.child_token());
    Ok(registry.call(tool, Some(args), ctx).await?)
}

/// The JSON body as arguments (see [`args_from_body`]), read up to 1 MB.
async fn body_args(req: Request) -> Result<Value, RestError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            RestError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "the request body is larger than 1 MB ({MAX_BODY_BYTES} bytes): tool arguments must fit in 1 MB"
                ),
            )
        })?;
    args_from_body(content_type.as_deref(), &body)
}

/// A body as arguments: empty means `{}` (so does `null`, in `Registry::call`). A body must
/// come as `application/json`: the content types a web page may send to another site without
/// asking first (`text/plain`, forms) are refused with 415, and so is a body without a type.
pub(crate) fn args_from_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, RestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if !content_type.is_some_and(is_json) {
        let got = content_type.map_or_else(|| "none".to_string(), |t| format!("`{t}`"));
        return Err(RestError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "the body must be sent with `Content-Type: application/json` (got {got}): send the \
                 tool's arguments as a JSON object with that header"
            ),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        RestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed_json",
            format!("the body is not valid JSON ({e}): send the tool's arguments as a JSON object"),
        )
    })
}

/// Whether a `Content-Type` value is `application/json` (parameters such as `charset` aside).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// `GET /openapi.json`: the OpenAPI 3.1 document. Public (every tool the server offers; with
/// dynamic toolsets, what an MCP session starts with, without the toolset tools); with a valid
/// key, only the tools that key may call; with a wrong key, 401.
pub(super) async fn openapi_json(State(st): State<Arc<RestState>>, headers: HeaderMap) -> Response {
    let scope = match st.gate.auth.authenticate(&headers) {
        Ok(identity) => identity.scope,
        Err(AuthError::Missing) => Scope::Admin,
        Err(e) => return e.into_response(),
    };
    let slot = Scope::ALL.iter().position(|s| *s == scope).unwrap_or(2);
    let doc = st.openapi[slot]
        .get_or_init(|| openapi::render(&scope.view(&st.host.registry().sessionless_view())).into())
        .clone();
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}

/// `GET /`: to the docs page; other methods: 404 as for any path that is no tool.
pub(super) async fn root(method: Method, uri: Uri) -> Response {
    if method == Method::GET || method == Method::HEAD {
        Redirect::temporary("./docs").into_response()
    } else {
        RestError::not_found(uri.path()).into_response()
    }
}

/// Anything else: 404 in mcpo's error shape.
pub(super) async fn not_found(uri: Uri) -> RestError {
    RestError::not_found(uri.path())
}
