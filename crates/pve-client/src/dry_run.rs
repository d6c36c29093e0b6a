//! Request hooks and the dry-run recorder.
//!
//! A [`RequestHook`] sees every request a client view makes before it is sent, and may let it
//! through, answer it itself, or refuse it ([`PveClient::with_hook`]). [`DryRun`] is the hook
//! behind [`PveClient::dry_run`]: it records every non-GET request (method, path, parameters
//! with secrets masked) instead of sending it, and answers it with a synthetic success: a
//! synthetic UPID (whose status, asked for later through the same view, is "stopped, OK"), or
//! a synthetic guest-agent pid (whose exec status is "exited 0"). GETs still go to the server,
//! so the reads a tool needs (node lookup, guest state) happen for real.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::client::{Method, PveClient};
use crate::error::Error;
use crate::params::{ApiPath, Params};

/// What a hook decided about one request.
#[derive(Debug)]
pub enum Intercepted {
    /// Send it to the server as usual.
    Pass,
    /// Do not send it; answer with the first of these `data` values that decodes into the type
    /// the caller expects (a UPID string, an object, `null`...).
    Answer(Vec<Value>),
}

/// Sees every request of a client view before it is sent (see [`PveClient::with_hook`]).
/// A hook may itself make calls through `client` (the same view): it sees those too.
pub trait RequestHook: Send + Sync {
    /// Decides about `method path params`; an `Err` is the request's error (nothing is sent).
    fn intercept<'a>(
        &'a self,
        client: &'a PveClient,
        method: Method,
        path: &'a ApiPath,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<Intercepted, Error>>;

    /// Decides about a command about to run on a node over SSH (see
    /// [`crate::ssh::SshClient::run_checked`]); an `Err` is the command's error (nothing runs).
    /// By default the command runs.
    fn intercept_ssh<'a>(
        &'a self,
        client: &'a PveClient,
        command: &'a SshRequest,
    ) -> BoxFuture<'a, Result<Intercepted, Error>> {
        let _ = (client, command);
        Box::pin(async { Ok(Intercepted::Pass) })
    }
}

/// A command about to run on a node over SSH, as hooks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshRequest {
    /// The node it runs on.
    pub node: String,
    /// The login user.
    pub user: String,
    /// The container it runs in (`pct exec VMID -- ...`), if any.
    pub vmid: Option<u32>,
    /// The exact command line the node's shell reads (every argument quoted).
    pub command_line: String,
}

/// One request a dry run did not send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCall {
    /// `POST`, `PUT` or `DELETE`; `SSH` for a command run on a node over SSH.
    pub method: &'static str,
    /// The path below `/api2/json` (`/nodes/pve1/qemu/101/status/stop`).
    pub path: String,
    /// The parameters as they would be sent (a repeated key becomes a list); secrets
    /// (passwords, tokens, keys) are shown as `********`.
    pub params: Map<String, Value>,
}

/// The dry-run recorder: see the module documentation.
#[derive(Debug, Default)]
pub struct DryRun {
    calls: Mutex<Vec<PlannedCall>>,
    upids: Mutex<HashSet<String>>,
    pids: Mutex<HashSet<String>>,
    next: AtomicU32,
    /// Hook consulted before recording (a policy check), if any.
    before: Option<Arc<dyn RequestHook>>,
}

impl std::fmt::Debug for dyn RequestHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestHook")
    }
}

/// Shown instead of a secret parameter's value.
pub const MASK: &str = "********";

/// Synthetic agent pids start here (far above real pids), so exec-status polls are recognised.
const FIRST_PID: u32 = 3_900_000_000;

impl DryRun {
    /// A recorder that first asks `before` (e.g. a policy hook) about every request; a request
    /// `before` refuses is an error, one it answers is answered, one it passes is recorded.
    pub fn after(before: Arc<dyn RequestHook>) -> Self {
        Self {
            before: Some(before),
            ..Self::default()
        }
    }

    /// The requests recorded so far, in order.
    pub fn calls(&self) -> Vec<PlannedCall> {
        lock(&self.calls).clone()
    }

