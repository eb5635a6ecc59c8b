//! A real drift alert opened the way a phone would: `driftwatch check
//! --notify` sends it to a real SMTP server (aiosmtpd, tests/common/mail.rs),
//! and headless Chromium (Debian's `chromium`, installed by `make setup`)
//! renders the HTML part that server received, at a phone's size. The
//! email must show one block per alerted finding, the worst first, run no
//! script, load nothing, show hostile names and bodies as text, and never
//! scroll sideways.
//!
//! The JSON report, the HTML part, its DOM, the layout probe and the
//! screenshot are left in `target/tmp/alert_html/` for people to look at.
//! With `DRIFTWATCH_UPDATE_DOCS=1` the screenshot is also copied to
//! docs/alert-email.png (the README shows it).

mod common;
#[path = "common/mail.rs"]
mod mail;

use common::{driftwatch, exec, fresh_db, repo, shadow};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A phone's viewport (CSS pixels).
const WIDTH: u32 = 390;
const HEIGHT: u32 = 844;
/// Chromium gets this long per run before its process group is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the SMTP server may take to store what driftwatch sent.
const MAIL_TIMEOUT: Duration = Duration::from_secs(10);

const TARGET: &str = "shop";
const RECIPIENTS: [&str; 2] = ["dba@example.com", "oncall@example.com"];

/// Out-of-band changes, each carrying markup that must stay text: a table
/// comment, a column name, a function body (shown in a `<pre>` diff).
const OUT_OF_BAND: &str = r#"
COMMENT ON TABLE shop.orders IS '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
ALTER TABLE shop.customers ADD COLUMN "nick<svg onload=alert(2)>" text;
DROP INDEX shop.orders_status_idx;
GRANT SELECT ON shop.customers TO PUBLIC;
CREATE OR REPLACE FUNCTION shop.order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(sum(quantity * unit_price), 0)
           + 0 * length('</pre><script>document.title="pwned"</script>')
      FROM shop.order_lines
     WHERE order_id = p_order_id
$$;
"#;

/// Debian's Chromium on PATH, or a failure that says how to get it.
fn chromium() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed: run `make setup` (scripts/setup.sh installs Debian's \
             chromium and fonts-dejavu-core); this test renders the alert email in it"
        )
    })
}

/// Runs headless Chromium at the phone's size on `page` with `args`, its
/// standard output going to `stdout`. Kills its process group after
/// [`CHROMIUM_TIMEOUT`]; panics with its stderr when it fails.
fn run_chromium(page: &Path, args: &[String], stdout: &Path) {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir().unwrap();
    let err_path = profile.path().join("stderr.txt");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
    ])
    .arg(format!("--window-size={WIDTH},{HEIGHT}"))
    .arg(format!(
        "--user-data-dir={}",
        profile.path().join("profile").display()
    ));
    if nix::unistd::geteuid().is_root() {
        // Chromium refuses to start its sandbox as root.
        cmd.arg("--no-sandbox");
    }
    let url = url::Url::from_file_path(page).unwrap();
    cmd.args(args)
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0);
    let mut child = cmd.spawn().expect("start chromium");
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // The group is Chromium's own (process_group(0)) and its leader
            // is not reaped yet: this kills Chromium and its helpers only.
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!(
                "chromium {args:?} {url} did not finish in {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium {args:?} {url}: {status}; stderr:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
}

/// The DOM of `page` after Chromium loaded it (also left next to it).
fn dump_dom(page: &Path) -> String {
    let out = page.with_extension("dom.html");
    run_chromium(page, &["--dump-dom".into()], &out);
    std::fs::read_to_string(&out).unwrap()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "not a PNG: {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "the first chunk is IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&png[16..20]), be(&png[20..24]))
}

/// True when `html` opens a `<tag` element (case-insensitive). In a
/// serialized DOM, a `<` in text is always `&lt;`.
fn has_element(html: &str, tag: &str) -> bool {
    html.to_ascii_lowercase().contains(&format!("<{tag}"))
}

/// `text` as Chromium serializes a text node.
fn dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

fn title_of(dom: &str) -> &str {
    let start = dom.find("<title>").expect("a <title>") + "<title>".len();
    let end = dom[start..].find("</title>").expect("</title>") + start;
    &dom[start..end]
}

