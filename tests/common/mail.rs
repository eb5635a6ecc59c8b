//! Real SMTP and webhook servers for the alert tests: the Python scripts in
//! tests/alerts run as child processes and store what they receive on disk,
//! so a test asserts on what a client really sent over the wire.
//!
//! Standalone (no driftwatch, no tests/common/mod.rs): include it with
//! `#[path = "../common/mail.rs"] mod mail;` (or `#[path = "common/mail.rs"]`
//! from a top-level test file).
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Debian's python3, which has python3-aiosmtpd; the one first on PATH may
/// be another installation without it.
const PYTHON: &str = "/usr/bin/python3";
const SMTP_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/alerts/smtp_server.py");
const WEBHOOK_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/alerts/webhook_server.py"
);
const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);

/// How the SMTP server speaks TLS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmtpTls {
    #[default]
    None,
    /// Plain connect, STARTTLS advertised and required before MAIL.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

#[derive(Clone, Debug, Default)]
pub struct SmtpOptions {
    pub tls: SmtpTls,
    /// Required credentials (AUTH PLAIN and LOGIN) before MAIL.
    pub auth: Option<(String, String)>,
    /// Recipients answered `550 5.1.1 <addr>: recipient rejected`.
    pub reject: Vec<String>,
}

/// One message as the SMTP server accepted it.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The login that authenticated the session, if any.
    pub auth_user: Option<String>,
    /// Whether the message came over TLS (implicit or after STARTTLS).
    pub tls: bool,
    /// Header name as written in the message → its values, RFC 2047 decoded.
    pub headers: BTreeMap<String, Vec<String>>,
    /// The decoded text/plain body (line ends as `\n`), or empty.
    pub text: String,
    /// The decoded text/html body (line ends as `\n`), or empty.
    pub html: String,
    /// The message exactly as received after DATA.
    pub raw: Vec<u8>,
    /// The folder the server stored it in.
    pub dir: PathBuf,
}

impl ReceivedMail {
    /// The first value of a header, its name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    fn load(dir: &Path) -> ReceivedMail {
        let read = |name: &str| {
            fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()))
        };
        let text = |name: &str| String::from_utf8(read(name)).expect("the server writes UTF-8");
        let envelope: Value = serde_json::from_slice(&read("envelope.json")).expect("envelope");
        let headers: BTreeMap<String, Vec<String>> =
            serde_json::from_slice(&read("headers.json")).expect("headers.json");
        ReceivedMail {
            mail_from: envelope["mail_from"].as_str().unwrap_or_default().into(),
            rcpt_tos: envelope["rcpt_tos"]
                .as_array()
                .expect("rcpt_tos")
                .iter()
                .map(|v| v.as_str().expect("rcpt_to").to_string())
                .collect(),
            auth_user: envelope["auth_user"].as_str().map(str::to_string),
            tls: envelope["tls"].as_bool().expect("tls"),
            headers,
            text: text("text.txt"),
            html: text("html.html"),
            raw: read("message.eml"),
            dir: dir.to_path_buf(),
        }
    }
}

/// A real SMTP server (aiosmtpd) on 127.0.0.1, stopped on drop.
pub struct SmtpServer {
    pub port: u16,
    /// Where accepted messages are stored (one NNNN folder each).
    pub dir: PathBuf,
    cert: Option<PathBuf>,
    tempfail: PathBuf,
    proc: ServerProcess,
    _tmp: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start(opts: SmtpOptions) -> SmtpServer {
        let tmp = temp_dir("dw-smtp-");
        let dir = tmp.path().join("maildir");
        let tempfail = tmp.path().join("tempfail");
        let mut args: Vec<OsString> = vec!["--maildir".into(), dir.clone().into()];
        args.extend(["--tempfail-file".into(), tempfail.clone().into()]);
        let mut cert = None;
        if opts.tls != SmtpTls::None {
            let (crt, key) = self_signed_cert(tmp.path());
            let mode = if opts.tls == SmtpTls::Tls {
                "tls"
            } else {
                "starttls"
            };
            args.extend(["--tls".into(), mode.into()]);
            args.extend([
                "--cert".into(),
                crt.clone().into(),
                "--key".into(),
                key.into(),
            ]);
            cert = Some(crt);
        }
        if let Some((user, pass)) = &opts.auth {
            args.extend(["--auth".into(), format!("{user}:{pass}").into()]);
        }
        for addr in &opts.reject {
            args.extend(["--reject".into(), addr.into()]);
        }
        let mut proc = ServerProcess::new("smtp_server.py", SMTP_SCRIPT, args, tmp.path());
        let port = proc.spawn(0);
        SmtpServer {
            port,
            dir,
            cert,
            tempfail,
            proc,
            _tmp: tmp,
        }
    }

