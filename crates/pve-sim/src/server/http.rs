//! HTTP glue for one request: reads parameters (query string, form or JSON body) and
//! credentials (ticket cookie, CSRF header, API token), consults the faults, runs the dispatcher
//! under the simulator lock, logs the request, and answers as PVE does: `{"data": ...}`,
//! the error message as reason phrase and body `message`, PVE's headers.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value};

use crate::auth::Credentials;
use crate::dispatch::{self, Caller};
use crate::faults::FaultKind;
use crate::params::RawParams;
use crate::route::{ApiError, Method};
use crate::server::{RequestRecord, Shared, lock};

/// The API prefix.
pub(super) const API_PREFIX: &str = "/api2/json";

/// Largest request body accepted.
const MAX_BODY: usize = 16 << 20;

/// Returned to hyper to close the connection with no response (the `drop` fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
pub(super) struct Dropped;

pub(super) type HttpResponse = Response<Full<Bytes>>;

/// Serves one request.
pub(super) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<HttpResponse, Dropped> {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim/") {
        return Ok(super::admin::handle(&shared, req).await);
    }
    let Some(rel) = path
        .strip_prefix(API_PREFIX)
        .map(|r| if r.is_empty() { "/" } else { r })
    else {
        return Ok(error_response(&ApiError::new(
            501,
            format!("Method '{} {}' not implemented", req.method(), path),
        )));
    };
    let rel = rel.to_string();
    let method_text = req.method().as_str().to_string();
    let creds = credentials(req.headers());
    let (raw, body_error) = match read_params(req).await {
        Ok(raw) => (raw, None),
        Err(e) => (RawParams::new(), Some(e)),
    };
    // Once the request is read, it is served to the end even if the client goes away (as
    // pveproxy does): the rest runs in its own task, which dropping this future leaves alone.
    let request = ReadRequest {
        method_text,
        rel,
        creds,
        raw,
        body_error,
    };
    match tokio::spawn(answer(shared, request)).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "request handler failed");
            Ok(error_response(&ApiError::internal("internal error")))
        }
    }
}

/// A request read off the wire.
struct ReadRequest {
    method_text: String,
    rel: String,
    creds: Credentials,
    raw: RawParams,
    body_error: Option<ApiError>,
}

/// Applies the faults, dispatches under the simulator lock, logs the request and builds the
/// answer.
async fn answer(shared: Arc<Shared>, req: ReadRequest) -> Result<HttpResponse, Dropped> {
    let ReadRequest {
        method_text,
        rel,
        creds,
        raw,
        body_error,
    } = req;
    let mut record = RequestRecord {
        method: method_text.clone(),
        path: rel.clone(),
        route: None,
        params: redacted(raw.as_text_pairs()),
        status: 0,
        userid: None,
    };

    let plan = lock(&shared.faults).take(&method_text, &rel, creds.ticket.is_some());
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    let fault_error = match plan.action {
        Some(FaultKind::Drop) => {
            shared.record(record);
            return Err(Dropped);
        }
        Some(FaultKind::Status { status, message }) => Some(ApiError::new(status, message)),
        Some(FaultKind::ExpireTicket) => Some(ApiError::unauthorized(
            "permission denied - invalid PVE ticket",
        )),
        Some(FaultKind::Latency { .. }) | None => None,
    };

    let response = if let Some(err) = fault_error.or(body_error) {
        error_response(&err)
    } else if let Some(method) = parse_method(&method_text) {
        let (outcome, attribs) = {
            let mut sim = shared.lock_settled();
            let outcome = dispatch::run(&mut sim, method, &rel, raw, Caller::Credentials(&creds));
            (outcome, std::mem::take(&mut sim.attribs))
        };
        record.route = outcome.route;
        record.userid = outcome.identity.map(|i| i.userid);
        match (outcome.result, outcome.raw) {
            (Ok(_), Some(raw)) => raw_data_response(&raw, &attribs),
            (Ok(data), None) => data_response(data, attribs),
            (Err(e), _) => error_response(&e),
        }
    } else {
        error_response(&ApiError::new(
            501,
            format!("Method '{method_text} {rel}' not implemented"),
        ))
    };
    record.status = response.status().as_u16();
    if record.status >= 400 {
        tracing::debug!(method = %record.method, path = %record.path, status = record.status, "api error");
    }
    shared.record(record);
    Ok(response)
}

