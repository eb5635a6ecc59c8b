//! The daemon's observability endpoint: `GET /healthz` and `GET /metrics`
//! over a minimal HTTP/1.1 server. One request per connection
//! (`Connection: close`), so there is no keep-alive, pipelining or request
//! body to handle; a scraper or a load balancer's health check needs no
//! more, and the small surface is easy to keep robust against slow or
//! hostile clients.

use super::Metrics;
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The most a request head (request line and headers) may take.
pub const MAX_HEAD: usize = 8 * 1024;

/// How long a client has to send its whole request head. A deadline for the
/// head as a whole, not per read, so that a client trickling one byte at a
/// time cannot hold its connection open longer.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// How long writing a response may take: a client that stops reading must
/// not keep its task (and file descriptor) forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to keep reading (and discarding) what a client still sends
/// after its response, before closing. Closing a socket with unread input
/// makes the kernel reset the connection and drop whatever of the response
/// it has not sent yet (typically a 431 to a client still sending its
/// head, or a 405 to a POST with a body).
const LINGER: Duration = Duration::from_secs(1);

/// The most bytes discarded while lingering.
const LINGER_BYTES: usize = 64 * 1024;

/// Connections handled at once: the daemon shares its file-descriptor limit
/// with its database connections, which matter more than a flood of
/// scrapes. Past it a new connection takes the place of the oldest one that
/// is only waiting on its client (see [`Slots`]).
pub const MAX_CONNECTIONS: usize = 64;

/// Connections one source address may hold at once. A probe or a scraper
/// needs one; past it a new connection from that address takes the place
/// of its oldest waiting one, so that one client cannot hold most slots.
pub const PER_ADDRESS: usize = 8;

/// The `Content-Type` of everything but `/metrics`.
const TEXT: &str = "text/plain; charset=utf-8";

/// The `Content-Type` of `/metrics`.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Health as `/healthz` reports it: `Err` carries the reason, sent with a
/// 503. Closures `Fn() -> Result<(), String>` implement it.
pub trait Health: Send + Sync {
    /// Ok when the daemon is healthy, else why not (one line).
    fn healthy(&self) -> Result<(), String>;
}

impl<F> Health for F
where
    F: Fn() -> Result<(), String> + Send + Sync,
{
    fn healthy(&self) -> Result<(), String> {
        self()
    }
}

/// Serves `/healthz` and `/metrics` on `listener` until `shutdown`
/// completes, each connection in its own task. Then it stops accepting and
/// returns (dropping the listener); responses under way finish on their own.
///
/// Errors only when the listener itself fails; running out of file
/// descriptors or a connection reset before it was accepted is waited out.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Arc<dyn Health>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    let slots = Arc::new(Slots::default());
    loop {
        let accepted = tokio::select! {
            // Checked first so that a pending shutdown wins over a backlog
            // of connections.
            biased;
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_transient(&e) => {
                tracing::warn!("metrics endpoint: accept failed: {e}");
                // Out of descriptors or memory: accepting again at once
                // would spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => return Err(e),
        };
        // Every slot busy writing a response: refuse (rare, and brief:
        // a response is small and its write has a deadline).
        let Some(slot) = slots.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let metrics = Arc::clone(&metrics);
        let health = Arc::clone(&health);
        tokio::spawn(async move {
            let evicted = Arc::clone(&slot.evict);
            tokio::select! {
                () = evicted.notified() => {}
                () = handle(stream, &slot, &metrics, health.as_ref()) => {}
            }
        });
    }
}

/// The connections being handled, oldest first. A slow or idle client
/// costs a slot for up to [`HEAD_TIMEOUT`]; so that a burst of them cannot
/// starve `/healthz`, a new connection never waits for a slot: it takes the
/// place of the oldest connection that is only waiting on its client (for
/// its request head, or lingering after its response), from its own
/// address once that address holds [`PER_ADDRESS`], else from anyone once
/// [`MAX_CONNECTIONS`] are open. A probe sends its head at once and is
/// answered in a millisecond, long before the burst could push it out.
#[derive(Default)]
struct Slots {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    /// The id of the next connection: ids grow, so the map is by age.
    next: u64,
    open: BTreeMap<u64, Open>,
}

/// One connection being handled.
struct Open {
    addr: IpAddr,
    /// Waiting on its client (may be evicted), not answering it.
    waiting: bool,
    evict: Arc<Notify>,
}

/// A connection's place among the [`Slots`]; given back when dropped.
struct Slot {
    slots: Arc<Slots>,
    id: u64,
    /// Notified when a newer connection takes this one's place.
    evict: Arc<Notify>,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // The state is plain data: a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection from `addr`, evicting an older waiting
    /// connection when needed; None when every candidate is busy answering.
    fn admit(self: &Arc<Self>, addr: IpAddr) -> Option<Slot> {
        let mut state = self.lock();
        let from_addr = state.open.values().filter(|o| o.addr == addr).count();
        if from_addr >= PER_ADDRESS {
            state.evict_oldest(|o| o.addr == addr)?;
        } else if state.open.len() >= MAX_CONNECTIONS {
            state.evict_oldest(|_| true)?;
        }
        let id = state.next;
        state.next += 1;
        let evict = Arc::new(Notify::new());
        state.open.insert(
            id,
            Open {
                addr,
                waiting: true,
                evict: Arc::clone(&evict),
            },
        );
        Some(Slot {
            slots: Arc::clone(self),
            id,
            evict,
        })
    }
}

impl SlotState {
    /// Frees the slot of the oldest waiting connection `pick` accepts and
    /// tells its task to close it.
    fn evict_oldest(&mut self, pick: impl Fn(&Open) -> bool) -> Option<()> {
        let id = self
            .open
            .iter()
            .find(|(_, o)| o.waiting && pick(o))
            .map(|(id, _)| *id)?;
        let open = self.open.remove(&id)?;
        // Stored if its task is not listening yet: it ends at its next poll.
        open.evict.notify_one();
        Some(())
    }
}

