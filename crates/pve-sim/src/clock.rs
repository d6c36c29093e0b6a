//! The simulator's clock: wall time plus an offset that tests can advance (ticket expiry, task ends).

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::state::SimTime;

/// Simulated time in epoch seconds. Starts at the real time; `advance` jumps it forward.
#[derive(Debug)]
pub(crate) struct Clock {
    base: SimTime,
    started: Instant,
    offset: Mutex<f64>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub(crate) fn new() -> Self {
        let base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(1.8e9);
        Self {
            base,
            started: Instant::now(),
            offset: Mutex::new(0.0),
        }
    }

    /// Current simulated epoch time in seconds.
    pub(crate) fn now(&self) -> SimTime {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        self.base + self.started.elapsed().as_secs_f64() + offset
    }

    /// Moves simulated time forward by `secs` seconds.
    pub(crate) fn advance(&self, secs: f64) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += secs.max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_forward() {
        let c = Clock::new();
        let t0 = c.now();
        c.advance(7200.0);
        assert!(c.now() - t0 >= 7200.0);
    }
}
