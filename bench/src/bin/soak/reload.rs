//! API keys reloaded while the soak runs: every [`EVERY`] (and once early), the key file is
//! written again and the server gets SIGHUP; a REST call with the key must then still be
//! served, and one with a key the file never held must be refused with 401.

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;

use crate::load::{API_KEY, keyed_client};

/// Time between two reloads.
const EVERY: Duration = Duration::from_secs(60);
/// The first reload, early enough for a smoke run to see one.
const FIRST: Duration = Duration::from_secs(2);

/// What the reloads did.
#[derive(Debug, Default)]
pub struct Reloads {
    /// SIGHUPs sent.
    pub sent: u32,
    /// Reloads after which the key was served and a stranger's refused.
    pub held: u32,
    /// What went wrong after the others.
    pub failures: Vec<String>,
}

impl Reloads {
    /// Every reload kept the key working and the door shut to others.
    pub fn pass(&self) -> bool {
        self.failures.is_empty() && self.held == self.sent
    }
}

/// Reloads until `deadline`.
pub async fn run(pid: u32, key_file: PathBuf, rest_url: String, deadline: Instant) -> Reloads {
    let mut out = Reloads::default();
    let mut next = Instant::now() + FIRST;
    while next < deadline {
        tokio::time::sleep_until(next).await;
        next += EVERY;
        if let Err(e) = std::fs::write(&key_file, API_KEY) {
            out.failures
                .push(format!("rewrite {}: {e}", key_file.display()));
            continue;
        }
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            out.failures.push("kill -HUP failed".into());
            continue;
        }
        out.sent += 1;
        // The reload runs in the server's own task: give it a moment, then check both ways.
        tokio::time::sleep(Duration::from_millis(300)).await;
        match check(&rest_url).await {
            Ok(()) => out.held += 1,
            Err(e) => out.failures.push(e),
        }
    }
    out
}

/// The key is served; a key the server never had is refused with 401.
async fn check(rest_url: &str) -> Result<(), String> {
    let url = format!("{rest_url}/get_nodes");
    let ok = keyed_client(API_KEY)
        .map_err(|e| e.to_string())?
        .post(&url)
        .json(&serde_json::json!({}))
        .send()
        .await
        .map_err(|e| format!("after SIGHUP: {e}"))?
        .status();
    let stranger = keyed_client("soak-stranger-0000000000000000")
        .map_err(|e| e.to_string())?
        .post(&url)
        .json(&serde_json::json!({}))
        .send()
        .await
        .map_err(|e| format!("after SIGHUP: {e}"))?
        .status();
    if ok.is_success() && stranger.as_u16() == 401 {
        Ok(())
    } else {
        Err(format!(
            "after SIGHUP: the key got {ok}, an unknown key {stranger} (want 2xx and 401)"
        ))
    }
}
