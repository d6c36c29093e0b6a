//! The simulator as a server: binds an address, serves HTTPS (or plain HTTP) with hyper, and
//! gives tests and embedders a handle ([`SimServer`]) to reach into the simulator, inject
//! faults, read the request log, advance the clock and shut down gracefully.

mod admin;
pub(crate) mod http;
mod tls;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::Sim;
use crate::clock::Clock;
use crate::faults::{Fault, Faults};
use crate::state::Cluster;
use tls::TlsIdentity;

/// Errors starting or configuring the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("invalid API token: {0}")]
    Token(String),
    #[error("invalid fault: {0}")]
    Fault(String),
    #[error("SSH: {0}")]
    Ssh(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// Serve HTTPS with the generated certificate (`false`: plain HTTP).
    pub tls: bool,
    /// Password of `root@pam`; `None` keeps the demo default ([`crate::DEFAULT_ROOT_PASSWORD`]).
    pub root_password: Option<String>,
    /// Admin API tokens as `USER@REALM!TOKENID=SECRET`.
    pub api_tokens: Vec<String>,
    /// Read-only API tokens (the `PVEAuditor` role), same form.
    pub audit_tokens: Vec<String>,
    /// Multiplier on task durations (1.0 realistic, 0.0 instant).
    pub time_scale: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: true,
            root_password: None,
            api_tokens: Vec::new(),
            audit_tokens: Vec::new(),
            time_scale: 1.0,
        }
    }
}

/// One `/api2` request as the simulator saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// `GET`, `POST`, `PUT`, `DELETE` (or whatever the client sent).
    pub method: String,
    /// The concrete path below `/api2/json`, as received (not percent-decoded).
    pub path: String,
    /// The matched route template (`/nodes/{node}/qemu/{vmid}`), `None` if none matched.
    pub route: Option<&'static str>,
    /// Query and body parameters as sent (path parameters excluded), in order; JSON bodies'
    /// non-string values as JSON text, arrays as one pair per item. `password` values are
    /// replaced by `********`.
    pub params: Vec<(String, String)>,
    /// HTTP status answered; 0 when the connection was dropped by a fault.
    pub status: u16,
    /// The authenticated caller (`root@pam`, `root@pam!ci`), if authentication succeeded.
    pub userid: Option<String>,
}

/// How many requests the log keeps (the oldest go first), so a long demo does not grow it
/// without bound.
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// State shared by the connection tasks and the [`SimServer`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub sim: Mutex<Sim>,
    pub clock: Clock,
    pub faults: Mutex<Faults>,
    pub log: Mutex<VecDeque<RequestRecord>>,
}

impl Shared {
    /// Locks the simulator and brings it up to the current simulated time.
    pub(crate) fn lock_settled(&self) -> MutexGuard<'_, Sim> {
        let mut sim = lock(&self.sim);
        sim.settle(self.clock.now());
        sim
    }
}

impl Shared {
    /// Appends to the request log, dropping the oldest entry when full.
    pub(crate) fn record(&self, r: RequestRecord) {
        let mut log = lock(&self.log);
        if log.len() >= REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(r);
    }
}

/// Locks a mutex, recovering from poisoning (a panicking handler must not kill the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running simulator. Dropping it stops accepting connections; [`SimServer::shutdown`]
/// also waits for open connections to finish.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    tls: bool,
    identity: TlsIdentity,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accept_task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the simulator over `cluster` on `config.listen`. The certificate is generated even
