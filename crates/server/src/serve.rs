//! The accept loop in front of the router: HTTP/1.1 over hyper with a header-read timeout, an
//! idle keep-alive timeout and caps on open connections, which `axum::serve` does not have.
//!
//! Invariants:
//! - A connection with no request in flight never outlives its deadline: the request header
//!   must be complete `header_timeout` after the accept (first request) or after the first
//!   byte of a later request; a keep-alive connection may wait `idle_timeout` for that first
//!   byte. A connection with a request in flight is never cut by these timers (the router's
//!   request timeout bounds the handler).
//! - At most `max_connections` connections are open, and at most `max_per_network` per client
//!   network (trusted proxies excepted); above a cap a connection is accepted and closed at
//!   once, so it does not sit in the kernel's backlog, and shedding is logged at most once a
//!   second with counts, never an address.
//! - All of this is per-connection work; per request there is one atomic store when it
//!   arrives and one clock read and store when its response is ready.
//! - Shutdown stops accepting, closes connections that have no request in flight, lets the
//!   others finish their request, and returns when every connection is closed.
//! - Handlers read `ConnectInfo<SocketAddr>` as under `into_make_service_with_connect_info`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::{Connections, FD_RESERVE};

/// The key a connection is counted under for the per-network cap (the rate limiter's salted
/// hash of the /24 or /48 network); `None`: counted only against the global cap.
pub type NetworkKey = [u8; 16];

/// Connection limits in force, resolved from [`Connections`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// 0: no per-network cap.
    pub max_per_network: usize,
}

/// Used when the open-file limit cannot be read (not Linux): the common soft limit of 1024.
const ASSUMED_FILE_LIMIT: u64 = 1024;
/// Bounds of a derived global cap: some connections even under a tiny open-file limit, and
/// no unbounded cap when the limit is "unlimited".
const AUTO_MIN: usize = 16;
const AUTO_MAX: usize = 1 << 20;
/// Wait after an accept error that is not the client's (out of descriptors, most likely), so
/// the loop does not spin while connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// At most one shedding log line per this interval.
const LOG_EVERY: Duration = Duration::from_secs(1);

impl Limits {
    /// Resolves `max = 0` from the open-file limit, so that connections at their cap leave
    /// descriptors for the store and the logs.
    pub fn from_config(c: &Connections) -> Limits {
        let max_connections = if c.max > 0 {
            c.max
        } else {
            auto_max(open_file_limit())
        };
        Limits {
            header_timeout: Duration::from_millis(c.header_timeout_ms.max(1)),
            idle_timeout: Duration::from_millis(c.idle_timeout_ms.max(1)),
            max_connections,
            max_per_network: c.max_per_network,
        }
    }
}

fn auto_max(file_limit: Option<u64>) -> usize {
    let limit = file_limit.unwrap_or(ASSUMED_FILE_LIMIT);
    usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(FD_RESERVE)
        .clamp(AUTO_MIN, AUTO_MAX)
}

/// The soft `RLIMIT_NOFILE` of this process, read from `/proc/self/limits` (no `unsafe`
/// `getrlimit`); `None` where there is no such file. "unlimited" reads as `u64::MAX`.
pub fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_file_limit(&text)
}

