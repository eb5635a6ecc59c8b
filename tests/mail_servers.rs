//! The alert tests' SMTP and webhook servers (tests/common/mail.rs) checked
//! on their own, with hand-written protocol conversations, so that a broken
//! helper fails here rather than passing as a broken driftwatch.

#[path = "common/mail.rs"]
mod mail;

use mail::{SmtpOptions, SmtpServer, SmtpTls, WebhookServer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

/// A plain-text SMTP client speaking one command at a time.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to SMTP");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut client = Client {
            reader: BufReader::new(stream),
        };
        let (code, text) = client.reply();
        assert_eq!(code, 220, "greeting: {text}");
        client
    }

    /// One reply, all its lines joined with '\n' (codes stripped).
    fn reply(&mut self) -> (u16, String) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read SMTP reply");
            assert!(n > 0, "server closed the connection after {lines:?}");
            let line = line.trim_end();
            lines.push(line[4.min(line.len())..].to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                return (line[..3].parse().expect("reply code"), lines.join("\n"));
            }
        }
    }

    fn cmd(&mut self, line: &str) -> (u16, String) {
        let stream = self.reader.get_mut();
        stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        self.reply()
    }

    fn expect(&mut self, line: &str, code: u16) -> String {
        let (got, text) = self.cmd(line);
        assert_eq!(got, code, "{line} → {got} {text}");
        text
    }
}

/// Standard base64 (no crate for it in the dev-dependencies).
fn b64(data: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const SUBJECT: &str = "Drift détectée ✓ 3 changes";
// No final line break: the one before a MIME boundary belongs to the boundary.
const TEXT: &str = "3 changes in café\n.a line starting with a dot";
const HTML: &str = "<p>3 changes in <b>café</b></p>\n";

/// A multipart/alternative message with an RFC 2047 subject, a
/// quoted-printable text part and a base64 HTML part, dot-stuffed and
/// terminated for DATA.
fn message_data() -> String {
    let lines = [
        "From: Driftwatch <alerts@example.org>".to_string(),
        "To: ops@example.org".into(),
        format!("Subject: =?UTF-8?B?{}?=", b64(SUBJECT.as_bytes())),
        "MIME-Version: 1.0".into(),
        "Content-Type: multipart/alternative; boundary=\"b1\"".into(),
        String::new(),
        "--b1".into(),
        "Content-Type: text/plain; charset=utf-8".into(),
        "Content-Transfer-Encoding: quoted-printable".into(),
        String::new(),
        "3 changes in caf=C3=A9".into(),
        // Dot-stuffed on the wire; the server must unstuff it.
        "..a line starting with a dot".into(),
        "--b1".into(),
        "Content-Type: text/html; charset=utf-8".into(),
        "Content-Transfer-Encoding: base64".into(),
        String::new(),
        b64(HTML.as_bytes()),
        "--b1--".into(),
        ".".into(),
    ];
    lines.join("\r\n")
}

#[test]
fn plain_smtp_stores_envelope_and_decoded_parts() {
    let smtp = SmtpServer::start(SmtpOptions {
        reject: vec!["nobody@example.org".into()],
        ..Default::default()
    });
    assert!(smtp.cert_pem_path().is_none());
    let mut c = Client::connect(smtp.port);
    let ehlo = c.expect("EHLO client.test", 250);
    assert!(
        !ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    c.expect("MAIL FROM:<alerts@example.org>", 250);
    c.expect("RCPT TO:<ops@example.org>", 250);
    let rejected = c.expect("RCPT TO:<nobody@example.org>", 550);
    assert_eq!(rejected, "5.1.1 <nobody@example.org>: recipient rejected");
    c.expect("DATA", 354);
    c.expect(&message_data(), 250);
    c.expect("QUIT", 221);

    let mails = smtp.wait_for(1, WAIT);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.mail_from, "alerts@example.org");
    assert_eq!(m.rcpt_tos, ["ops@example.org"]);
    assert_eq!(m.auth_user, None);
    assert!(!m.tls);
    assert_eq!(m.header("subject"), Some(SUBJECT));
    assert_eq!(m.header("FROM"), Some("Driftwatch <alerts@example.org>"));
    assert_eq!(m.header("X-Absent"), None);
    assert_eq!(m.text, TEXT);
    assert_eq!(m.html, HTML);
    let raw = String::from_utf8(m.raw.clone()).unwrap();
    assert!(raw.contains("Subject: =?UTF-8?B?"), "{raw}");
    assert!(raw.contains("\r\n.a line starting"), "not unstuffed: {raw}");
    assert!(m.dir.ends_with("0001"), "{}", m.dir.display());
}

#[test]
fn starttls_is_required_before_mail() {
    let smtp = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::StartTls,
        ..Default::default()
    });
    let pem = std::fs::read_to_string(smtp.cert_pem_path().expect("a certificate")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let mut c = Client::connect(smtp.port);
    let ehlo = c.expect("EHLO client.test", 250);
    assert!(ehlo.lines().any(|l| l == "STARTTLS"), "{ehlo}");
    c.expect("MAIL FROM:<alerts@example.org>", 530);
    assert!(smtp.messages().is_empty());
}

