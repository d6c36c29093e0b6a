//! Serving an axum router on a bound listener, shared by the MCP and REST doors: plain HTTP or
//! HTTPS (rustls with ring, see `tls.rs`), `TCP_NODELAY` on every accepted connection, and a
//! graceful drain when the shutdown token is cancelled.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::{Listener, ListenerExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

/// Longest time a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` over plain HTTP on `listener` until `shutdown` is cancelled, then drains
/// open connections (event streams end on shutdown too).
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve_router(listener, router, None, shutdown).await
}

/// Serves `router` on `listener`, over HTTPS when `tls` is given, until `shutdown` is
/// cancelled, then drains.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let drain = shutdown.clone();
    let graceful = async move { drain.cancelled().await };
    // One router shared by every connection (a clone of an `Arc`), rather than the per-connection
    // conversion `axum::serve(listener, router)` makes: ~1.2 kB less per open event stream.
    let router = router.into_make_service();
    match tls {
        None => {
            // No Nagle delay: a response written in several pieces (rmcp's SSE-framed answers)
            // would otherwise wait for the client's delayed ACK (40 ms on Linux).
            let listener = listener.tap_io(|tcp| set_nodelay(tcp));
            axum::serve(listener, router)
                .with_graceful_shutdown(graceful)
                .await
        }
        Some(cfg) => {
            let listener = TlsListener::spawn(listener, TlsAcceptor::from(cfg), shutdown)?;
            axum::serve(listener, router)
                .with_graceful_shutdown(graceful)
                .await
        }
    }
}

fn set_nodelay(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
}

/// A listener handing out TLS streams whose handshake is done. Handshakes run in their own
/// tasks, so a slow or silent client never holds up the others.
struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    fn spawn(
        tcp: TcpListener,
        acceptor: TlsAcceptor,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tx.closed() => break,
                    r = tcp.accept() => match r {
                        Ok(c) => c,
                        Err(e) => {
                            // Out of file descriptors and the like: wait a little, go on.
                            tracing::debug!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                set_nodelay(&stream);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { ready, local })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The acceptor stopped (shutdown): accept nothing more while the server drains.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