    /// The certificate the server presents, which a client must trust as
    /// its CA (self-signed, for localhost and 127.0.0.1); None without TLS.
    pub fn cert_pem_path(&self) -> Option<&Path> {
        self.cert.as_deref()
    }

    /// Every stored message, in the order they were accepted.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        numbered_entries(&self.dir, "")
            .iter()
            .map(|p| ReceivedMail::load(p))
            .collect()
    }

    /// Waits until at least `n` messages are stored and returns all of them
    /// (possibly more than `n`: assert the count if it matters).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= deadline {
                panic!(
                    "expected {n} mail(s) within {timeout:?}, {} arrived\n--- server log ---\n{}",
                    got.len(),
                    self.log()
                );
            }
            sleep(POLL);
        }
    }

    /// While on, every MAIL FROM gets `451 4.3.0 try again later`.
    pub fn set_tempfail(&self, on: bool) {
        if on {
            fs::write(&self.tempfail, "on\n").expect("write tempfail file");
        } else if let Err(e) = fs::remove_file(&self.tempfail) {
            assert!(e.kind() == std::io::ErrorKind::NotFound, "{e}");
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s); the port is free
    /// until `restart`. Stored messages stay.
    pub fn stop(&mut self) {
        self.proc.stop();
    }

    /// Starts the server again on the same port with the same options;
    /// numbering of stored messages continues. Stops it first if running.
    pub fn restart(&mut self) {
        self.proc.stop();
        let port = self.proc.spawn(self.port);
        assert_eq!(port, self.port, "restarted on another port");
    }

    pub fn is_running(&mut self) -> bool {
        self.proc.is_running()
    }

    /// The server's stderr so far, across restarts.
    pub fn log(&self) -> String {
        self.proc.log()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.proc.stop();
    }
}

/// One POST the webhook server answered 2xx.
#[derive(Clone, Debug)]
pub struct WebhookRequest {
    /// The request target, query included.
    pub path: String,
    /// Lowercased header names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A real HTTP server on 127.0.0.1 recording POSTs, stopped on drop.
pub struct WebhookServer {
    pub port: u16,
    /// Where answered requests are stored (NNNN.json each).
    pub dir: PathBuf,
    status_file: PathBuf,
    proc: ServerProcess,
    _tmp: tempfile::TempDir,
}

impl WebhookServer {
    pub fn start() -> WebhookServer {
        let tmp = temp_dir("dw-webhook-");
        let dir = tmp.path().join("requests");
        let status_file = tmp.path().join("status");
        let args = vec![
            "--dir".into(),
            dir.clone().into(),
            "--status-file".into(),
            status_file.clone().into(),
        ];
        let mut proc = ServerProcess::new("webhook_server.py", WEBHOOK_SCRIPT, args, tmp.path());
        let port = proc.spawn(0);
        WebhookServer {
            port,
            dir,
            status_file,
            proc,
            _tmp: tmp,
        }
    }

    /// `path` must start with `/`.
    pub fn url(&self, path: &str) -> String {
        assert!(
            path.starts_with('/'),
            "webhook path {path:?} must start with /"
        );
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every stored (2xx-answered) request, in arrival order.
    pub fn requests(&self) -> Vec<WebhookRequest> {
        numbered_entries(&self.dir, ".json")
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_slice(&fs::read(p).expect("read request"))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                WebhookRequest {
                    path: v["path"].as_str().expect("path").into(),
                    headers: serde_json::from_value(v["headers"].clone()).expect("headers"),
                    body: v["body"].as_str().expect("body").into(),
                }
            })
            .collect()
    }