    fn record(&self, method: Method, path: &ApiPath, params: &Params) -> Vec<Value> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut map = Map::new();
        for (k, v) in params.pairs() {
            let v = if is_secret(k) {
                Value::from(MASK)
            } else {
                Value::from(v.as_str())
            };
            match map.get_mut(k) {
                Some(Value::Array(items)) => items.push(v),
                Some(first) => {
                    let first = first.take();
                    map.insert(k.clone(), Value::Array(vec![first, v]));
                }
                None => {
                    map.insert(k.clone(), v);
                }
            }
        }
        lock(&self.calls).push(PlannedCall {
            method: method.as_str(),
            path: path.as_str().to_string(),
            params: map,
        });
        let upid = synthetic_upid(path.as_str(), params, n);
        lock(&self.upids).insert(ApiPath::new("").seg(&upid).as_str().to_string());
        // A task "stopped" by this dry run reads as ended from now on.
        if method == Method::Delete
            && let Some((_, task)) = path.as_str().split_once("/tasks/")
        {
            lock(&self.upids).insert(format!("/{task}"));
        }
        let pid = FIRST_PID.saturating_add(n);
        lock(&self.pids).insert(pid.to_string());
        vec![Value::from(upid), json!({ "pid": pid }), Value::Null]
    }

    /// Records a command a dry run does not run: method `SSH`, the guest's path (or the
    /// node's), the login and the exact command line.
    fn record_ssh(&self, command: &SshRequest) {
        let path = match command.vmid {
            Some(vmid) => ApiPath::new("/nodes")
                .seg(&command.node)
                .seg("lxc")
                .seg(vmid),
            None => ApiPath::new("/nodes").seg(&command.node),
        };
        let mut params = Map::new();
        params.insert(
            "ssh".into(),
            Value::from(format!("{}@{}", command.user, command.node)),
        );
        params.insert(
            "command_line".into(),
            Value::from(command.command_line.clone()),
        );
        lock(&self.calls).push(PlannedCall {
            method: "SSH",
            path: path.as_str().to_string(),
            params,
        });
    }

    /// A GET about something this dry run made up (its task's status, its command's output).
    fn synthetic_read(&self, path: &ApiPath, params: &Params) -> Option<Vec<Value>> {
        let p = path.as_str();
        let about_task = lock(&self.upids).iter().any(|u| p.contains(u.as_str()));
        let about_pid = params
            .get("pid")
            .is_some_and(|pid| lock(&self.pids).contains(pid));
        if !about_task && !about_pid {
            return None;
        }
        if p.ends_with("/log") {
            return Some(vec![
                json!([{"n": 1, "t": "TASK OK (dry run: nothing was done)"}]),
            ]);
        }
        Some(vec![json!({
            "upid": "", "node": "", "status": "stopped", "exitstatus": "OK", "type": "dryrun",
            "id": "", "user": "", "starttime": 0, "pid": 0, "pstart": 0,
            "exited": 1, "exitcode": 0,
        })])
    }
}

impl RequestHook for DryRun {
    fn intercept<'a>(
        &'a self,
        client: &'a PveClient,
        method: Method,
        path: &'a ApiPath,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<Intercepted, Error>> {
        Box::pin(async move {
            if let Some(before) = &self.before {
                match before.intercept(client, method, path, params).await? {
                    Intercepted::Pass => {}
                    answer @ Intercepted::Answer(_) => return Ok(answer),
                }
            }
            if method == Method::Get {
                return Ok(match self.synthetic_read(path, params) {
                    Some(answers) => Intercepted::Answer(answers),
                    None => Intercepted::Pass,
                });
            }
            Ok(Intercepted::Answer(self.record(method, path, params)))
        })
    }

    fn intercept_ssh<'a>(
        &'a self,
        client: &'a PveClient,
        command: &'a SshRequest,
    ) -> BoxFuture<'a, Result<Intercepted, Error>> {
        Box::pin(async move {
            if let Some(before) = &self.before {
                match before.intercept_ssh(client, command).await? {
                    Intercepted::Pass => {}
                    answer @ Intercepted::Answer(_) => return Ok(answer),
                }
            }
            self.record_ssh(command);
            Ok(Intercepted::Answer(Vec::new()))
        })
    }
}