#[test]
fn auth_is_required_before_mail() {
    let smtp = SmtpServer::start(SmtpOptions {
        auth: Some(("alert".into(), "s3cret".into())),
        ..Default::default()
    });
    let mut c = Client::connect(smtp.port);
    let ehlo = c.expect("EHLO client.test", 250);
    assert!(ehlo.contains("AUTH LOGIN PLAIN"), "{ehlo}");
    c.expect("MAIL FROM:<alerts@example.org>", 530);
    c.expect(&format!("AUTH PLAIN {}", b64(b"\0alert\0wrong")), 535);
    c.expect("AUTH LOGIN", 334);
    c.expect(&b64(b"alert"), 334);
    c.expect(&b64(b"s3cret"), 235);
    c.expect("MAIL FROM:<alerts@example.org>", 250);
    c.expect("RCPT TO:<ops@example.org>", 250);
    c.expect("DATA", 354);
    c.expect("Subject: hi\r\n\r\nbody\r\n.", 250);
    let m = &smtp.wait_for(1, WAIT)[0];
    assert_eq!(m.auth_user.as_deref(), Some("alert"));
    assert_eq!(m.text, "body\n");
}

/// Drives a whole authenticated delivery through `openssl s_client`, which
/// verifies the server against cert_pem_path as its only CA.
fn deliver_over_tls(smtp: &SmtpServer, starttls: bool) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{}", smtp.port)])
        .arg("-CAfile")
        .arg(smtp.cert_pem_path().unwrap())
        .args(["-verify_return_error", "-verify_hostname", "localhost"])
        .args(["-crlf", "-ign_eof", "-quiet"]);
    if starttls {
        cmd.args(["-starttls", "smtp"]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    let script = format!(
        "EHLO client.test\nAUTH PLAIN {}\nMAIL FROM:<alerts@example.org>\n\
         RCPT TO:<ops@example.org>\nDATA\nSubject: tls\n\nover tls\n.\nQUIT\n",
        b64(b"\0alert\0s3cret")
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.unwrap().read_to_string(&mut out).unwrap();
    child.stderr.unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "s_client {status}\n{out}\n{err}");
    assert!(
        out.contains("\n235 ") && out.contains("\n221 "),
        "{out}\n{err}"
    );
    out
}

#[test]
fn tls_modes_accept_authenticated_mail_from_a_verifying_client() {
    for (tls, starttls) in [(SmtpTls::Tls, false), (SmtpTls::StartTls, true)] {
        let smtp = SmtpServer::start(SmtpOptions {
            tls,
            auth: Some(("alert".into(), "s3cret".into())),
            ..Default::default()
        });
        deliver_over_tls(&smtp, starttls);
        let m = &smtp.wait_for(1, WAIT)[0];
        assert!(m.tls, "{tls:?}");
        assert_eq!(m.auth_user.as_deref(), Some("alert"), "{tls:?}");
        assert_eq!(m.text, "over tls\n");
    }
    // Implicit TLS: a plain-text client gets no greeting at all.
    let smtp = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::Tls,
        ..Default::default()
    });
    let mut s = TcpStream::connect(("127.0.0.1", smtp.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"EHLO client.test\r\n").unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"220"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn tempfail_then_stop_and_restart_on_the_same_port() {
    let mut smtp = SmtpServer::start(SmtpOptions::default());
    smtp.set_tempfail(true);
    let mut c = Client::connect(smtp.port);
    c.expect("EHLO client.test", 250);
    let text = c.expect("MAIL FROM:<alerts@example.org>", 451);
    assert_eq!(text, "4.3.0 try again later");
    smtp.set_tempfail(false);
    let send = |port: u16, subject: &str| {
        let mut c = Client::connect(port);
        c.expect("EHLO client.test", 250);
        c.expect("MAIL FROM:<alerts@example.org>", 250);
        c.expect("RCPT TO:<ops@example.org>", 250);
        c.expect("DATA", 354);
        c.expect(&format!("Subject: {subject}\r\n\r\nx\r\n."), 250);
        c.expect("QUIT", 221);
    };
    send(smtp.port, "first");
    drop(c);

    smtp.stop();
    assert!(!smtp.is_running());
    let refused = TcpStream::connect(("127.0.0.1", smtp.port)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    smtp.restart();
    send(smtp.port, "second");

    let mails = smtp.wait_for(2, WAIT);
    let subjects: Vec<_> = mails.iter().map(|m| m.header("Subject").unwrap()).collect();
    assert_eq!(subjects, ["first", "second"]);
    assert!(mails[1].dir.ends_with("0002"), "{}", mails[1].dir.display());
}

/// One HTTP/1.1 POST; returns the status code.
fn post(url_port: u16, path: &str, body: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", url_port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-Driftwatch-Signature: sha256=abc\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).expect("status line");
    status.parse().unwrap_or_else(|_| panic!("{response}"))
}

#[test]
fn webhook_stores_2xx_requests_and_counts_the_others() {
    let hook = WebhookServer::start();
    assert_eq!(
        hook.url("/hooks/drift"),
        format!("http://127.0.0.1:{}/hooks/drift", hook.port)
    );
    let body = r#"{"event":"drift","schema":"café"}"#;
    assert_eq!(post(hook.port, "/hooks/drift?x=1", body), 200);
    let reqs = hook.wait_for(1, WAIT);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/hooks/drift?x=1");
    assert_eq!(reqs[0].body, body);
    assert_eq!(reqs[0].headers["content-type"], "application/json");
    assert_eq!(reqs[0].headers["x-driftwatch-signature"], "sha256=abc");
    assert_eq!(hook.rejected(), 0);

    hook.set_status(Some(503));
    assert_eq!(post(hook.port, "/hooks/drift", body), 503);
    assert_eq!(hook.rejected(), 1);
    assert_eq!(hook.requests().len(), 1);

    hook.set_status(None);
    assert_eq!(post(hook.port, "/again", "{}"), 200);
    assert_eq!(hook.wait_for(2, WAIT)[1].path, "/again");
}
