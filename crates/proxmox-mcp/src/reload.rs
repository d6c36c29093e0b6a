//! API keys reloaded without a restart: on SIGHUP, and when a file they come from changes (the
//! configuration file with its `[[keys]]`, the keys file (`PROXMOX_MCP_KEYS_FILE`), the file of
//! `PROXMOX_MCP_API_KEY_FILE`; a
//! Kubernetes Secret or ConfigMap update changes the mounted file), the configuration is read
//! again and its keys replace those of both doors at once. A configuration that no longer
//! reads, or has no key at all, leaves the keys as they are, with an error in the log.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::{CONFIG_ENV, Overrides, Settings};

/// How often the key files are read to see whether they changed.
pub const KEY_WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// The files the keys come from, as `flags` and `env` name them.
fn key_files(flags: &Overrides, env: &HashMap<String, String>) -> Vec<PathBuf> {
    let named = |var: &str| {
        env.get(var)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    flags
        .config
        .clone()
        .or_else(|| named(CONFIG_ENV))
        .into_iter()
        .chain(named("PROXMOX_MCP_API_KEY_FILE"))
        .collect()
}

/// What the files hold now (a digest each; `None` for a file that cannot be read).
fn fingerprint(files: &[PathBuf]) -> Vec<Option<[u8; 32]>> {
    files
        .iter()
        .map(|f| std::fs::read(f).ok().map(|b| Sha256::digest(&b).into()))
        .collect()
}

/// Reads the configuration again (`flags`, `env`) and gives its keys to `app`'s gate.
fn reload(app: &App, flags: &Overrides, env: &HashMap<String, String>, why: &str) {
    let outcome = Settings::resolve(flags, env)
        .map_err(|e| e.to_string())
        .and_then(|s| app.gate().reload_keys(s.security.keys));
    match outcome {
        Ok(keys) => tracing::info!(keys, reason = why, "API keys reloaded"),
        Err(e) => tracing::error!(
            reason = why,
            "API keys not reloaded, the current keys stay: {e}"
        ),
    }
}

/// Reloads `app`'s keys on SIGHUP and whenever a key file changes (read every `interval`),
/// until `shutdown`. The SIGHUP handler is installed before this returns (a SIGHUP would
/// otherwise end the process), so call it before announcing the server.
pub fn reload_keys(
    app: Arc<App>,
    flags: Overrides,
    env: HashMap<String, String>,
    interval: Duration,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + Send + 'static {
    let mut hangups = Hangups::install();
    async move {
        let mut files = key_files(&flags, &env);
        let keys_file = Settings::resolve(&flags, &env)
            .ok()
            .and_then(|s| s.security.keys_file);
        files.extend(keys_file);
        let mut seen = fingerprint(&files);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = hangups.next() => {
                    seen = fingerprint(&files);
                    reload(&app, &flags, &env, "SIGHUP");
                }
                _ = tick.tick() => {
                    let now = fingerprint(&files);
                    if now != seen {
                        seen = now;
                        reload(&app, &flags, &env, "a key file changed");
                    }
                }
            }
        }
    }
}

/// SIGHUP, when the platform has it.
#[cfg(unix)]
struct Hangups(Option<tokio::signal::unix::Signal>);

#[cfg(not(unix))]
struct Hangups;

#[cfg(not(unix))]
impl Hangups {
    fn install() -> Self {
        Self
    }

    async fn next(&mut self) {
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
impl Hangups {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(s) => Self(Some(s)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle SIGHUP: keys reload when their files change only");
                Self(None)
            }
        }
    }

    async fn next(&mut self) {
        match &mut self.0 {
            Some(s) => {
                if s.recv().await.is_none() {
                    self.0 = None;
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}
