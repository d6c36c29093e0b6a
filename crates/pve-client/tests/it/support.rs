//! Test support: a simulator on 127.0.0.1:0 (HTTPS by default) and a `PveClient` pointed at it,
//! plus the contract check of every request the client made, run when the test ends.

use std::time::Duration;

use pve_client::{ClientConfig, Credentials, PveClient, Secret, TlsMode};
use pve_sim::{RequestRecord, SimConfig, SimServer};

use crate::contract;

/// Token user and id the test simulators accept.
pub const TOKEN_USER: &str = "root@pam";
pub const TOKEN_NAME: &str = "test";
pub const TOKEN_SECRET: &str = "11111111-2222-3333-4444-555555555555";
/// Password of `root@pam` on the test simulators.
pub const PASSWORD: &str = "s3cret-pw";

/// How a test wants its simulator and client.
#[derive(Debug, Clone)]
pub struct Opts {
    pub tls: bool,
    pub cluster: Option<pve_sim::state::Cluster>,
    /// Multiplier on simulated task durations (0.0: tasks end at once).
    pub time_scale: f64,
    pub password_auth: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            tls: true,
            cluster: None,
            time_scale: 0.0,
            password_auth: false,
        }
    }
}

/// Tasks and guest commands take their simulated durations in real time.
pub fn realtime() -> Opts {
    Opts {
        time_scale: 1.0,
        ..Opts::default()
    }
}

/// A running simulator and a client for it. The contract check runs on drop (or `finish`).
pub struct Env {
    pub sim: SimServer,
    pub client: PveClient,
    /// Set by tests that send deliberately invalid requests.
    pub contract_exempt: bool,
    checked: bool,
}

/// Token auth over HTTPS with the simulator's certificate pinned; demo cluster; instant tasks.
pub async fn env() -> Env {
    env_with(Opts::default()).await
}

pub async fn env_with(opts: Opts) -> Env {
    let sim = spawn_sim(&opts).await;
    let cfg = config_for(&sim, opts.password_auth);
    let client = PveClient::new(cfg).expect("client builds");
    Env {
        sim,
        client,
        contract_exempt: false,
        checked: false,
    }
}

pub async fn spawn_sim(opts: &Opts) -> SimServer {
    let config = SimConfig {
        tls: opts.tls,
        root_password: Some(PASSWORD.to_owned()),
        api_tokens: vec![format!("{TOKEN_USER}!{TOKEN_NAME}={TOKEN_SECRET}")],
        time_scale: opts.time_scale,
        ..SimConfig::default()
    };
    let cluster = opts.cluster.clone().unwrap_or_else(pve_sim::seed::demo);
    pve_sim::spawn(config, cluster)
        .await
        .expect("simulator starts")
}

/// A client configuration for `sim`: token (or password) auth, the certificate pinned.
pub fn config_for(sim: &SimServer, password_auth: bool) -> ClientConfig {
    let credentials = if password_auth {
        Credentials::Password(Secret::new(PASSWORD))
    } else {
        Credentials::Token {
            name: TOKEN_NAME.to_owned(),
            value: Secret::new(TOKEN_SECRET),
        }
    };
    let addr = sim.addr();
    let tls = pve_client::config::parse_fingerprint(sim.fingerprint()).expect("sim fingerprint");
    let scheme = if sim.base_url().starts_with("https") {
        pve_client::Scheme::Https
    } else {
        pve_client::Scheme::Http
    };
    let mut cfg = ClientConfig::new(addr.ip().to_string(), TOKEN_USER, credentials)
        .with_port(addr.port())
        .with_scheme(scheme)
        .with_tls(TlsMode::Fingerprint(tls));
    cfg.retry_backoff = Duration::from_millis(5);
    cfg.request_timeout = Duration::from_secs(20);
    cfg
}

impl Env {
    /// A second client on the same simulator with another configuration.
    pub fn client_with(&self, f: impl FnOnce(&mut ClientConfig)) -> PveClient {
        let mut cfg = self.client.config().clone();
        f(&mut cfg);
        PveClient::new(cfg).expect("client builds")
    }

    /// Requests the simulator saw.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.requests()
    }

    /// How many requests matched `method` and a path ending with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }

    /// Checks the contract now (also done on drop).
    pub fn finish(mut self) {
        self.check_contract();
    }

    fn check_contract(&mut self) {
        if self.checked || self.contract_exempt {
            self.checked = true;
            return;
        }
        self.checked = true;
        let records = self.sim.requests();
        let violations = contract::check_records(&records);
        assert!(
            violations.is_empty(),
            "requests outside the PVE schema:\n{}",
            violations.join("\n")
        );
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check_contract();
        }
    }
}

/// Runs `f` for each case; collects failures so one run reports them all.
pub fn check<T: std::fmt::Debug>(cases: &[T], f: impl Fn(&T) -> Result<(), String>) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| f(c).err().map(|e| format!("{c:?}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
