//! The simulator's own admin routes, outside `/api2` (for tests in other languages and for
//! demos). They require admin credentials, a token (`Authorization: PVEAPIToken=...`) or a
//! ticket (cookie, plus the CSRF header on writes), of an identity with the `Admin` role:
//!
//! - `GET /_sim/faults` lists the armed faults; `POST /_sim/faults` arms one (a JSON object) or
//!   several (a JSON array), see [`crate::faults`]; `DELETE /_sim/faults` disarms all.
//! - `POST /_sim/clock/advance` with `{"seconds": N}` (or form `seconds=N`) moves simulated time.
//! - `GET /_sim/requests` returns the request log; `DELETE /_sim/requests` clears it.
//!
//! Answers use the API's envelope (`{"data": ...}`, errors with a reason phrase).

use std::collections::BTreeMap;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method as HttpMethod, Request};
use serde_json::{Value, json};

use super::http::{HttpResponse, credentials, data_response, error_response};
use crate::faults::Fault;
use crate::route::{ApiError, Method, Role};
use crate::server::{Shared, lock};

/// Serves one `/_sim/...` request.
pub(super) async fn handle(shared: &Shared, req: Request<Incoming>) -> HttpResponse {
    match serve(shared, req).await {
        Ok(v) => data_response(v, BTreeMap::new()),
        Err(e) => error_response(&e),
    }
}

async fn serve(shared: &Shared, req: Request<Incoming>) -> Result<Value, ApiError> {
    let method = match *req.method() {
        HttpMethod::GET => Method::Get,
        HttpMethod::POST => Method::Post,
        HttpMethod::PUT => Method::Put,
        HttpMethod::DELETE => Method::Delete,
        _ => return Err(not_found(&req)),
    };
    let creds = credentials(req.headers());
    {
        let sim = shared.lock_settled();
        let id = sim.auth.authenticate(&creds, method, sim.now)?;
        if id.role != Role::Admin {
            return Err(ApiError::forbidden("/", "Sys.Modify"));
        }
    }
    let path = req.uri().path().to_string();
    let is_json = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let query = req.uri().query().unwrap_or("").to_string();
    match (method, path.as_str()) {
        (Method::Get, "/_sim/faults") => {
            Ok(serde_json::to_value(lock(&shared.faults).list()).unwrap_or(Value::Null))
        }
        (Method::Delete, "/_sim/faults") => {
            lock(&shared.faults).clear();
            Ok(Value::Null)
        }
        (Method::Post, "/_sim/faults") => {
            let body = read_json(req).await?;
            let faults: Vec<Fault> = match body {
                Value::Array(_) => serde_json::from_value(body),
                other => serde_json::from_value(other).map(|f| vec![f]),
            }
            .map_err(|e| ApiError::new(400, format!("invalid fault: {e}")))?;
            let n = faults.len();
            let mut armed = lock(&shared.faults);
            for f in faults {
                armed.inject(f).map_err(|e| ApiError::new(400, e))?;
            }
            Ok(json!(n))
        }
        (Method::Post, "/_sim/clock/advance") => {
            let secs = if is_json {
                read_json(req).await?.get("seconds").and_then(Value::as_f64)
            } else {
                let body = read_body(req).await?;
                form_urlencoded::parse(query.as_bytes())
                    .chain(form_urlencoded::parse(&body))
                    .find(|(k, _)| k == "seconds")
                    .and_then(|(_, v)| v.parse::<f64>().ok())
            };
            let secs = secs
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| ApiError::param("seconds", "a non-negative number is required"))?;
            shared.clock.advance(secs);
            let now = shared.lock_settled().now;
            Ok(json!({ "now": now }))
        }
        (Method::Get, "/_sim/requests") => {
            let log = lock(&shared.log);
            Ok(Value::Array(
                log.iter()
                    .map(|r| {
                        json!({
                            "method": r.method,
                            "path": r.path,
                            "route": r.route,
                            "params": r.params,
                            "status": r.status,
                            "userid": r.userid,
                        })
                    })
                    .collect(),
            ))
        }
        (Method::Delete, "/_sim/requests") => {
            lock(&shared.log).clear();
            Ok(Value::Null)
        }
        _ => Err(not_found(&req)),
    }
}

fn not_found<B>(req: &Request<B>) -> ApiError {
    ApiError::new(
        501,
        format!(
            "Method '{} {}' not implemented",
            req.method(),
            req.uri().path()
        ),
    )
}

async fn read_body(req: Request<Incoming>) -> Result<bytes::Bytes, ApiError> {
    Ok(Limited::new(req.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|_| ApiError::new(413, "Request Entity Too Large"))?
        .to_bytes())
}

async fn read_json(req: Request<Incoming>) -> Result<Value, ApiError> {
    let body = read_body(req).await?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(400, format!("malformed JSON body: {e}")))
}
