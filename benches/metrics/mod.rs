//! The observability endpoint's timings (`driftwatch::metrics::http`), in
//! process on 127.0.0.1: `/healthz` answered at once, alone and beside a
//! burst of stalled clients (more than the server has slots, from one
//! address), and how long a stalled client is held before it is dropped,
//! against `HEAD_TIMEOUT`. tests/metrics_http.rs checks the behaviour (who
//! is answered, who is dropped, in which order); the clock belongs here,
//! where a slow run on two shared cores is reported instead of failing a
//! test. `DRIFTWATCH_BENCH_ONLY=metrics` runs it alone.

use driftwatch::metrics::http::{serve, Health, HEAD_TIMEOUT, MAX_CONNECTIONS};
use driftwatch::metrics::Metrics;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);
const RUNS: usize = 20;

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// A connection from another loopback address (Linux routes all of
/// 127.0.0.0/8 to lo), opened on `rt` and handed back blocking.
fn connect_from(rt: &tokio::runtime::Runtime, source: &str, addr: SocketAddr) -> TcpStream {
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(format!("{source}:0").parse().unwrap())
            .expect("bind the source address");
        socket.connect(addr).await.expect("connect")
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// One `GET /healthz` on `stream`: the time to its whole response.
fn healthz_on(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
        .expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let took = started.elapsed();
    assert!(
        response.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    took
}

/// Median `/healthz` time over [`RUNS`] connections made by `open`.
fn healthz_median(open: impl Fn() -> TcpStream) -> Duration {
    super::median((0..RUNS).map(|_| healthz_on(open())).collect())
}

/// Runs the section.
pub fn run() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let metrics = Arc::new(Metrics::new());
    let health: Arc<dyn Health> = Arc::new(|| Ok(()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, metrics, health, async move {
        let _ = stopped.await;
    }));

    let alone = healthz_median(|| connect(addr));
    // The burst: idle and half-sent connections from 127.0.0.1, more than
    // the server's slots, each allowed to wait up to HEAD_TIMEOUT.
    let burst: Vec<TcpStream> = (0..MAX_CONNECTIONS + 16)
        .map(|i| {
            let mut s = connect(addr);
            if i % 2 == 1 {
                s.write_all(b"GET /metrics HTTP/1.1\r\nHo").unwrap();
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let same = healthz_median(|| connect(addr));
    let other = healthz_median(|| connect_from(&rt, "127.0.0.2", addr));
    drop(burst);

    // A stalled client: how long until the server lets it go.
    let mut stalled = connect(addr);
    stalled
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    let held = started.elapsed();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));

    let _ = stop.send(());
    let _ = rt.block_on(server);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!(
        "The metrics endpoint, `GET /healthz` (median of {RUNS}), beside a burst of {} stalled clients from one address:",
        MAX_CONNECTIONS + 16
    );
    println!();
    println!("| request | wall time |");
    println!("|---|---:|");
    println!("| `/healthz`, no other client | {:.2} ms |", ms(alone));
    println!(
        "| `/healthz` from the burst's address | {:.2} ms |",
        ms(same)
    );
    println!("| `/healthz` from another address | {:.2} ms |", ms(other));
    println!(
        "| a stalled client held until dropped (HEAD_TIMEOUT {} s) | {:.2} s |",
        HEAD_TIMEOUT.as_secs(),
        held.as_secs_f64()
    );
    let slowest = same.max(other);
    super::target(
        "`/healthz` beside the burst within 1 s",
        slowest < Duration::from_secs(1),
        &format!("{:.2} ms", ms(slowest)),
    );
    super::target(
        "a stalled client dropped within HEAD_TIMEOUT -0.5 s / +3 s",
        held + Duration::from_millis(500) >= HEAD_TIMEOUT
            && held < HEAD_TIMEOUT + Duration::from_secs(3),
        &format!("{:.2} s", held.as_secs_f64()),
    );
}
