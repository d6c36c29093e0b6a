//! The `monitoring` toolset (read-only): `get_metrics` (RRD history, `metrics.rs`, its series
//! in `series.rs`), `get_node_logs` and `get_cluster_log` (`logs.rs`), `list_node_services`
//! (`services.rs`) and `list_updates` (`updates.rs`).

mod logs;
mod metrics;
mod series;
mod services;
mod updates;

pub(crate) use logs::{get_cluster_log, get_node_logs};
pub(crate) use metrics::get_metrics;
pub(crate) use services::list_node_services;
pub(crate) use updates::list_updates;