/// for plain HTTP, so `fingerprint()` always answers.
pub async fn spawn(config: SimConfig, cluster: Cluster) -> Result<SimServer, SimError> {
    let mut sim = Sim::new(cluster);
    sim.time_scale = config.time_scale.max(0.0);
    if let Some(pw) = &config.root_password {
        sim.auth.add_user("root@pam", pw, crate::route::Role::Admin);
    }
    for spec in &config.api_tokens {
        sim.auth
            .add_token_spec(spec, crate::route::Role::Admin)
            .map_err(SimError::Token)?;
    }
    for spec in &config.audit_tokens {
        sim.auth
            .add_token_spec(spec, crate::route::Role::Auditor)
            .map_err(SimError::Token)?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let extra = vec![addr.ip().to_string()];
    let identity = TlsIdentity::generate(&extra)?;
    let acceptor = if config.tls {
        Some(tokio_rustls::TlsAcceptor::from(identity.server_config()?))
    } else {
        None
    };
    let clock = Clock::new();
    sim.settle(clock.now());
    let shared = Arc::new(Shared {
        sim: Mutex::new(sim),
        clock,
        faults: Mutex::new(Faults::default()),
        log: Mutex::new(VecDeque::new()),
    });
    let (stop, stop_rx) = watch::channel(false);
    let accept_task = tokio::spawn(accept_loop(listener, acceptor, shared.clone(), stop_rx));
    tracing::info!(%addr, tls = config.tls, "pve-sim listening");
    Ok(SimServer {
        addr,
        tls: config.tls,
        identity,
        shared,
        stop,
        accept_task: Some(accept_task),
    })
}

impl SimServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT/api2/json` (or `http://` without TLS).
    pub fn base_url(&self) -> String {
        format!("{}/api2/json", self.origin())
    }

    /// `https://127.0.0.1:PORT` (admin routes live under `/_sim`).
    pub fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// SHA-256 fingerprint of the certificate, `AB:CD:...` as PVE shows it.
    pub fn fingerprint(&self) -> &str {
        &self.identity.fingerprint
    }

    /// The certificate in PEM.
    pub fn cert_pem(&self) -> &str {
        &self.identity.cert_pem
    }

    /// The state the connection tasks share (the SSH servers serve it too).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` on the simulator under its lock, after settling it to the current time.
    pub fn with_sim<R>(&self, f: impl FnOnce(&mut Sim) -> R) -> R {
        let mut sim = self.shared.lock_settled();
        let out = f(&mut sim);
        sim.facts.invalidate();
        out
    }

    /// Arms a fault (see [`crate::faults`]).
    pub fn inject(&self, fault: Fault) -> Result<(), SimError> {
        lock(&self.shared.faults)
            .inject(fault)
            .map_err(SimError::Fault)
    }

    /// The faults still armed, with their remaining counts (a consumed fault is gone).
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).list()
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every `/api2` request served so far, oldest first (the last [`REQUEST_LOG_CAPACITY`]).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Every `/api2` request logged since the last call, oldest first, emptying the log in the
    /// same step (so a reader polling it loses none, however long it runs).
    pub fn take_requests(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *lock(&self.shared.log)).into()
    }

    /// Moves simulated time forward (tasks end, tickets age) and settles the simulator.
    pub fn advance(&self, secs: f64) {
        self.shared.clock.advance(secs);
        drop(self.shared.lock_settled());
    }

    /// Current simulated time (epoch seconds).
    pub fn now(&self) -> f64 {
        self.shared.clock.now()
    }

    /// Stops accepting, lets open connections finish their current request, and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.accept_task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let conn_stop = stop.clone();
    accept_until_stopped(listener, stop, move |stream| {
        Some(serve_conn(
            stream,
            acceptor.clone(),
            shared.clone(),
            conn_stop.clone(),
        ))
    })
    .await;
}

/// Accepts connections until `stop` changes, each served by the future `serve` makes of it (or
/// closed at once when it makes none); then gives the open ones 5 s to end and aborts the rest.
pub(crate) async fn accept_until_stopped<F, Fut>(
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
    mut serve: F,
) where
    F: FnMut(TcpStream) -> Option<Fut>,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    if let Some(conn) = serve(stream) {
                        conns.spawn(conn);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        conns.abort_all();
    }
}

async fn serve_conn(
    stream: TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    match acceptor {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(tls) => serve_io(TokioIo::new(tls), shared, stop).await,
            Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
        },
        None => serve_io(TokioIo::new(stream), shared, stop).await,
    }
}

async fn serve_io<I>(io: I, shared: Arc<Shared>, mut stop: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| http::handle(shared.clone(), req));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(error = %e, "connection ended");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