impl Slot {
    /// Marks the connection as waiting on its client (evictable) or not.
    fn waiting(&self, waiting: bool) {
        if let Some(open) = self.slots.lock().open.get_mut(&self.id) {
            open.waiting = waiting;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().open.remove(&self.id);
    }
}

/// Accept failures that pass: the process or system is short of resources.
fn is_transient(e: &io::Error) -> bool {
    use nix::errno::Errno;
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
    )
}

/// Accept failures that concern one connection only.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
    )
}

/// One connection: read the head, answer, close. I/O errors end it quietly:
/// the client is gone and there is nobody to tell.
async fn handle(mut stream: TcpStream, slot: &Slot, metrics: &Metrics, health: &dyn Health) {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        // Too slow, or a read error: drop the connection without a word.
        Err(_) | Ok(Err(_)) => return,
    };
    slot.waiting(false);
    let response = match head {
        Head::Closed => return,
        Head::TooLarge => Response::text(
            431,
            "Request Header Fields Too Large",
            "request head too large\n",
        ),
        Head::Complete(bytes) => respond(&bytes, metrics, health),
    };
    let written = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&response).await?;
        stream.shutdown().await
    })
    .await;
    if matches!(written, Ok(Ok(()))) {
        slot.waiting(true);
        linger(&mut stream).await;
    }
}

/// What reading a request head gave.
enum Head {
    /// The head, its terminating blank line included.
    Complete(Vec<u8>),
    /// [`MAX_HEAD`] bytes without the end of the head.
    TooLarge,
    /// The client closed before sending a whole head.
    Closed,
}

async fn read_head(stream: &mut TcpStream) -> io::Result<Head> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            return Ok(Head::Closed);
        }
        // The terminator may straddle two reads: look back 3 bytes.
        let from = len.saturating_sub(3);
        len += n;
        if let Some(end) = head_end(&buf[from..len]) {
            buf.truncate(from + end);
            return Ok(Head::Complete(buf));
        }
        if len == MAX_HEAD {
            return Ok(Head::TooLarge);
        }
    }
}

/// Where the head ends in `bytes` (just past its blank line), if it does.
/// A bare `\n` ends lines too, as RFC 9112 lets a server accept, so that
/// `printf 'GET /metrics HTTP/1.0\n\n' | nc` works.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().enumerate().find_map(|(i, &b)| {
        if b != b'\n' {
            return None;
        }
        match bytes.get(i + 1..) {
            Some([b'\n', ..]) => Some(i + 2),
            Some([b'\r', b'\n', ..]) => Some(i + 3),
            _ => None,
        }
    })
}

/// The response to a complete request head.
fn respond(head: &[u8], metrics: &Metrics, health: &dyn Health) -> Vec<u8> {
    let Some((method, path)) = request_line(head) else {
        return Response::text(400, "Bad Request", "malformed request line\n");
    };
    let with_body = match method {
        "GET" => true,
        "HEAD" => false,
        _ => {
            let mut r = Response::new(405, "Method Not Allowed");
            r.header("Allow", "GET, HEAD");
            return r.body(TEXT, b"method not allowed\n", true);
        }
    };
    match path {
        "/healthz" => match health.healthy() {
            Ok(()) => Response::new(200, "OK").body(TEXT, b"ok\n", with_body),
            Err(reason) => {
                // One line whatever the reason holds, as promised.
                let line = reason.replace(['\r', '\n'], " ");
                Response::new(503, "Service Unavailable").body(
                    TEXT,
                    format!("{line}\n").as_bytes(),
                    with_body,
                )
            }
        },
        "/metrics" => Response::new(200, "OK").body(
            METRICS_CONTENT_TYPE,
            metrics.render().as_bytes(),
            with_body,
        ),
        _ => Response::new(404, "Not Found").body(TEXT, b"not found\n", with_body),
    }
}

/// The method and the path (query dropped) of a request line
/// `METHOD SP target SP HTTP/1.x`; None when it is not one.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let end = head.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&head[..end]).ok()?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    // The absolute form (`http://host/metrics`), which HTTP/1.1 servers
    // must accept, comes down to its path.
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Some((method, path))
}

/// Reads and discards what the client still sends, until it closes, for at
/// most [`LINGER`] and [`LINGER_BYTES`] (see [`LINGER`]).
async fn linger(stream: &mut TcpStream) {
    let _ = tokio::time::timeout(LINGER, async {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while total < LINGER_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

/// A response being built.
struct Response {
    head: String,
}

impl Response {
    fn new(code: u16, reason: &str) -> Response {
        Response {
            head: format!("HTTP/1.1 {code} {reason}\r\nConnection: close\r\n"),
        }
    }

    fn text(code: u16, reason: &str, body: &str) -> Vec<u8> {
        Response::new(code, reason).body(TEXT, body.as_bytes(), true)
    }

    fn header(&mut self, name: &str, value: &str) {
        self.head.push_str(name);
        self.head.push_str(": ");
        self.head.push_str(value);
        self.head.push_str("\r\n");
    }

    /// The whole response. A HEAD response (`with_body` false) carries the
    /// length of the body it leaves out, as a GET would get.
    fn body(mut self, content_type: &str, body: &[u8], with_body: bool) -> Vec<u8> {
        self.header("Content-Type", content_type);
        self.header("Content-Length", &body.len().to_string());
        self.head.push_str("\r\n");
        let mut out = self.head.into_bytes();
        if with_body {
            out.extend_from_slice(body);
        }
        out
    }
}
