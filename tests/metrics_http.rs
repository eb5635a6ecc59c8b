//! The observability endpoint (`driftwatch::metrics::http::serve`) on a real
//! socket, spoken to with raw HTTP over std's TcpStream (and once with ureq)
//! so that what goes over the wire is what is checked. Who is answered and
//! who is dropped, in which order, is checked here; how many milliseconds
//! that takes is measured by `make bench` (benches/metrics).

use driftwatch::metrics::http::{serve, Health, MAX_CONNECTIONS, MAX_HEAD, PER_ADDRESS};
use driftwatch::metrics::{FindingCounts, Metrics, ScanOutcome};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(10);

/// A running server: its address, what stops it, and its task.
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Serves on a free port of 127.0.0.1, in the test's runtime.
async fn start(metrics: Arc<Metrics>, health: Arc<dyn Health>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, metrics, health, async move {
        let _ = stopped.await;
    }));
    Server { addr, stop, task }
}

fn healthy() -> Arc<dyn Health> {
    Arc::new(|| Ok(()))
}

fn one_target() -> Arc<Metrics> {
    let metrics = Metrics::new();
    metrics.set_targets(&["prod".to_string()]);
    let findings = FindingCounts {
        critical: 2,
        ..FindingCounts::default()
    };
    metrics.scan_finished(
        "prod",
        ScanOutcome::Drift,
        Duration::from_millis(300),
        findings,
        1_700_000_000,
    );
    Arc::new(metrics)
}

/// A parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Everything the server sends until it closes, parsed; also checks the
/// headers every response must carry.
fn read_response(mut stream: TcpStream) -> Response {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let text = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").expect("a header line");
            (n.to_string(), v.to_string())
        })
        .collect();
    let response = Response {
        status,
        headers,
        body: body.to_string(),
    };
    assert_eq!(response.header("Connection"), Some("close"), "{response:?}");
    assert!(response.header("Content-Length").is_some(), "{response:?}");
    response
}

/// Sends `request` as is and reads the response.
fn exchange(addr: SocketAddr, request: &str) -> Response {
    let mut stream = connect(addr);
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    read_response(stream)
}

fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(addr, &format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"))
}

fn content_length(r: &Response) -> usize {
    r.header("Content-Length").unwrap().parse().unwrap()
}

/// True while the server keeps `stream` open without having sent anything
/// on it: a read would block (a closed one reads end of file or a reset).
fn still_open(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let open = matches!(
        stream.peek(&mut [0u8; 1]),
        Err(e) if e.kind() == ErrorKind::WouldBlock
    );
    stream.set_nonblocking(false).unwrap();
    open
}

/// Runs blocking client code off the runtime's threads, so that the server
/// tasks keep running whatever the flavour of runtime.
async fn client<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("client panicked")
}

