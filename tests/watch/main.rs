//! `driftwatch watch` end to end: the real binary as a daemon, real
//! PostgreSQL targets drifting on a seconds-level schedule, a real SMTP
//! server receiving the alerts, signals sent to the process, `/metrics`
//! fetched over TCP, and the fleet store shared by several processes.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/mail.rs"]
mod mail;

mod daemon;
mod fleet;
mod promises;

use driftwatch::catalog::DatabaseUrl;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A schedule every two seconds (6 fields: seconds first).
pub const EVERY_2S: &str = "*/2 * * * * *";

/// A small database: one table, the expected state recorded by the first scan.
pub async fn small_target() -> DatabaseUrl {
    let db = common::fresh_db().await;
    common::exec(&db, "CREATE TABLE items (id int PRIMARY KEY, name text)").await;
    db
}

/// An out-of-band index: drift of warning severity.
pub const DRIFT: &str = "CREATE INDEX by_hand ON items (name)";

/// A running `driftwatch watch`, killed on drop.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `driftwatch watch --config CONFIG --log-format json`, its
    /// standard error in `log`.
    pub fn start(config: &Path, log: &Path, extra: &[&str]) -> Daemon {
        let err = std::fs::File::create(log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_driftwatch"))
            .args(["watch", "--config"])
            .arg(config)
            .args(["--log-format", "json"])
            .args(extra)
            .env_remove("DRIFTWATCH_SHADOW_URL")
            .env("DW_TEST_SMTP_PW", "unused")
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start driftwatch watch");
        Daemon {
            child,
            log: log.to_path_buf(),
        }
    }

    /// Sends `sig`.
    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).expect("signal");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The log so far, one JSON object per line (every line must be one).
    pub fn events(&self) -> Vec<serde_json::Value> {
        let mut text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // A process killed mid-line leaves a torn last line.
        if !text.ends_with('\n') {
            let keep = text.rfind('\n').map_or(0, |i| i + 1);
            text.truncate(keep);
        }
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
            })
            .collect()
    }

    /// Events whose message is `message`.
    pub fn events_named(&self, message: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["message"] == message)
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it is true, panicking with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The scan records of a file store's target.
pub fn scans(store: &Path, target: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(store.join(target).join("scans.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// An HTTP GET over a raw TCP connection: (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read response");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The value of the Prometheus sample `name{labels}` in `text`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
}