fn parse_file_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains (see the module
/// invariants). `network_key` maps a peer address to its per-network key; it is called once
/// per accepted connection.
pub async fn serve<K>(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    network_key: K,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()>
where
    K: Fn(IpAddr) -> Option<NetworkKey> + Send + 'static,
{
    let tracker = Arc::new(Tracker::new(limits));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut log = ShedLog::default();
    let mut tick = tokio::time::interval(LOG_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            _ = tick.tick() => {
                log.flush(false);
                continue;
            }
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                log.accept_error(&e);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let key = if limits.max_per_network > 0 {
            network_key(peer.ip())
        } else {
            None
        };
        match tracker.admit(key) {
            Ok(slot) => {
                tokio::spawn(connection(
                    stream,
                    peer,
                    router.clone(),
                    limits,
                    slot,
                    stop_rx.clone(),
                ));
            }
            Err(cap) => {
                // Accept and close: the client learns at once, and the backlog stays free
                // for the clients under the cap.
                drop(stream);
                log.shed(cap);
            }
        }
    }
    // Refuse new connections while the open ones drain.
    drop(listener);
    log.flush(true);
    let _ = stop_tx.send(true);
    drop(stop_rx);
    stop_tx.closed().await;
    Ok(())
}

/// Errors of one incoming connection (it went away before we took it), not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection and enforces its header and idle deadlines.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    slot: Slot,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let (on_request, on_response) = (activity.clone(), activity.clone());
    let service = router
        .map_request(move |req: Request<Incoming>| {
            on_request.request_started();
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        })
        .map_response(move |resp: Response| {
            on_response.response_ready();
            resp
        });
    let mut builder = http1::Builder::new();
    // hyper's own header timer restarts when a keep-alive connection goes idle, so it would
    // also cut idle connections at the header timeout; the deadlines below replace it.
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(conn);
    let timer = tokio::time::sleep_until(activity.start + limits.header_timeout);
    tokio::pin!(timer);
    let mut stopping = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::trace!(error = %e, "connection ended");
                }
                break;
            }
            () = timer.as_mut() => {
                let now = Instant::now();
                match activity.deadline(&limits) {
                    Some(d) if d <= now => break,
                    _ if stopping && !activity.busy() => break,
                    Some(d) => timer.as_mut().reset(d),
                    // A request is in flight: look again later.
                    None => timer
                        .as_mut()
                        .reset(now + limits.header_timeout.min(limits.idle_timeout)),
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                if !activity.busy() {
                    break;
                }
                // Finish the request in flight, then close instead of keeping alive.
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    // Dropping `conn` closes the socket; dropping `slot` frees its place under the caps.
    drop(slot);
}

// ---------------------------------------------------------------------------------------
// Per-connection activity

const HEADER: u8 = 0;
const BUSY: u8 = 1;
const IDLE: u8 = 2;

/// Where a connection is in its request cycle, and since when (milliseconds after `start`).
/// Written and read only from the connection's own task (hyper polls the IO, the service and
/// its futures inside the connection future), so relaxed atomics suffice.
struct Activity {
    start: Instant,
    phase: AtomicU8,
    since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            phase: AtomicU8::new(HEADER),
            since_ms: AtomicU64::new(0),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The first byte of a request on an idle connection starts its header deadline.
    fn bytes_read(&self) {
        if self.phase.load(Ordering::Relaxed) == IDLE {
            self.since_ms.store(self.elapsed_ms(), Ordering::Relaxed);
            self.phase.store(HEADER, Ordering::Relaxed);
        }
    }

    fn request_started(&self) {
        self.phase.store(BUSY, Ordering::Relaxed);
    }

    /// The response is handed to hyper: the connection waits for its next request (a client
    /// that does not read the response is closed after the idle timeout too).
    fn response_ready(&self) {
        self.since_ms.store(self.elapsed_ms(), Ordering::Relaxed);
        self.phase.store(IDLE, Ordering::Relaxed);
    }

    fn busy(&self) -> bool {
        self.phase.load(Ordering::Relaxed) == BUSY
    }

    /// When the connection must be closed; `None` while a request is in flight.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let since = self.start + Duration::from_millis(self.since_ms.load(Ordering::Relaxed));
        match self.phase.load(Ordering::Relaxed) {
            HEADER => Some(since + limits.header_timeout),
            IDLE => Some(since + limits.idle_timeout),
            _ => None,
        }
    }
}

/// The socket, noting when bytes arrive.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------
// Caps

/// Which cap a shed connection was over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    Global,
    Network,
}

/// Open connections, in total and per network key. Only the accept loop admits; slots are
/// released from the connection tasks.
struct Tracker {
    limits: Limits,
    open: AtomicUsize,
    per_network: Mutex<HashMap<NetworkKey, usize>>,
}

impl Tracker {
    fn new(limits: Limits) -> Self {
        Tracker {
            limits,
            open: AtomicUsize::new(0),
            per_network: Mutex::new(HashMap::new()),
        }
    }

