//! The memory of many idle legacy SSE sessions: opens `n` event streams (each read up to its
//! `endpoint` event), measures the server's resident memory, initializes every session
//! (initialize answered on its stream, then `notifications/initialized`), measures again, and
//! closes them all. The streams stay open while memory is read.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::Res;
use crate::procs::rss_bytes;
use crate::wire::{Legacy, SseReader, http_client};

/// Streams opened (or initialized) at the same time.
const CONCURRENCY: usize = 128;
/// Pause before reading memory, so the server has finished reacting.
const SETTLE: Duration = Duration::from_secs(2);

/// What the run measured (bytes are resident memory of the server process).
#[derive(Debug)]
pub struct SessionsFigures {
    pub count: usize,
    pub rss_before: u64,
    pub rss_opened: u64,
    pub rss_initialized: u64,
    pub rss_after_close: u64,
    pub open_time: Duration,
    pub init_time: Duration,
}

pub async fn run(url: &str, pid: u32, n: usize) -> Res<SessionsFigures> {
    let client = http_client(None)?;
    tokio::time::sleep(SETTLE).await;
    let rss_before = rss_bytes(pid)?;

    let t = Instant::now();
    let opened: Vec<(SseReader, String)> = stream::iter(0..n)
        .map(|_| SseReader::open(&client, url))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let open_time = t.elapsed();
    tokio::time::sleep(SETTLE).await;
    let rss_opened = rss_bytes(pid)?;

    // Initializing uses a separate pool for the POSTs (the streams hold their connections).
    let poster = http_client(None)?;
    let t = Instant::now();
    let sessions: Vec<Legacy> = stream::iter(opened)
        .map(|(reader, endpoint)| Legacy::initialize(poster.clone(), reader, endpoint))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let init_time = t.elapsed();
    tokio::time::sleep(SETTLE).await;
    let rss_initialized = rss_bytes(pid)?;
    let count = sessions.len();

    drop(sessions);
    drop(client);
    drop(poster);
    tokio::time::sleep(SETTLE).await;
    let rss_after_close = rss_bytes(pid)?;
    Ok(SessionsFigures {
        count,
        rss_before,
        rss_opened,
        rss_initialized,
        rss_after_close,
        open_time,
        init_time,
    })
}