#[tokio::test]
async fn healthz_and_metrics() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    client(move || {
        let r = get(addr, "/healthz");
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
        assert_eq!(content_length(&r), 3);

        // A query string is ignored.
        let r = get(addr, "/metrics?x=1");
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(
            r.header("Content-Type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        assert_eq!(content_length(&r), r.body.len());
        assert!(
            r.body.contains("# TYPE driftwatch_scans_total counter\n"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("driftwatch_scans_total{target=\"prod\"} 1\n"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("driftwatch_findings{target=\"prod\",severity=\"critical\"} 2\n"),
            "{}",
            r.body
        );

        // HEAD: the same length, no body.
        let h = exchange(addr, "HEAD /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
        assert_eq!(h.status, 200);
        assert_eq!(content_length(&h), r.body.len());
        assert_eq!(h.body, "");

        // HTTP/1.0, bare line feeds and the absolute form.
        let r = exchange(addr, "GET /healthz HTTP/1.0\n\n");
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
        let r = exchange(addr, "GET http://test:9187/healthz HTTP/1.1\r\n\r\n");
        assert_eq!(r.status, 200);

        // A real client.
        let body = ureq::get(&format!("http://{addr}/metrics"))
            .timeout(WAIT)
            .call()
            .expect("ureq GET /metrics")
            .into_string()
            .unwrap();
        assert!(body.contains("driftwatch_targets 1\n"), "{body}");
    })
    .await;
    server.stop.send(()).unwrap();
}

#[tokio::test]
async fn unknown_paths_methods_and_requests() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    client(move || {
        assert_eq!(get(addr, "/").status, 404);
        assert_eq!(get(addr, "/metrics/extra").status, 404);
        let r = exchange(
            addr,
            "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        );
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("GET, HEAD"));
        assert_eq!(
            exchange(addr, "DELETE /healthz HTTP/1.1\r\n\r\n").status,
            405
        );
        assert_eq!(exchange(addr, "GET /metrics\r\n\r\n").status, 400);
        assert_eq!(exchange(addr, "GET /metrics SPDY/3\r\n\r\n").status, 400);
        assert_eq!(exchange(addr, "\u{1}\u{2}\r\n\r\n").status, 400);
    })
    .await;
    server.stop.send(()).unwrap();
}

#[tokio::test]
async fn unhealthy_is_503_with_the_reason() {
    let down = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&down);
    let health: Arc<dyn Health> = Arc::new(move || {
        if flag.load(Ordering::SeqCst) {
            Err("store unwritable: /var/lib/driftwatch\nread-only file system".to_string())
        } else {
            Ok(())
        }
    });
    let server = start(one_target(), health).await;
    let addr = server.addr;
    client(move || {
        assert_eq!(get(addr, "/healthz").status, 200);
        down.store(true, Ordering::SeqCst);
        let r = get(addr, "/healthz");
        assert_eq!(r.status, 503);
        assert_eq!(
            r.body,
            "store unwritable: /var/lib/driftwatch read-only file system\n"
        );
        // Metrics are still served: they are how one finds out why.
        assert_eq!(get(addr, "/metrics").status, 200);
    })
    .await;
    server.stop.send(()).unwrap();
}

#[tokio::test]
async fn an_idle_client_blocks_nobody_and_is_dropped() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    client(move || {
        let idle = connect(addr);
        let mut half = connect(addr);
        half.write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
            .unwrap();

        let r = get(addr, "/healthz");
        assert_eq!(r.status, 200);
        // A head sent in pieces, slowly but in time, is fine too.
        let mut slow = connect(addr);
        for piece in ["GET /hea", "lthz HTTP/1.1\r", "\n\r", "\n"] {
            slow.write_all(piece.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(read_response(slow).status, 200);
        // Answered while both stalled clients still hold their places: they
        // blocked nobody, and are not dropped before their time. (How long
        // that time is on the clock is measured by `make bench`.)
        assert!(still_open(&idle) && still_open(&half));

        // Both stalled clients are let go once their time is up, without a
        // response.
        for mut stalled in [idle, half] {
            let mut rest = Vec::new();
            match stalled.read_to_end(&mut rest) {
                Ok(_) => assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest)),
                Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
            }
        }
    })
    .await;
    server.stop.send(()).unwrap();
}

/// A connection from another loopback address (Linux routes all of
/// 127.0.0.0/8 to lo), opened on the runtime and handed back blocking.
async fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().unwrap())
        .expect("bind the source address");
    let stream = socket
        .connect(addr)
        .await
        .expect("connect")
        .into_std()
        .unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// More idle and half-sent connections from one address than the server