    fn networks(&self) -> MutexGuard<'_, HashMap<NetworkKey, usize>> {
        // A panic elsewhere cannot leave the counts half-written: every update is one step.
        self.per_network
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn admit(self: &Arc<Self>, key: Option<NetworkKey>) -> Result<Slot, Cap> {
        if self.open.load(Ordering::Acquire) >= self.limits.max_connections {
            return Err(Cap::Global);
        }
        if let Some(k) = key {
            let mut nets = self.networks();
            let n = nets.entry(k).or_insert(0);
            if *n >= self.limits.max_per_network {
                return Err(Cap::Network);
            }
            *n += 1;
        }
        self.open.fetch_add(1, Ordering::AcqRel);
        Ok(Slot {
            tracker: self.clone(),
            key,
        })
    }
}

/// A connection's place under the caps, given back on drop.
struct Slot {
    tracker: Arc<Tracker>,
    key: Option<NetworkKey>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(k) = self.key {
            let mut nets = self.tracker.networks();
            if let Some(n) = nets.get_mut(&k) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    nets.remove(&k);
                }
            }
        }
        self.tracker.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts shed connections and accept errors and logs them at most once per [`LOG_EVERY`]:
/// an attack must not turn into a flood of log lines, and no line names a client.
#[derive(Default)]
struct ShedLog {
    over_global: u64,
    over_network: u64,
    accept_errors: u64,
    last_error: Option<String>,
    last: Option<Instant>,
}

impl ShedLog {
    fn shed(&mut self, cap: Cap) {
        match cap {
            Cap::Global => self.over_global += 1,
            Cap::Network => self.over_network += 1,
        }
        self.flush(false);
    }

    fn accept_error(&mut self, e: &io::Error) {
        self.accept_errors += 1;
        self.last_error = Some(e.to_string());
        self.flush(false);
    }

    fn flush(&mut self, force: bool) {
        if self.over_global + self.over_network + self.accept_errors == 0 {
            return;
        }
        if !force && self.last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
            return;
        }
        if self.over_global + self.over_network > 0 {
            tracing::warn!(
                over_global_cap = self.over_global,
                over_network_cap = self.over_network,
                "connections shed: accepted and closed above the connection caps"
            );
        }
        if self.accept_errors > 0 {
            tracing::error!(
                count = self.accept_errors,
                error = self.last_error.as_deref().unwrap_or(""),
                "accepting connections failed"
            );
        }
        *self = ShedLog {
            last: Some(Instant::now()),
            ..ShedLog::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_net: usize) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            max_connections: max,
            max_per_network: per_net,
        }
    }

    #[test]
    fn file_limit_is_read_from_proc() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             63704                63704                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(parse_file_limit(text), Some(1024));
        assert_eq!(
            parse_file_limit("Max open files            unlimited            unlimited   files"),
            Some(u64::MAX)
        );
        assert_eq!(parse_file_limit("nothing here"), None);
        assert_eq!(auto_max(Some(1024)), 1024 - FD_RESERVE);
        assert_eq!(auto_max(Some(20)), AUTO_MIN);
        assert_eq!(auto_max(Some(u64::MAX)), AUTO_MAX);
        assert_eq!(auto_max(None), 1024 - FD_RESERVE);
    }

    #[test]
    fn caps_count_and_release() {
        let t = Arc::new(Tracker::new(limits(3, 2)));
        let a = [1u8; 16];
        let b = [2u8; 16];
        let s1 = t.admit(Some(a)).unwrap();
        let s2 = t.admit(Some(a)).unwrap();
        assert_eq!(t.admit(Some(a)).err(), Some(Cap::Network));
        let s3 = t.admit(Some(b)).unwrap();
        assert_eq!(t.admit(None).err(), Some(Cap::Global));
        drop(s1);
        let s4 = t.admit(None).unwrap();
        drop((s2, s3, s4));
        assert_eq!(t.open.load(Ordering::Relaxed), 0);
        assert!(t.networks().is_empty(), "no key outlives its connections");
    }

    #[test]
    fn deadlines_follow_the_request_cycle() {
        let l = limits(1, 1);
        let act = Activity::new();
        assert_eq!(act.deadline(&l), Some(act.start + l.header_timeout));
        act.request_started();
        assert_eq!(act.deadline(&l), None);
        act.bytes_read(); // request body: still busy
        assert_eq!(act.deadline(&l), None);
        act.response_ready();
        let idle = act.deadline(&l).unwrap();
        assert!(idle >= act.start + l.idle_timeout);
        act.bytes_read();
        assert!(!act.busy());
        assert!(act.deadline(&l).unwrap() >= act.start + l.header_timeout);
    }
}