    /// Waits until at least `n` requests are stored and returns all of them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<WebhookRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= deadline {
                panic!(
                    "expected {n} webhook request(s) within {timeout:?}, {} arrived \
                     ({} rejected)\n--- server log ---\n{}",
                    got.len(),
                    self.rejected(),
                    self.log()
                );
            }
            sleep(POLL);
        }
    }

    /// `Some(503)`: answer every request with 503 (not stored, counted in
    /// `rejected`); `None`: back to 200 `ok`.
    pub fn set_status(&self, status: Option<u16>) {
        match status {
            Some(code) => fs::write(&self.status_file, format!("{code}\n")).expect("status file"),
            None => {
                if let Err(e) = fs::remove_file(&self.status_file) {
                    assert!(e.kind() == std::io::ErrorKind::NotFound, "{e}");
                }
            }
        }
    }

    /// How many requests were answered with a non-2xx status.
    pub fn rejected(&self) -> usize {
        match fs::read_to_string(self.dir.join("rejected.count")) {
            Ok(s) => s.trim().parse().expect("rejected.count"),
            Err(_) => 0,
        }
    }

    pub fn log(&self) -> String {
        self.proc.log()
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        self.proc.stop();
    }
}

/// A server script run as a child process. Its readiness signal is the port
/// file, written (atomically) only once the socket listens; its stderr goes
/// to a log file rather than a pipe nobody drains.
struct ServerProcess {
    name: &'static str,
    script: &'static str,
    args: Vec<OsString>,
    port_file: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    fn new(name: &'static str, script: &'static str, args: Vec<OsString>, tmp: &Path) -> Self {
        ServerProcess {
            name,
            script,
            args,
            port_file: tmp.join(format!("{name}.port")),
            log: tmp.join(format!("{name}.log")),
            child: None,
        }
    }

    /// Starts the script on `port` (0: a free one) and returns the port it
    /// listens on.
    fn spawn(&mut self, port: u16) -> u16 {
        assert!(self.child.is_none(), "{} already running", self.name);
        let _ = fs::remove_file(&self.port_file);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open server log");
        let child = Command::new(PYTHON)
            // Isolated: no PYTHONPATH/PYTHONHOME or user site from the caller.
            .arg("-I")
            .arg(self.script)
            .args(&self.args)
            .arg("--port")
            .arg(port.to_string())
            .arg("--port-file")
            .arg(&self.port_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {PYTHON} {}: {e}", self.script));
        let child = self.child.insert(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                panic!(
                    "{} exited ({status}) before it was ready\n--- its stderr ---\n{}",
                    self.name,
                    self.log()
                );
            }
            if let Ok(text) = fs::read_to_string(&self.port_file) {
                return text.trim().parse().expect("port file holds a port");
            }
            if Instant::now() >= deadline {
                self.stop();
                panic!(
                    "{} not ready within {START_TIMEOUT:?}\n--- its stderr ---\n{}",
                    self.name,
                    self.log()
                );
            }
            sleep(POLL);
        }
    }

    fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => child.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }

    /// SIGTERM, so the script closes its socket and exits on its own; SIGKILL
    /// if it does not within STOP_TIMEOUT. Never panics (called from Drop).
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Not yet reaped, so the pid is still this child's, even as a zombie.
        if let Ok(None) = child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while let Ok(None) = child.try_wait() {
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    break;
                }
                sleep(POLL);
            }
        }
        let _ = child.wait();
    }

    fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("create a temporary directory")
}

/// The entries of `dir` named by a decimal sequence number (plus `suffix`),
/// sorted by that number; in-progress `.tmp-` entries are skipped.
fn numbered_entries(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let seq = name.strip_suffix(suffix)?;
            if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((seq.parse().ok()?, e.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// cert.pem and key.pem in `dir`: self-signed for localhost and 127.0.0.1.
/// CA:FALSE because rustls (lettre's TLS) refuses a CA certificate as the
/// server's own (CaUsedAsEndEntity), which `openssl req -x509` makes by
/// default; as a trust root a self-signed CA:FALSE certificate is fine.
fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}
