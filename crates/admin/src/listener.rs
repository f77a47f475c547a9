//! The staff API's socket edge: the accept loop (at most [`Limits::max_connections`] open, and
//! [`Limits::max_connections_per_address`] from one address or IPv6 /64; accept errors logged and retried,
//! never fatal), optional TLS, and per connection hyper's HTTP/1 with bounded header bytes, a header
//! deadline, an idle keep-alive limit (short until a valid token was shown) and a write-stall limit,
//! enforced by [`Guarded`].

use super::Limits;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};

/// The peer's address, put on every request for the throttle and the journal.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// What the request side tells the connection's guard: a head was parsed, a response is done.
#[derive(Debug, Default)]
pub struct ConnState {
    /// Bytes of a request head have arrived and the head is not complete yet.
    head_started: AtomicBool,
    /// A request is being handled (its own timeout covers it, body included).
    in_request: AtomicBool,
    /// A request ended: the idle clock restarts from now.
    ended: AtomicBool,
    /// A request on this connection showed a valid token: it may idle the full keep-alive time.
    authenticated: AtomicBool,
}

/// The connection a request came on, for the gate to mark it authenticated.
#[derive(Debug, Clone)]
pub struct ConnAuth(Arc<ConnState>);

impl ConnAuth {
    pub fn authenticated(&self) {
        self.0.authenticated.store(true, Ordering::SeqCst);
    }
}

/// Whose connections are counted together: an IPv4 address, or an IPv6 /64 (one subscriber's network;
/// one host can take any address in it). A v4-mapped IPv6 address counts as its IPv4 address.
pub fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

/// Open connections per [`peer_key`]; a [`PeerSlot`] gives its place back when the connection ends.
#[derive(Debug, Default)]
struct PerPeer(std::sync::Mutex<HashMap<IpAddr, usize>>);

struct PeerSlot {
    counts: Arc<PerPeer>,
    key: IpAddr,
}

impl PerPeer {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let key = peer_key(ip);
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(key).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot { counts: self.clone(), key })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

impl ConnState {
    fn begin(&self) {
        self.head_started.store(false, Ordering::SeqCst);
        self.in_request.store(true, Ordering::SeqCst);
    }
    fn end(&self) {
        self.in_request.store(false, Ordering::SeqCst);
        self.ended.store(true, Ordering::SeqCst);
    }
}

/// The answer to a client whose request head did not arrive in time.
const HEAD_TIMEOUT_RESPONSE: &[u8] = b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: 84\r\n\r\n{\"error\":\"The request head did not arrive in time; send the whole request at once.\"}";

/// A connection's byte stream with the deadlines hyper does not keep the way the kiosk needs: the head
/// must arrive within `header_read` of its first byte (or of the connection opening), an idle keep-alive
/// connection closes after `idle`, and a client that stops reading its response is dropped after `idle`.
pub struct Guarded<S> {
    inner: S,
    state: Arc<ConnState>,
    limits: Limits,
    head_deadline: Option<Instant>,
    idle_from: Instant,
    write_stalled_since: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, state: Arc<ConnState>, limits: Limits) -> Guarded<S> {
        let now = Instant::now();
        // A new connection owes its first head within the header deadline, like any other.
        state.head_started.store(true, Ordering::SeqCst);
        Guarded {
            inner,
            state,
            limits,
            head_deadline: Some(now + limits.header_read),
            idle_from: now,
            write_stalled_since: None,
            timer: Box::pin(tokio::time::sleep_until(now + limits.header_read)),
        }
    }

    /// Polls the timer for `deadline`: ready when it has passed.
    fn expired(&mut self, cx: &mut Context<'_>, deadline: Instant) -> bool {
        if Instant::now() >= deadline {
            return true;
        }
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        self.timer.as_mut().poll(cx).is_ready()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.state.ended.swap(false, Ordering::SeqCst) {
            this.idle_from = Instant::now();
            this.head_deadline = None;
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && !this.state.in_request.load(Ordering::SeqCst) {
                    let now = Instant::now();
                    this.idle_from = now;
                    if !this.state.head_started.swap(true, Ordering::SeqCst) || this.head_deadline.is_none() {
                        this.head_deadline = Some(now + this.limits.header_read);
                    }
                }
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {}
        }
        if this.state.in_request.load(Ordering::SeqCst) {
            // The handler's own deadline (the whole request) bounds a slow body.
            return Poll::Pending;
        }
        if this.state.head_started.load(Ordering::SeqCst) {
            if let Some(deadline) = this.head_deadline
                && this.expired(cx, deadline)
            {
                // Best effort: the answer fits in the socket buffer; the connection closes either way.
                let _ = Pin::new(&mut this.inner).poll_write(cx, HEAD_TIMEOUT_RESPONSE);
                let _ = Pin::new(&mut this.inner).poll_flush(cx);
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head timed out")));
            }
        } else {
            // Until a valid token was shown, a connection may not sit idle for long.
            let idle = if this.state.authenticated.load(Ordering::SeqCst) {
                this.limits.idle
            } else {
                this.limits.idle_unauthenticated
            };
            let deadline = this.idle_from + idle;
            if this.expired(cx, deadline) {
                // An idle keep-alive connection ends like a client that hung up.
                return Poll::Ready(Ok(()));
            }
        }
        Poll::Pending
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, data) {
            Poll::Ready(r) => {
                this.write_stalled_since = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let since = *this.write_stalled_since.get_or_insert_with(Instant::now);
                if this.expired(cx, since + this.limits.idle) {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")));
                }
                Poll::Pending
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts until `stop` says so. A connection beyond the limit is closed at once; an accept error (out of
/// file handles, say) is logged once a second at most and retried: the listener never gives up.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let per_peer = Arc::new(PerPeer::default());
    let mut last_complaint: Option<Instant> = None;
    let mut complain = |what: String| {
        if last_complaint.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            log::warn!("staff API: {what}");
            last_complaint = Some(Instant::now());
        }
    };
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                complain(format!("cannot accept a connection ({e}); retrying"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(peer_slot) = per_peer.take(peer.ip(), limits.max_connections_per_address) else {
            complain(format!(
                "{} connections from {} are open; refusing another",
                limits.max_connections_per_address,
                peer_key(peer.ip())
            ));
            drop(stream);
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            complain(format!("{} connections are open; refusing {peer}", limits.max_connections));
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, tls, stop) = (router.clone(), tls.clone(), stop.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, router, limits, stop).await,
                Some(acceptor) => match tokio::time::timeout(limits.header_read, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(tls, peer, router, limits, stop).await,
                    Ok(Err(e)) => log::debug!("staff API: TLS handshake with {peer} failed ({e})"),
                    Err(_) => log::debug!("staff API: TLS handshake with {peer} timed out"),
                },
            }
            drop(permit);
            drop(peer_slot);
        });
    }
}