/// The request log keeps parameter names and values, except secrets (`password`).
fn redacted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    for (k, v) in &mut pairs {
        if k == "password" || k == "new-password" {
            *v = "********".to_string();
        }
    }
    pairs
}

fn parse_method(m: &str) -> Option<Method> {
    Some(match m {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        _ => return None,
    })
}

/// The ticket cookie, the CSRF header and the Authorization header.
pub(super) fn credentials(headers: &hyper::HeaderMap) -> Credentials {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let ticket = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "PVEAuthCookie")
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        });
    Credentials {
        ticket,
        csrf: text("CSRFPreventionToken"),
        authorization: text("authorization"),
    }
}

/// For POST and PUT the form or JSON body, then the query string (whose keys win, as in
/// pveproxy); for GET and DELETE the query string only.
async fn read_params(req: Request<Incoming>) -> Result<RawParams, ApiError> {
    let query = RawParams::from_urlencoded(req.uri().query().unwrap_or("").as_bytes());
    let with_body = matches!(*req.method(), hyper::Method::POST | hyper::Method::PUT);
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| ApiError::new(413, "Request Entity Too Large"))?
        .to_bytes();
    if !with_body {
        return Ok(query);
    }
    body_params(query, &body, is_json)
}

/// A POST or PUT's parameters: the form or JSON body, then the query string's pairs, whose keys
/// win.
pub(crate) fn body_params(
    query: RawParams,
    body: &[u8],
    is_json: bool,
) -> Result<RawParams, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(query);
    }
    let mut raw = if is_json {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(400, format!("malformed JSON body: {e}")))?;
        RawParams::from_json_object(value).map_err(|e| ApiError::new(400, e))?
    } else {
        RawParams::from_urlencoded(body)
    };
    raw.0.retain(|(k, _)| !query.0.iter().any(|(q, _)| q == k));
    raw.extend(query);
    Ok(raw)
}

/// `{"data": ...}` plus any result attributes (`total`). Large values are dropped on a
/// blocking thread, after encoding, so freeing them does not delay the answer.
pub(super) fn data_response(data: Value, attribs: BTreeMap<String, Value>) -> HttpResponse {
    let mut bytes = Vec::with_capacity(256);
    bytes.extend_from_slice(b"{\"data\":");
    if serde_json::to_writer(&mut bytes, &data).is_err() {
        bytes.truncate(8);
        bytes.extend_from_slice(b"null");
    }
    push_attribs(&mut bytes, &attribs);
    if matches!(&data, Value::Array(a) if a.len() > 1000) {
        tokio::task::spawn_blocking(move || drop(data));
    }
    build(StatusCode::OK, None, bytes)
}

/// `{"data": RAW}` for a handler that wrote its JSON itself.
fn raw_data_response(raw: &str, attribs: &BTreeMap<String, Value>) -> HttpResponse {
    let mut bytes = Vec::with_capacity(raw.len() + 32);
    bytes.extend_from_slice(b"{\"data\":");
    bytes.extend_from_slice(raw.as_bytes());
    push_attribs(&mut bytes, attribs);
    build(StatusCode::OK, None, bytes)
}

fn push_attribs(bytes: &mut Vec<u8>, attribs: &BTreeMap<String, Value>) {
    for (k, v) in attribs {
        bytes.push(b',');
        let _ = serde_json::to_writer(&mut *bytes, k);
        bytes.push(b':');
        let _ = serde_json::to_writer(&mut *bytes, v);
    }
    bytes.push(b'}');
}

/// PVE's error answer: status with the message as reason phrase, body
/// `{"data":null,"message":"...\n"}` plus `errors` for a 400.
pub(super) fn error_response(err: &ApiError) -> HttpResponse {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = Map::new();
    body.insert("data".to_string(), Value::Null);
    body.insert(
        "message".to_string(),
        Value::String(format!("{}\n", err.message.trim_end())),
    );
    if let Some(errors) = &err.errors {
        let map = errors
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        body.insert("errors".to_string(), Value::Object(map));
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    build(status, Some(&err.message), bytes)
}

fn build(status: StatusCode, reason: Option<&str>, body: Vec<u8>) -> HttpResponse {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::SERVER,
        HeaderValue::from_static("pve-api-daemon/3.0"),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    if let Some(reason) = reason {
        let clean: String = reason
            .trim_end()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(clean.into_bytes()) {
            resp.extensions_mut().insert(phrase);
        }
    }
    resp
}
