//! Sends the head of a Streamable HTTP answer together with its first message. rmcp answers a
//! POST with an event stream whose headers and priming event are ready at once, before the tool
//! has run; sent as they are, the client gets two writes (and two wake-ups) per call. Here the
//! response is held until the stream yields its first JSON-RPC message or ends, for at most
//! [`HOLD`], so that a quick answer leaves in one write. The bytes are unchanged; a slow tool
//! (a task still running after [`HOLD`]) gets its headers and priming event as before.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;

/// The longest a response's head waits for its first message.
pub(super) const HOLD: Duration = Duration::from_millis(100);

/// `resp` with its body's first chunks read ahead, up to the first one that carries a JSON-RPC
/// message, the end of the stream, or `hold`. Responses that are not a `200` event stream pass
/// through untouched.
pub(super) async fn with_first_message(resp: Response, hold: Duration) -> Response {
    if resp.status() != StatusCode::OK || !is_event_stream(resp.headers().get(header::CONTENT_TYPE))
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let mut stream = body.into_data_stream();
    let mut head: Vec<Result<Bytes, axum::Error>> = Vec::new();
    let mut ended = false;
    let deadline = tokio::time::sleep(hold);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            next = stream.next() => match next {
                Some(Ok(chunk)) => {
                    let message = carries_message(&chunk);
                    head.push(Ok(chunk));
                    if message {
                        break;
                    }
                }
                Some(Err(e)) => {
                    head.push(Err(e));
                    break;
                }
                None => {
                    ended = true;
                    break;
                }
            },
            () = &mut deadline => break,
        }
    }
    let head = futures_util::stream::iter(head);
    let body = if ended {
        Body::from_stream(head)
    } else {
        Body::from_stream(head.chain(stream))
    };
    Response::from_parts(parts, body)
}

fn is_event_stream(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"))
}

/// Whether an SSE chunk holds an event with data (a JSON-RPC message), rather than only a
/// priming event (`data:` empty), a `retry:`/`id:` field or a keep-alive comment.
fn carries_message(chunk: &[u8]) -> bool {
    chunk.split(|&b| b == b'\n').any(|line| {
        line.strip_prefix(b"data:").is_some_and(|value| {
            let value = value.strip_prefix(b" ").unwrap_or(value);
            !value.is_empty() && value != b"\r"
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_priming_event_or_a_comment_is_not_a_message() {
        assert!(!carries_message(b"data: \nid: 0\nretry: 3000\n\n"));
        assert!(!carries_message(b"data:\nid: 0/0\n\n"));
        assert!(!carries_message(b":\n\n"));
        assert!(!carries_message(b"retry: 3000\n\n"));
        assert!(carries_message(
            b"data: {\"jsonrpc\":\"2.0\",\"id\":1}\nid: 0/1\n\n"
        ));
        assert!(carries_message(b"id: 7\ndata:{\"jsonrpc\":\"2.0\"}\n\n"));
    }

    fn event_stream(chunks: Vec<&'static [u8]>, then_pending: bool) -> Response {
        let items = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::convert::Infallible>(Bytes::from_static(c))),
        );
        let body = if then_pending {
            Body::from_stream(items.chain(futures_util::stream::pending()))
        } else {
            Body::from_stream(items)
        };
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .body(body)
            .unwrap()
    }

    #[tokio::test]
    async fn the_body_is_unchanged_when_the_answer_is_quick() {
        let resp = event_stream(
            vec![
                b"data: \nid: 0\nretry: 3000\n\n",
                b"data: {\"id\":1}\nid: 0/1\n\n",
            ],
            false,
        );
        let resp = with_first_message(resp, HOLD).await;
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(
            &bytes[..],
            b"data: \nid: 0\nretry: 3000\n\ndata: {\"id\":1}\nid: 0/1\n\n"
        );
    }

    #[tokio::test]
    async fn a_slow_answer_gets_its_head_after_the_hold() {
        // The stream never yields a message: the response must still come back, with the
        // priming event first and the rest of the stream still open behind it.
        let resp = event_stream(vec![b"data: \nid: 0\nretry: 3000\n\n"], true);
        let resp = tokio::time::timeout(
            Duration::from_secs(10),
            with_first_message(resp, Duration::from_millis(20)),
        )
        .await
        .unwrap();
        let mut stream = resp.into_body().into_data_stream();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(&first[..], b"data: \nid: 0\nretry: 3000\n\n");
        let next = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
        assert!(next.is_err(), "the stream stays open: {next:?}");
    }

    #[tokio::test]
    async fn other_responses_pass_through() {
        let resp = Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Body::empty())
            .unwrap();
        let resp = with_first_message(resp, HOLD).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
}
