//! The soak's plot (PNG, plotters' bitmap backend): three panels over time: the server's memory
//! (anonymous RSS, RSS), its descriptors, sessions and calls in flight, and the clients' latency
//! percentiles per interval. Text is drawn with a TrueType font read from the system (DejaVu or
//! Liberation Sans); without one there is no plot, and the summary says so.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::sample::Sample;

/// Where a sans-serif TrueType font usually is on Linux.
const FONTS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Draws `samples` into `path` (900 × 900 pixels).
pub fn draw(path: &Path, samples: &[Sample]) -> Res<()> {
    if samples.is_empty() {
        return Err("no samples".into());
    }
    load_font()?;
    let root = BitMapBackend::new(path, (900, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((3, 1));
    let minutes = |s: &Sample| s.at_s / 60.0;
    let x_max = samples.iter().map(minutes).fold(0.0, f64::max).max(0.1);

    panel(
        &panels[0],
        "Server memory (MB)",
        x_max,
        samples,
        &[
            ("anonymous RSS", |s| s.anon_mb, BLUE),
            ("RSS", |s| s.rss_mb, RED),
        ],
    )?;
    panel(
        &panels[1],
        "Descriptors, sessions, calls in flight",
        x_max,
        samples,
        &[
            ("open descriptors", |s| s.fds as f64, BLUE),
            (
                "sessions (Streamable HTTP + SSE)",
                |s| (s.sessions_streamable + s.sessions_sse) as f64,
                RED,
            ),
            ("tool calls in flight", |s| s.in_flight as f64, GREEN),
        ],
    )?;
    panel(
        &panels[2],
        "Client latency per interval (ms)",
        x_max,
        samples,
        &[
            ("p50", |s| s.p50_ms, BLUE),
            ("p90", |s| s.p90_ms, GREEN),
            ("p99", |s| s.p99_ms, RED),
        ],
    )?;
    root.present()?;
    Ok(())
}

type Series<'a> = (&'a str, fn(&Sample) -> f64, RGBColor);

fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    x_max: f64,
    samples: &[Sample],
    series: &[Series<'_>],
) -> Res<()> {
    let y_max = series
        .iter()
        .flat_map(|(_, f, _)| samples.iter().map(f))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("minutes")
        .label_style(("sans-serif", 12))
        .draw()?;
    for (name, f, color) in series {
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                samples.iter().map(|s| (s.at_s / 60.0, f(s))),
                color.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

/// Registers the first font found as `sans-serif` (once).
fn load_font() -> Res<()> {
    static LOADED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *LOADED.get_or_init(|| {
        FONTS.iter().any(|p| match std::fs::read(p) {
            Ok(bytes) => {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            }
            Err(_) => false,
        })
    });
    if ok {
        Ok(())
    } else {
        Err(format!("no TrueType font found (looked at {})", FONTS.join(", ")).into())
    }
}
