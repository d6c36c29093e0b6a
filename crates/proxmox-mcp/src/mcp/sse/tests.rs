//! Unit tests of the legacy SSE sessions (`sse/mod.rs`): the event queue and session ids.

use super::*;

fn session() -> Arc<Session> {
    Arc::new(Session {
        ready: Notify::new(),
        room: Notify::new(),
        cancel: CancellationToken::new(),
        owner: None,
        level: SessionLevel::default(),
        toolsets: None,
        state: Mutex::default(),
    })
}

#[tokio::test]
async fn a_full_queue_makes_senders_wait_and_closing_releases_them() {
    use futures_util::FutureExt;
    let s = session();
    for i in 0..QUEUE_CAPACITY {
        assert!(s.push(Bytes::from(format!("{i}"))).await);
    }
    let waiting = tokio::spawn({
        let s = Arc::clone(&s);
        async move { s.push(Bytes::from_static(b"last")).await }
    });
    tokio::task::yield_now().await;
    assert_eq!(s.state().queue.len(), QUEUE_CAPACITY, "the sender waits");
    assert_eq!(s.pop().unwrap(), Bytes::from_static(b"0"));
    assert!(waiting.await.unwrap(), "room made, the sender went on");
    assert_eq!(
        s.state().queue.back().unwrap(),
        &Bytes::from_static(b"last")
    );
    // The stream was told (a stored permit), then the queue drains in order.
    assert!(s.ready.notified().now_or_never().is_some());
    assert_eq!(s.pop().unwrap(), Bytes::from_static(b"1"));

    assert!(s.push(Bytes::from_static(b"full again")).await);
    let waiting = tokio::spawn({
        let s = Arc::clone(&s);
        async move { s.push(Bytes::from_static(b"never")).await }
    });
    tokio::task::yield_now().await;
    s.close();
    assert!(!waiting.await.unwrap(), "closing releases waiting senders");
    assert!(!s.push(Bytes::from_static(b"late")).await);
    assert!(s.pop().is_none());
}

#[test]
fn session_ids_round_trip() {
    let key = 0x0123_4567_89ab_cdef_0011_2233_4455_6677_u128;
    let id = session_id(key);
    assert_eq!(id, "sse-0123456789abcdef0011223344556677");
    assert_eq!(parse_session_id(&id), Some(key));
    assert_eq!(parse_session_id(&session_id(1)), Some(1));
    for bad in [
        "",
        "sse-",
        "nope",
        "sse-0123",
        "sse-+123456789abcdef001122334455667",
    ] {
        assert_eq!(parse_session_id(bad), None, "{bad}");
    }
}
