//! What `get_metrics` does to an RRD history: picks named figures out of its points in the
//! units people read, summarises each (min, avg, max, last over every point) and downsamples it
//! to at most N points (the mean, or the peak with `cf=MAX`, of consecutive points).

use pve_client::api::monitor::RrdPoint;
use schemars::JsonSchema;
use serde::Serialize;

/// Bytes in a MB as the other tools count them (MiB).
pub(super) const MB: f64 = 1024.0 * 1024.0;

/// How a series is read from a point.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    /// PVE's figure `name` times `factor`.
    Field(&'static str, f64),
    /// PVE's figure `part` as a percentage of its figure `whole`.
    Percent(&'static str, &'static str),
}

impl Source {
    fn read(self, p: &RrdPoint) -> Option<f64> {
        match self {
            Source::Field(name, factor) => p.values.get(name).map(|v| v * factor),
            Source::Percent(part, whole) => {
                let (part, whole) = (p.values.get(part)?, p.values.get(whole)?);
                (*whole > 0.0).then(|| part / whole * 100.0)
            }
        }
    }
}

/// A series to extract: its name, unit and source.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeriesSpec {
    pub(super) name: &'static str,
    pub(super) unit: &'static str,
    pub(super) source: Source,
}

/// One named series, summarised and downsampled.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Series {
    pub(crate) name: &'static str,
    /// `%`, `MB`, `MB/s` or `load`.
    pub(crate) unit: &'static str,
    /// Over every point of the timeframe (before downsampling); absent without data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) avg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max: Option<f64>,
    /// The newest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last: Option<f64>,
    /// Oldest first, one per output point (`null` where PVE had no data).
    pub(crate) values: Vec<Option<f64>>,
}

/// Consecutive points folded into one: how many raw points each output point covers, so that
/// at most `max_points` remain (the newest group is always whole).
pub(super) fn group_size(raw: usize, max_points: usize) -> usize {
    raw.div_ceil(max_points.max(1)).max(1)
}

/// The groups of `raw` indices, oldest first, aligned on the newest point.
fn groups(raw: usize, size: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut end = raw;
    while end > 0 {
        let start = end.saturating_sub(size);
        out.push(start..end);
        end = start;
    }
    out.reverse();
    out
}

/// The end time of each output point.
pub(super) fn times(points: &[RrdPoint], size: usize) -> Vec<i64> {
    groups(points.len(), size)
        .into_iter()
        .map(|g| points[g.end - 1].time)
        .collect()
}

/// Reads `spec` from `points`, summarises it, and folds it into groups of `size` points
/// (mean, or maximum when `peak`).
pub(super) fn extract(spec: SeriesSpec, points: &[RrdPoint], size: usize, peak: bool) -> Series {
    let raw: Vec<Option<f64>> = points.iter().map(|p| spec.source.read(p)).collect();
    let present: Vec<f64> = raw.iter().flatten().copied().collect();
    let values = groups(raw.len(), size)
        .into_iter()
        .map(|g| fold(raw[g].iter().flatten().copied(), peak).map(compact))
        .collect();
    Series {
        name: spec.name,
        unit: spec.unit,
        min: present.iter().copied().reduce(f64::min).map(compact),
        avg: fold(present.iter().copied(), false).map(compact),
        max: present.iter().copied().reduce(f64::max).map(compact),
        last: present.last().copied().map(compact),
        values,
    }
}

/// The mean (or maximum) of some values; `None` when there are none.
fn fold(values: impl Iterator<Item = f64>, peak: bool) -> Option<f64> {
    let (mut n, mut sum, mut max) = (0usize, 0.0, f64::MIN);
    for v in values {
        n += 1;
        sum += v;
        max = max.max(v);
    }
    (n > 0).then(|| if peak { max } else { sum / n as f64 })
}

/// Few digits, as people read figures: whole numbers from 100, one decimal from 10, two from
/// 1, three significant digits below.
pub(super) fn compact(v: f64) -> f64 {
    let a = v.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else if a == 0.0 {
        return 0.0;
    } else {
        // Three significant digits: 0.0123 has its first digit at 10^-2.
        (2 - a.log10().floor() as i32).clamp(0, 12)
    };
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[Option<f64>]) -> Vec<RrdPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| RrdPoint {
                time: 60 * i as i64,
                values: v.iter().map(|v| ("cpu".to_string(), *v)).collect(),
            })
            .collect()
    }

    const CPU: SeriesSpec = SeriesSpec {
        name: "cpu",
        unit: "%",
        source: Source::Field("cpu", 100.0),
    };

    #[test]
    fn groups_align_on_the_newest_point() {
        assert_eq!(group_size(70, 60), 2);
        assert_eq!(group_size(70, 70), 1);
        assert_eq!(group_size(70, 1), 70);
        assert_eq!(groups(5, 2), vec![0..1, 1..3, 3..5]);
        let p = points(&[Some(0.1); 5]);
        assert_eq!(times(&p, 2), vec![0, 120, 240]);
    }

    #[test]
    fn series_fold_and_summarise() {
        let p = points(&[Some(0.1), None, Some(0.3), Some(0.5), Some(0.2)]);
        let avg = extract(CPU, &p, 2, false);
        assert_eq!(avg.values, vec![Some(10.0), Some(30.0), Some(35.0)]);
        assert_eq!(
            (avg.min, avg.avg, avg.max, avg.last),
            (Some(10.0), Some(27.5), Some(50.0), Some(20.0))
        );
        let peak = extract(CPU, &p, 2, true);
        assert_eq!(peak.values, vec![Some(10.0), Some(30.0), Some(50.0)]);
        let none = extract(CPU, &points(&[None, None]), 1, false);
        assert_eq!(none.values, vec![None, None]);
        assert_eq!(none.last, None);
    }

    #[test]
    fn percent_of_a_whole() {
        let p = RrdPoint {
            time: 0,
            values: [("used".to_string(), 25.0), ("total".to_string(), 200.0)].into(),
        };
        assert_eq!(Source::Percent("used", "total").read(&p), Some(12.5));
        let empty = RrdPoint {
            time: 0,
            values: [("used".to_string(), 0.0), ("total".to_string(), 0.0)].into(),
        };
        assert_eq!(Source::Percent("used", "total").read(&empty), None);
    }

    #[test]
    fn figures_are_compact() {
        assert_eq!(compact(2048.4), 2048.0);
        assert_eq!(compact(45.67), 45.7);
        assert_eq!(compact(4.56789), 4.57);
        assert_eq!(compact(0.012345), 0.0123);
        assert_eq!(compact(0.0), 0.0);
        assert_eq!(compact(-0.5), -0.5);
    }
}