impl PveClient {
    /// A view of this client that records every non-GET request instead of sending it (see
    /// [`DryRun`]); read the plan from the returned recorder once done.
    pub fn dry_run(&self) -> (PveClient, Arc<DryRun>) {
        let recorder = Arc::new(DryRun::default());
        (self.with_hook(recorder.clone()), recorder)
    }
}

/// Whether a parameter holds a secret (`password`, `cipassword`, `token`, `secret`, `key`...).
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "passphrase",
        "privkey",
        "private",
    ]
    .iter()
    .any(|s| n.contains(s))
        || n == "key"
        || n.ends_with("-key")
        || n.ends_with("_key")
}

/// `UPID:{node}:...:dryrun:{vmid}:dry-run@pve:`, with the node and VMID taken from the path.
fn synthetic_upid(path: &str, params: &Params, n: u32) -> String {
    let mut parts = path.split('/').filter(|s| !s.is_empty());
    let mut node = "localhost".to_string();
    let mut id = params.get("vmid").unwrap_or("").to_string();
    while let Some(part) = parts.next() {
        match part {
            "nodes" => {
                if let Some(n) = parts.next() {
                    node = n.to_string();
                }
            }
            "qemu" | "lxc" => {
                if let Some(v) = parts
                    .next()
                    .filter(|v| v.chars().all(|c| c.is_ascii_digit()))
                {
                    id = v.to_string();
                }
            }
            _ => {}
        }
    }
    let node: String = node
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    format!(
        "UPID:{node}:{:08X}:00000000:00000000:dryrun:{id}:dry-run@pve:",
        n
    )
}

/// The first of `answers` that decodes as `T`, in PVE's envelope.
pub(crate) fn decode_answer<T: serde::de::DeserializeOwned>(
    answers: Vec<Value>,
) -> Result<crate::client::Envelope<T>, Error> {
    let mut last = None;
    for data in answers {
        match serde_json::from_value::<T>(data) {
            Ok(data) => return Ok(crate::client::Envelope { data, total: None }),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::protocol(match last {
        Some(e) => format!("no synthetic answer fits this call: {e}"),
        None => "no synthetic answer for this call".to_string(),
    }))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::upid::Upid;

    #[test]
    fn ssh_commands_are_planned_with_their_exact_line() {
        let d = DryRun::default();
        for vmid in [Some(200), None] {
            d.record_ssh(&SshRequest {
                node: "pve1".into(),
                user: "root".into(),
                vmid,
                command_line: "pct exec 200 -- echo '$(id)'".into(),
            });
        }
        let calls = d.calls();
        assert_eq!(
            (calls[0].method, calls[0].path.as_str()),
            ("SSH", "/nodes/pve1/lxc/200")
        );
        assert_eq!(calls[1].path, "/nodes/pve1");
        assert_eq!(calls[0].params["ssh"], "root@pve1");
        assert_eq!(
            calls[0].params["command_line"],
            "pct exec 200 -- echo '$(id)'"
        );
    }

    #[test]
    fn synthetic_upids_parse_and_secrets_are_masked() {
        let p = Params::new().set("password", "hunter2").set("name", "x");
        let upid = synthetic_upid("/nodes/pve1/qemu/101/status/start", &p, 7);
        let parsed: Upid = upid.parse().unwrap();
        assert_eq!(parsed.node, "pve1");
        assert_eq!(parsed.id, "101");
        let d = DryRun::default();
        let answers = d.record(Method::Post, &ApiPath::new("/nodes/pve1/qemu"), &p);
        assert!(answers[0].as_str().unwrap().starts_with("UPID:pve1:"));
        let calls = d.calls();
        assert_eq!(calls[0].params["password"], MASK);
        assert_eq!(calls[0].params["name"], "x");
        assert!(is_secret("cipassword") && is_secret("sshkey-key") && !is_secret("keyboard"));
    }
}