/// A TOML basic string holding `s`, escaped as TOML wants.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// driftwatch.toml for one target alerting [`RECIPIENTS`] through the
/// SMTP server on `smtp_port`.
fn config(dir: &Path, smtp_port: u16, db_url: &str) -> PathBuf {
    let migrations = repo().join("fixtures/migrations/demo");
    let recipients: Vec<String> = RECIPIENTS.iter().map(|r| toml_str(r)).collect();
    let text = format!(
        "[store]\n\
         path = {store}\n\
         \n\
         [smtp]\n\
         host = \"127.0.0.1\"\n\
         port = {smtp_port}\n\
         tls = \"none\"\n\
         from = \"driftwatch <drift@example.com>\"\n\
         \n\
         [[target]]\n\
         name = {name}\n\
         url = {url}\n\
         migrations = {migrations}\n\
         notify = [{recipients}]\n",
        store = toml_str(dir.join("store").to_str().unwrap()),
        name = toml_str(TARGET),
        url = toml_str(db_url),
        migrations = toml_str(migrations.to_str().unwrap()),
        recipients = recipients.join(", "),
    );
    let path = dir.join("driftwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `driftwatch check --config FILE --notify --format json`: its exit code,
/// stdout and stderr.
fn check_and_notify(config: &Path) -> (Option<i32>, String, String) {
    // Replays go to the test's cluster (no second private cluster).
    let shadow_url = shadow().admin_url().expose().to_string();
    let out = driftwatch(&[
        "check",
        "--config",
        config.to_str().unwrap(),
        "--notify",
        "--format",
        "json",
        "--shadow-url",
        &shadow_url,
    ]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A page that shows the email's HTML, unchanged, in a phone-sized frame
/// and measures it with a script into its own title: how wide the email is
/// against the frame, its finding blocks, the elements whose content is
/// wider than their box (the DDL diffs included: the email wraps them, it
/// cannot rely on a mail client scrolling a `<pre>`), and the smallest font
/// size of any text. A frame, because Chromium's window is at least 500
/// pixels wide when it dumps the DOM (only the screenshot gets 390). The
/// script lives in this copy only, never in the email.
fn layout_probe(html: &str, path: &Path) {
    const MEASURE: &str = "function measure(f){var doc=f.contentDocument,d=doc.documentElement,\
        win=f.contentWindow,wide=[],minfont=1000;\
        doc.querySelectorAll('body, body *').forEach(function(e){\
        if(e.clientWidth>0&&e.scrollWidth>e.clientWidth+1)\
        wide.push(e.tagName.toLowerCase()+(e.className?'.'+e.className.split(' ').join('.'):''));\
        var text=false;e.childNodes.forEach(function(n){if(n.nodeType===3&&n.data.trim())text=true;});\
        if(text)minfont=Math.min(minfont,parseFloat(win.getComputedStyle(e).fontSize));});\
        document.title='probe page='+d.scrollWidth+' viewport='+d.clientWidth\
        +' findings='+doc.querySelectorAll('div.finding').length+' minfont='+Math.floor(minfont)\
        +' overflowing='+(wide.slice(0,6).join(',')||'none');}";
    let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
    let probe = format!(
        "<!DOCTYPE html><html><head><title>probe pending</title><script>{MEASURE}</script></head>\
         <body style=\"margin:0\"><iframe style=\"border:0;width:{WIDTH}px;height:{HEIGHT}px\" \
         onload=\"measure(this)\" srcdoc=\"{srcdoc}\"></iframe></body></html>"
    );
    std::fs::write(path, probe).unwrap();
}

/// `key=value` from the probe's title.
fn probe_text<'a>(title: &'a str, key: &str) -> &'a str {
    title
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in the probe's title {title:?}"))
}

/// `key=number` from the probe's title.
fn probe_value(title: &str, key: &str) -> u64 {
    let text = probe_text(title, key);
    text.parse()
        .unwrap_or_else(|_| panic!("{key}={text} is not a number in {title:?}"))
}

#[tokio::test]
async fn the_alert_email_renders_on_a_phone_with_one_block_per_finding_and_no_script() {
    let started = Instant::now();
    chromium(); // fail first, and say how to install it

    // A database as Flyway left it.
    let db = fresh_db().await;
    let dir = repo().join("fixtures/migrations/demo");
    let set = driftwatch::migrations::read(&dir, None).expect("read fixtures/migrations/demo");
    driftwatch::replay::migrate(&db, &set, &set.migrations)
        .await
        .expect("apply fixtures/migrations/demo");

    let smtp = mail::SmtpServer::start(mail::SmtpOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path(), smtp.port, db.expose());

    // No drift: exit 0 and no mail.
    let (code, json, stderr) = check_and_notify(&config);
    assert_eq!(
        code,
        Some(0),
        "no drift is exit 0; stderr: {stderr}\n{json}"
    );
    std::thread::sleep(Duration::from_secs(1));
    let early = smtp.messages();
    assert!(
        early.is_empty(),
        "{} mail(s) sent for a schema without drift; first subject {:?}; stderr: {stderr}",
        early.len(),
        early[0].header("Subject")
    );

    // Hand-made changes: drift, and one alert to each recipient.
    exec(&db, OUT_OF_BAND).await;
    let (code, json, stderr) = check_and_notify(&config);
    assert_eq!(code, Some(1), "drift is exit 1; stderr: {stderr}\n{json}");
    let report: Value = serde_json::from_str(&json).expect("the JSON report");
    let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("alert_html");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join("report.json"), &json).unwrap();
    assert_eq!(report["result"], "drift", "{json}");
    let findings = report["findings"].as_array().unwrap();
    // What the alert is about: drift at or above warning (the default
    // notify_min_severity), pending migrations and a migration in
    // progress left out; the worst first (a phone shows the top of the
    // message), in report order within a severity.
    let mut alerted: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            matches!(f["severity"].as_str(), Some("critical" | "warning"))
                && !matches!(
                    f["code"].as_str(),
                    Some("pending" | "migration-in-progress")
                )
        })
        .collect();
    alerted.sort_by_key(|f| f["severity"] != "critical");
    let codes: Vec<&str> = alerted
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for wanted in ["column-added", "index-removed", "privilege-granted"] {
        assert!(
            codes.contains(&wanted),
            "{wanted} missing from the alerted findings {codes:?}"
        );
    }

    let mails = smtp.wait_for(RECIPIENTS.len(), MAIL_TIMEOUT);
    // driftwatch has exited: everything it sent is stored by now.
    assert_eq!(
        mails.len(),
        RECIPIENTS.len(),
        "one message per recipient; envelopes: {:?}; stderr: {stderr}",
        mails.iter().map(|m| &m.rcpt_tos).collect::<Vec<_>>()
    );
    let mut envelopes: Vec<Vec<String>> = mails.iter().map(|m| m.rcpt_tos.clone()).collect();
    envelopes.sort();
    assert_eq!(
        envelopes,
        RECIPIENTS.map(|r| vec![r.to_string()]),
        "each envelope has one recipient"
    );
    let mail = &mails[0];
    let message_id = mail.header("Message-ID").expect("a Message-ID header");
    for other in &mails[1..] {
        assert_eq!(
            other.header("Message-ID"),
            Some(message_id),
            "the same message goes to every recipient"
        );
        assert_eq!(
            other.html, mail.html,
            "the same HTML part for every recipient"
        );
    }
    let subject = mail.header("Subject").expect("a Subject header");
    assert!(
        subject.starts_with(&format!("[driftwatch] {TARGET}: "))
            && subject.ends_with("schema drift"),
        "subject {subject:?}"
    );
    assert_eq!(
        mail.header("Auto-Submitted"),
        Some("auto-generated"),
        "Auto-Submitted; headers: {:?}",
        mail.headers
    );
    assert!(
        !mail.text.trim().is_empty(),
        "an empty text part:\n{}",
        String::from_utf8_lossy(&mail.raw)
    );
    assert!(
        !mail.html.trim().is_empty(),
        "an empty HTML part:\n{}",
        String::from_utf8_lossy(&mail.raw)
    );
    assert!(
        mail.text.contains("orders_status_idx"),
        "the text part does not name the dropped index:\n{}",
        mail.text
    );

    // The HTML part itself: self-contained, for phones, markup escaped.
    let page = keep.join("alert.html");
    std::fs::write(&page, &mail.html).unwrap();
    let html = &mail.html;
    for tag in [
        "script", "img", "svg", "iframe", "link", "object", "embed", "style",
    ] {
        assert!(
            !has_element(html, tag),
            "<{tag} in the HTML part ({})",
            page.display()
        );
    }
    for reference in ["http://", "https://", "url(", "@import", "src=", "href="] {
        assert!(
            !html.to_ascii_lowercase().contains(reference),
            "{reference} in the HTML part (it must load nothing): {}",
            page.display()
        );
    }
    assert!(
        html.contains("name=\"viewport\" content=\"width=device-width"),
        "no viewport meta tag: {}",
        page.display()
    );
    for escaped in [
        "nick&lt;svg onload=alert(2)&gt;",
        "&lt;/pre&gt;&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;",
    ] {
        assert!(
            html.contains(escaped),
            "{escaped} not in the HTML part: {}",
            page.display()
        );
    }

    // A phone's screenshot.
    let shot = keep.join("alert.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &page,
        &[format!("--screenshot={}", shot.display())],
        &tmp.path().join("screenshot.out"),
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert_eq!(png_size(&png), (WIDTH, HEIGHT), "{}", shot.display());
    // A blank page at this size is 2.7 KB, Chromium's page for a missing
    // file 14 KB; this email about 80 KB.
    assert!(
        png.len() > 24_000,
        "{}: {} bytes, nothing much rendered",
        shot.display(),
        png.len()
    );

    // The DOM after loading: one block per alerted finding, in order, no
    // script, the hostile text as text.
    let dom = dump_dom(&page);
    let blocks: Vec<(&str, String)> = dom
        .split("<div class=\"finding\" data-severity=\"")
        .skip(1)
        .map(|rest| {
            let severity = &rest[..rest.find('"').unwrap()];
            let message = rest
                .split_once("<div class=\"message\"")
                .and_then(|(_, m)| m.split_once('>'))
                .and_then(|(_, m)| m.split_once("</div>"))
                .map_or("(no message)", |(m, _)| m);
            (severity, message.to_string())
        })
        .collect();
    let expected: Vec<(&str, String)> = alerted
        .iter()
        .map(|f| {
            let severity = f["severity"].as_str().unwrap();
            (severity, dom_text(f["message"].as_str().unwrap()))
        })
        .collect();
    assert_eq!(
        blocks,
        expected,
        "one finding block (severity, message) per alerted finding of the JSON report \
         ({codes:?}), worst first; see {}",
        page.display()
    );
    assert_eq!(
        dom.matches("class=\"finding\"").count(),
        alerted.len(),
        "elements with class finding"
    );
    for tag in ["script", "img", "svg"] {
        assert!(
            !has_element(&dom, tag),
            "a <{tag}> element in the DOM: {}",
            page.with_extension("dom.html").display()
        );
    }
    assert!(
        dom.contains("&lt;script&gt;"),
        "the function body's markup does not show as text"
    );
    assert!(
        dom.contains("nick&lt;svg onload=alert(2)&gt;"),
        "the column name does not show as text"
    );
    let title = title_of(&dom);
    assert_ne!(title, "pwned", "a script from the database ran");
    assert_eq!(title, subject, "the page's title is the subject");
    assert_eq!(
        dom.matches("<pre").count(),
        dom.matches("</pre>").count(),
        "the DDL diffs' <pre> blocks are closed where the email closes them"
    );

    // Readable on a phone: the email in a 390-pixel frame, measured by the
    // probe's script (which also shows this Chromium runs scripts).
    let probe_page = keep.join("probe.html");
    layout_probe(html, &probe_page);
    let probe = dump_dom(&probe_page);
    let title = title_of(&probe);
    assert!(
        title.starts_with("probe page="),
        "the probe's script did not run: {title:?}"
    );
    assert_eq!(probe_value(title, "viewport"), u64::from(WIDTH), "{title}");
    assert_eq!(
        probe_value(title, "findings"),
        alerted.len() as u64,
        "{title}"
    );
    assert!(
        probe_value(title, "page") <= u64::from(WIDTH),
        "the email is wider than a phone's screen (it scrolls sideways): {title}; see {}",
        shot.display()
    );
    assert_eq!(
        probe_text(title, "overflowing"),
        "none",
        "text wider than its box: {title}; see {}",
        shot.display()
    );
    assert!(
        probe_value(title, "minfont") >= 12,
        "text smaller than 12 pixels: {title}; see {}",
        shot.display()
    );

    if std::env::var_os("DRIFTWATCH_UPDATE_DOCS").is_some_and(|v| v == "1") {
        let docs = repo().join("docs/alert-email.png");
        std::fs::write(&docs, &png).unwrap_or_else(|e| panic!("{}: {e}", docs.display()));
        eprintln!("alert_html: wrote {}", docs.display());
    }

    shadow().drop_database(&db).await.unwrap();
    eprintln!("alert_html: {:.1} s", started.elapsed().as_secs_f64());
}
