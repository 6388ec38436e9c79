//! The HTTP layer `serve` (the public site's preview) and the desk share:
//! axum routers served by hyper on tokio, one connection loop with the
//! limits both need and `axum::serve` does not offer:
//!
//! - at most `Limits::max_connections` connections at once: past the cap a
//!   new connection is closed at once (a browser retries);
//! - a deadline for a request's line and headers (`Limits::deadline`, hyper's
//!   header read timeout): a client sending a byte now and then is cut off
//!   all the same, so slow clients cannot hold the slots for ever;
//! - the same deadline for each write the client does not take (`Stalled`),
//!   so a client that stops reading a response lets its slot go;
//! - a bound on a request's head (`Limits::max_head`).
//!
//! What a request may ask (hosts, methods, bodies, sessions) is each
//! router's own tower layers; `is_loopback_host` is the check both make when
//! they answer only on this machine. This module knows nothing of sites,
//! ledgers or desks.

use anyhow::{Context, Result};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;

/// What one server allows each client.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    /// The time a client has to send a request's line and headers, and the
    /// longest one write of a response may wait for the client to take it.
    pub deadline: Duration,
    /// The most bytes of a request's line and headers (at least 8 KiB).
    pub max_head: usize,
    /// Keep a connection open for another request (the desk), or close it
    /// after each response (the preview, as it always has).
    pub keep_alive: bool,
}

/// Completes when the process is asked to stop: Ctrl+C, or SIGTERM (what
/// `kill`, a service manager or the machine shutting down sends). Either
/// ends a server cleanly, so the folders it made for itself are removed.
/// The signals are caught from this call on (inside the runtime), not from
/// the first poll: a stop asked for while the server starts is not lost.
pub fn stop_requested() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return Ok(()),
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before it was
            // taken: wait a little rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.deadline)
            .max_buf_size(limits.max_head.max(8192))
            .keep_alive(limits.keep_alive);
        let io = TokioIo::new(Stalled::new(stream, limits.deadline));
        tokio::spawn(async move {
            let _ = http.serve_connection(io, service).await;
            drop(slot);
        });
    }
}

/// Binds `address` for a server (on the runtime that will serve it).
pub async fn bind(address: std::net::SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// A two-thread runtime for a server: the machine is the officer's, the
/// work per request small (blocking work goes to `spawn_blocking`).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the server's runtime")
}

/// Whether a `Host` header names this machine's loopback. A page on another
/// site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends
/// its own name, and is refused.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// A connection whose writes fail once one has waited `deadline` for the
/// client to take the bytes. Reads wait as long as they must: hyper's header
/// timeout bounds a request's head, and an open event stream reads nothing.
struct Stalled {
    stream: TcpStream,
    deadline: Duration,
    waiting: Option<Pin<Box<Sleep>>>,
}

impl Stalled {
    fn new(stream: TcpStream, deadline: Duration) -> Stalled {
        Stalled {
            stream,
            deadline,
            waiting: None,
        }
    }

    /// After the stream said `Pending`: arms the deadline, or fails past it.
    fn pending<T>(&mut self, context: &mut TaskContext<'_>) -> Poll<io::Result<T>> {
        let deadline = self.deadline;
        let sleep = self
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(deadline)));
        match sleep.as_mut().poll(context) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not take the response",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn settle<T>(
        &mut self,
        poll: Poll<io::Result<T>>,
        context: &mut TaskContext<'_>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.pending(context),
            ready => {
                self.waiting = None;
                ready
            }
        }
    }
}

impl AsyncRead for Stalled {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(context, buf)
    }
}

impl AsyncWrite for Stalled {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(context, buf);
        this.settle(poll, context)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_flush(context);
        this.settle(poll, context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_shutdown(context);
        this.settle(poll, context)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(context, bufs);
        this.settle(poll, context)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_are_answered() {
        for host in [
            "localhost",
            "localhost:1111",
            "127.0.0.1:1111",
            "[::1]:80",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:1111",
            "127.0.0.1.evil.example",
            "localhost.",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