/// has slots (each may stay up to HEAD_TIMEOUT) do not starve /healthz,
/// from that address or another: it answers before they time out.
#[tokio::test]
async fn a_burst_of_slow_clients_cannot_starve_healthz() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    let other = connect_from("127.0.0.2", addr).await;
    client(move || {
        let mut burst = Vec::new();
        for i in 0..MAX_CONNECTIONS + 16 {
            let mut stream = connect(addr);
            if i % 2 == 1 {
                stream.write_all(b"GET /metrics HTTP/1.1\r\nHo").unwrap();
            }
            burst.push(stream);
        }
        // Let the server accept the whole burst first.
        std::thread::sleep(Duration::from_millis(300));
        for source in ["127.0.0.1", "127.0.0.2"] {
            let r = if source == "127.0.0.1" {
                get(addr, "/healthz")
            } else {
                let mut other = other.try_clone().unwrap();
                other
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
                    .unwrap();
                read_response(other)
            };
            assert_eq!((r.status, r.body.as_str()), (200, "ok\n"), "from {source}");
        }
        // Answered while the burst still held the server's places (none of
        // its stalled clients had timed out): not after them. The time it
        // takes is measured by `make bench`.
        let held = burst.iter().filter(|s| still_open(s)).count();
        assert!(held > 0, "every stalled client was already let go");
        drop(burst);
    })
    .await;
    server.stop.send(()).unwrap();
}

/// A flood from one address takes the places of its own oldest waiting
/// connections, not another client's: a scraper from 127.0.0.2 that
/// connected first and sends its head last is still answered.
#[tokio::test]
async fn a_flood_from_one_address_evicts_only_its_own() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    let mut early = connect_from("127.0.0.2", addr).await;
    client(move || {
        early.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut flood: Vec<TcpStream> = (0..MAX_CONNECTIONS * 2).map(|_| connect(addr)).collect();
        std::thread::sleep(Duration::from_millis(300));
        early.write_all(b"Host: test\r\n\r\n").unwrap();
        let r = read_response(early);
        assert_eq!(r.status, 200, "{r:?}");
        // The flood kept at most PER_ADDRESS places: the older ones were
        // closed without a response.
        let mut closed = 0;
        for stream in &mut flood {
            stream
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
            let mut buf = [0u8; 16];
            match stream.read(&mut buf) {
                Ok(0) => closed += 1,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => closed += 1,
                Ok(n) => panic!("unexpected bytes: {:?}", &buf[..n]),
                Err(_) => {} // still open, waiting for its head
            }
        }
        assert_eq!(
            closed,
            flood.len() - PER_ADDRESS,
            "closed of {}",
            flood.len()
        );
    })
    .await;
    server.stop.send(()).unwrap();
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    client(move || {
        let filler = "a".repeat(MAX_HEAD);
        let mut stream = connect(addr);
        let request = format!("GET /metrics HTTP/1.1\r\nX-Filler: {filler}\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        // Read only once the server has answered and closed: the answer
        // must still be there, though the server never read the whole head.
        std::thread::sleep(Duration::from_millis(300));
        let r = read_response(stream);
        assert_eq!(r.status, 431, "{r:?}");
        // Just under the limit still works.
        let head = "GET /metrics HTTP/1.1\r\nX-Filler: \r\n\r\n";
        let filler = "a".repeat(MAX_HEAD - head.len());
        let r = exchange(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nX-Filler: {filler}\r\n\r\n"),
        );
        assert_eq!(r.status, 200, "{r:?}");
    })
    .await;
    server.stop.send(()).unwrap();
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let server = start(one_target(), healthy()).await;
    let addr = server.addr;
    // A connection accepted before the shutdown (connections are accepted
    // in order, so the request after it proves it was) and still sending.
    let pending = client(move || {
        let mut pending = connect(addr);
        pending.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
        assert_eq!(get(addr, "/healthz").status, 200);
        pending
    })
    .await;

    server.stop.send(()).unwrap();
    let result = tokio::time::timeout(WAIT, server.task)
        .await
        .expect("serve returns after shutdown")
        .expect("serve did not panic");
    assert!(result.is_ok(), "{result:?}");
    let refused = client(move || TcpStream::connect_timeout(&addr, WAIT)).await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionRefused)
    );
    // What was under way is still answered.
    let finished = client(move || {
        let mut pending = pending;
        pending.write_all(b"\r\n").unwrap();
        read_response(pending)
    })
    .await;
    assert_eq!(finished.status, 200);
}
