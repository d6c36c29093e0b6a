//! Per-key rate limits: a token bucket per key name holding up to N calls and refilled at N per
//! minute (so a key may burst N calls, then one every 60/N seconds). Anonymous callers (a door
//! without keys) share one bucket. A refusal says how many whole seconds to wait (REST sends
//! it as `Retry-After`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Calls per minute per key: a default for every key, and overrides by key name.
#[derive(Debug)]
pub struct RateLimiter {
    default: Option<u32>,
    per_key: RwLock<HashMap<String, u32>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A refused call: how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// Calls per minute allowed to this key.
    pub(crate) per_minute: u32,
    /// Whole seconds until the next call is allowed (at least 1).
    pub(crate) retry_after: u64,
}

impl RateLimiter {
    /// No limit for anyone.
    pub fn unlimited() -> Self {
        Self::new(None, HashMap::new())
    }

    /// `default` calls per minute for every key (`None`: unlimited), except those in `per_key`.
    pub fn new(default: Option<u32>, per_key: HashMap<String, u32>) -> Self {
        Self {
            default: default.filter(|n| *n > 0),
            per_key: RwLock::new(per_key.into_iter().filter(|(_, n)| *n > 0).collect()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one call of `key` (`None`: anonymous), or says how long to wait.
    pub(crate) fn check(&self, key: Option<&str>) -> Result<(), RateLimited> {
        let name = key.unwrap_or("");
        let per_key = self
            .per_key
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .copied();
        let Some(per_minute) = per_key.or(self.default) else {
            return Ok(());
        };
        self.take(name, per_minute, Instant::now())
    }

    /// Replaces the overrides by key name (keys reloaded); buckets already filled stay.
    pub(crate) fn set_per_key(&self, per_key: HashMap<String, u32>) {
        *self.per_key.write().unwrap_or_else(PoisonError::into_inner) =
            per_key.into_iter().filter(|(_, n)| *n > 0).collect();
    }

    fn take(&self, name: &str, per_minute: u32, now: Instant) -> Result<(), RateLimited> {
        let cap = f64::from(per_minute);
        let per_sec = cap / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let b = buckets.entry(name.to_string()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - b.tokens) / per_sec);
            Err(RateLimited {
                per_minute,
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
            })
        }
    }
}

impl RateLimited {
    /// What the caller is told (REST: the 429's message; MCP: the tool error's text).
    pub(crate) fn message(&self) -> String {
        format!(
            "rate limit reached: this API key may make {} calls per minute; retry in {} s",
            self.per_minute, self.retry_after
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn buckets_burst_then_refill_per_key() {
        let rl = RateLimiter::new(Some(3), HashMap::from([("fast".to_string(), 120)]));
        let t0 = Instant::now();
        for _ in 0..3 {
            rl.take("a", 3, t0).unwrap();
        }
        let e = rl.take("a", 3, t0).unwrap_err();
        assert_eq!(
            e,
            RateLimited {
                per_minute: 3,
                retry_after: 20
            }
        );
        // Another key has its own bucket.
        rl.take("b", 3, t0).unwrap();
        // 20 s later one call is allowed again, not two.
        let t1 = t0 + Duration::from_secs(20);
        rl.take("a", 3, t1).unwrap();
        assert!(rl.take("a", 3, t1).is_err());
        for _ in 0..1000 {
            RateLimiter::unlimited().check(Some("x")).unwrap();
        }
    }
}
