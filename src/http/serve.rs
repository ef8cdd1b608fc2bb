//! The accept loop. `axum::serve` has no header-read or idle timeout and no connection cap,
//! so silent or trickling connections could pile up until the process ran out of file
//! descriptors and stopped accepting anyone. Here every connection gets:
//! - `header_read_timeout`: its request headers must arrive within it (hyper's HTTP/1 timer,
//!   which also runs while a keep-alive connection waits for its next request);
//! - `idle_timeout`: no bytes either way for that long closes it (also on HTTP/2, where
//!   hyper has no header timer); a connection that sends nothing at all is closed after
//!   `header_read_timeout` (hyper's timer only starts once it knows the protocol);
//! - a slot out of `max_connections`: at the cap, new connections wait in the backlog.
//!
//! Shutdown: stop accepting, let in-flight requests finish for at most `grace`, then drop
//! every connection still open.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ServerConfig;

/// File descriptors kept free for everything but client connections (database pool,
/// outbound HTTP, logs).
const RESERVED_FDS: u64 = 128;

#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    pub grace: Duration,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl From<&ServerConfig> for ServeOptions {
    fn from(server: &ServerConfig) -> Self {
        Self {
            grace: server.shutdown_timeout,
            header_read_timeout: server.header_read_timeout,
            idle_timeout: server.idle_timeout,
            max_connections: server.max_connections,
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self::from(&ServerConfig::default())
    }
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
/// `options.grace` before closing the connections still open.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(connection_cap(options.max_connections)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        // Above the /api limit, so that one answers 431 with the JSON envelope.
        .max_headers(2 * super::envelope::MAX_HEADERS);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning; the next accept may work.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        // Without TCP_NODELAY, Nagle holds back the tail of a multi-segment response (or a
        // client's request) until the peer's delayed ACK: milliseconds per large upload.
        let _ = stream.set_nodelay(true);
        let connection = serve_connection(
            builder.clone(),
            stream,
            peer,
            router.clone(),
            stop_rx.clone(),
            options,
        );
        connections.spawn(async move {
            connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(options.grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            grace = ?options.grace,
            open = connections.len(),
            "in-flight requests did not finish in time; closing their connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

async fn serve_connection(
    builder: Arc<auto::Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<bool>,
    options: ServeOptions,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = TowerToHyperService::new(tower::service_fn(move |mut request: Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    }));
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            () = activity.idle_for(options.header_read_timeout, options.idle_timeout) => {
                tracing::debug!(%peer, "closing an idle connection");
                return;
            }
        }
    }
}

/// As many connections as configured, but never more than the file descriptors allow
/// (after raising the soft limit to the hard one, as most servers do).
fn connection_cap(configured: usize) -> usize {
    let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) else {
        return configured;
    };
    let possible = usize::try_from(limit.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX);
    if possible < configured {
        tracing::warn!(
            configured,
            possible,
            "server.max_connections exceeds what the open-file limit allows: capping it (raise `ulimit -n`)"
        );
    }
    configured.min(possible)
}

/// When a connection last moved a byte.
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last byte moved; 0 before the first.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now.max(1), Ordering::Relaxed);
    }

    /// Resolves once nothing has moved for `idle`, or nothing at all within `first_byte`
    /// (a connection that never speaks gets no longer than one that sends its headers slowly).
    async fn idle_for(&self, first_byte: Duration, idle: Duration) {
        loop {
            let last_ms = self.last_ms.load(Ordering::Relaxed);
            let limit = if last_ms == 0 { first_byte } else { idle };
            let deadline = self.start + Duration::from_millis(last_ms) + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A TCP stream that records when bytes last moved.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
