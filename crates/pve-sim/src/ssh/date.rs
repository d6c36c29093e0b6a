//! Calendar dates of simulated time (UTC), as the nodes' commands print them.

use crate::clock::civil_from_days;
use crate::state::SimTime;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A moment broken down in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Date {
    pub year: i64,
    /// 1 to 12.
    pub month: i64,
    pub day: i64,
    /// 0 is Sunday.
    pub weekday: i64,
    /// Seconds since midnight.
    pub secs: i64,
}

impl Date {
    pub(super) fn at(t: SimTime) -> Self {
        let t = t.floor() as i64;
        let days = t.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7),
            secs: t.rem_euclid(86_400),
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS[(self.month.clamp(1, 12) - 1) as usize]
    }

    fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday.clamp(0, 6) as usize]
    }

    /// `14:02:11`.
    pub(super) fn time(&self) -> String {
        let s = self.secs;
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// ctime's form: `Sat Mar  7 14:02:11 2026`.
    pub(super) fn ctime(&self) -> String {
        format!(
            "{} {} {:>2} {} {}",
            self.weekday_name(),
            self.month_name(),
            self.day,
            self.time(),
            self.year
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_as_the_tools_do() {
        // 2026-03-07 14:02:11 UTC, a Saturday.
        let d = Date::at(1_772_892_131.5);
        assert_eq!(crate::clock::syslog_stamp(1_772_892_131), "Mar 07 14:02:11");
        assert_eq!(d.ctime(), "Sat Mar  7 14:02:11 2026");
        assert_eq!(Date::at(0.0).ctime(), "Thu Jan  1 00:00:00 1970");
    }
}
