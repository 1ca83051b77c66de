//! The TCP side: a listener whose connections can be dropped or silenced on demand, so tests
//! can simulate a lost or dead push link without touching the socket.io server's internals.
//!
//! A request to `/socket.io/` marks its connection as a push connection. "Drop all sockets"
//! resets every push connection; "stall" stops all traffic on them (no pings, no pongs, no close)
//! until cleared, keeping the TCP connection open like a dead NAT mapping would
//! (docs/PROTOCOL.md §2.8). Ordinary HTTP
//! connections are never affected. This module must never touch non-loopback addresses.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Per-connection switches, shared between the stream and the request layer.
#[derive(Debug, Default)]
pub struct ConnControl {
    push: AtomicBool,
    killed: AtomicBool,
    read_waker: AtomicWaker,
    write_waker: AtomicWaker,
}

impl ConnControl {
    pub fn mark_push(&self) {
        self.push.store(true, Ordering::SeqCst);
    }
    fn wake(&self) {
        self.read_waker.wake();
        self.write_waker.wake();
    }
}

/// Registry of live connections and the global stall switch.
#[derive(Debug, Default)]
pub struct Connections {
    live: Mutex<Vec<Weak<ConnControl>>>,
    stalled: AtomicBool,
    /// Push connections dropped by the server while stalled, kept open (silent) until unstalled.
    graveyard: Mutex<Vec<TcpStream>>,
}

impl Connections {
    fn register(&self, c: &Arc<ConnControl>) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(c));
    }

    fn each_push(&self, f: impl Fn(&ConnControl)) -> usize {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        for c in live.iter().filter_map(Weak::upgrade) {
            if c.push.load(Ordering::SeqCst) {
                f(&c);
                n += 1;
            }
        }
        n
    }

    /// Resets every push connection (the client sees the transport close).
    pub fn drop_push(&self) -> usize {
        let n = self.each_push(|c| {
            c.killed.store(true, Ordering::SeqCst);
            c.wake();
        });
        self.graveyard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        n
    }

    /// Stops (or resumes) all traffic on push connections.
    pub fn set_stalled(&self, on: bool) {
        self.stalled.store(on, Ordering::SeqCst);
        if !on {
            self.graveyard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            self.each_push(ConnControl::wake);
        }
    }

    pub fn stalled(&self) -> bool {
        self.stalled.load(Ordering::SeqCst)
    }
}

/// The address type handed to axum: the peer plus this connection's switches.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub control: Arc<ConnControl>,
}

impl Connected<IncomingStream<'_, ControlledListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, ControlledListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP listener whose streams obey [`Connections`].
pub struct ControlledListener {
    pub inner: TcpListener,
    pub conns: Arc<Connections>,
}

impl axum::serve::Listener for ControlledListener {
    type Io = ControlledStream;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let control = Arc::new(ConnControl::default());
                    self.conns.register(&control);
                    let io = ControlledStream {
                        inner: Some(tcp),
                        control: control.clone(),
                        conns: self.conns.clone(),
                    };
                    return (io, ConnInfo { peer, control });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnInfo {
            peer: self.inner.local_addr()?,
            control: Arc::new(ConnControl::default()),
        })
    }
}

/// A TCP stream that can be reset or silenced from outside.
pub struct ControlledStream {
    inner: Option<TcpStream>,
    control: Arc<ConnControl>,
    conns: Arc<Connections>,
}

impl ControlledStream {
    fn silenced(&self) -> bool {
        self.control.push.load(Ordering::SeqCst) && self.conns.stalled()
    }
    fn killed(&self) -> bool {
        self.control.killed.load(Ordering::SeqCst)
    }
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "push connection dropped by fault",
    )
}

impl AsyncRead for ControlledStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.control.read_waker.register(cx.waker());
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        if self.silenced() {
            return Poll::Pending;
        }
        match self.inner.as_mut() {
            Some(s) => Pin::new(s).poll_read(cx, buf),
            None => Poll::Ready(Err(reset())),
        }
    }
}

impl AsyncWrite for ControlledStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.control.write_waker.register(cx.waker());
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        if self.silenced() {
            return Poll::Pending;
        }
        match self.inner.as_mut() {
            Some(s) => Pin::new(s).poll_write(cx, buf),
            None => Poll::Ready(Err(reset())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.control.write_waker.register(cx.waker());
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        if self.silenced() {
            return Poll::Pending;
        }
        match self.inner.as_mut() {
            Some(s) => Pin::new(s).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.silenced() && !self.killed() {
            // A silenced link never closes cleanly; Drop parks the socket.
            return Poll::Ready(Ok(()));
        }
        match self.inner.as_mut() {
            Some(s) => Pin::new(s).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl Drop for ControlledStream {
    fn drop(&mut self) {
        if self.silenced() && !self.killed() {
            if let Some(s) = self.inner.take() {
                self.conns
                    .graveyard
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(s);
            }
        }
    }
}