async fn serve_connection<S>(
    io: S,
    peer: SocketAddr,
    router: axum::Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use tower::ServiceExt;
    let state = Arc::new(ConnState::default());
    let guarded = Guarded::new(io, state.clone(), limits);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(Peer(peer));
        req.extensions_mut().insert(ConnAuth(state.clone()));
        state.begin();
        let state = state.clone();
        let call = router.clone().oneshot(req.map(axum::body::Body::new));
        async move {
            let response = call.await;
            state.end();
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes)
        .keep_alive(true);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(guarded), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                log::debug!("staff API: connection from {peer} ended: {e}");
            }
        }
        _ = stop.changed() => {
            // Finish the request in hand, then close; a client that dawdles is cut after a grace period.
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits() -> Limits {
        Limits {
            header_read: Duration::from_millis(200),
            idle: Duration::from_millis(600),
            idle_unauthenticated: Duration::from_millis(300),
            ..Limits::default()
        }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_head_that_dawdles_gets_408_and_the_connection_closes() {
        let (client, server) = tokio::io::duplex(4096);
        let state = Arc::new(ConnState::default());
        let mut g = Guarded::new(server, state, limits());
        let (mut rd, mut wr) = tokio::io::split(client);
        wr.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = g.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"GET / HTTP/1.1\r\nHost: x\r\n");
        let err = g.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let mut answer = vec![0u8; HEAD_TIMEOUT_RESPONSE.len()];
        rd.read_exact(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 408 "));
        let text = std::str::from_utf8(&answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let declared = head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap();
        assert_eq!(declared.parse::<usize>().unwrap(), body.len(), "Content-Length matches the body");
        assert!(serde_json::from_str::<serde_json::Value>(body).unwrap()["error"].is_string());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_idle_keep_alive_connection_closes_after_the_idle_limit_not_the_header_limit() {
        let (_client, server) = tokio::io::duplex(4096);
        let state = Arc::new(ConnState::default());
        let mut g = Guarded::new(server, state.clone(), limits());
        // A request with a valid token came and went: the connection is idle from now.
        state.begin();
        ConnAuth(state.clone()).authenticated();
        state.end();
        let start = Instant::now();
        let mut buf = [0u8; 8];
        let n = g.read(&mut buf).await.unwrap();
        assert_eq!(n, 0, "reads as the client hanging up");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(600) && waited < Duration::from_millis(700), "{waited:?}");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_connection_that_never_sends_is_closed_at_the_header_deadline() {
        let (_client, server) = tokio::io::duplex(4096);
        let mut g = Guarded::new(server, Arc::new(ConnState::default()), limits());
        let start = Instant::now();
        let mut buf = [0u8; 8];
        assert!(g.read(&mut buf).await.is_err());
        assert!(start.elapsed() < Duration::from_millis(300));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_connection_that_never_showed_a_valid_token_idles_only_briefly() {
        let (_client, server) = tokio::io::duplex(4096);
        let state = Arc::new(ConnState::default());
        let mut g = Guarded::new(server, state.clone(), limits());
        // A request came and went without a valid token (it was answered 401 or 429).
        state.begin();
        state.end();
        let start = Instant::now();
        let mut buf = [0u8; 8];
        assert_eq!(g.read(&mut buf).await.unwrap(), 0, "reads as the client hanging up");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_millis(400), "{waited:?}");
    }

    #[test]
    fn an_ipv6_slash_64_is_one_peer_and_a_mapped_ipv4_is_its_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(peer_key(a), peer_key(b));
        assert_ne!(peer_key(a), peer_key(c));
        assert_eq!(peer_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7".parse::<IpAddr>().unwrap());
        let counts = Arc::new(PerPeer::default());
        let held: Vec<PeerSlot> = (0..3).map(|_| counts.take(a, 3).unwrap()).collect();
        assert!(counts.take(b, 3).is_none(), "the /64's fourth connection is refused");
        assert!(counts.take(c, 3).is_some(), "another /64 is not");
        drop(held);
        assert!(counts.take(b, 3).is_some(), "places come back when connections end");
    }
}
