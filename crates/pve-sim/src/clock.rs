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

/// The calendar date of a day count since 1970-01-01 (proleptic Gregorian): `(y, m, d)`.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The day count since 1970-01-01 of a calendar date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `Dec 07 03:00:01`: how syslog lines (journalctl's short format) stamp a time (UTC).
pub(crate) fn syslog_stamp(t: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{} {d:02} {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// `YYYY-MM-DD[ HH:MM[:SS]]` (UTC) as epoch seconds.
pub(crate) fn parse_datetime(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00"));
    let mut d = date.split('-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':').map(str::parse::<i64>);
    let (h, mi) = (t.next()?.ok()?, t.next()?.ok()?);
    let s = t.next().and_then(Result::ok).unwrap_or(0);
    Some(days_from_civil(y, m, day) * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 12, 7), 20_794);
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
        let t = parse_datetime("2026-12-07 03:00:01").unwrap();
        assert_eq!(syslog_stamp(t), "Dec 07 03:00:01");
        assert_eq!(parse_datetime("2026-12-07"), Some(20_794 * 86_400));
        assert_eq!(parse_datetime("07/12/2026"), None);
    }

    #[test]
    fn advance_moves_forward() {
        let c = Clock::new();
        let t0 = c.now();
        c.advance(7200.0);
        assert!(c.now() - t0 >= 7200.0);
    }
}
