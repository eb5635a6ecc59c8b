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

#[path = "common/chromium.rs"]
mod chromium;
mod common;
#[path = "common/mail.rs"]
mod mail;

use chromium::{
    dump_dom, find_chromium, has_element, phone_screenshot, probe_text, probe_value, read_probe,
    title_of, write_layout_probe, OUT_OF_BAND, WIDTH,
};
use common::{driftwatch, exec, fresh_db, repo, shadow};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the SMTP server may take to store what driftwatch sent.
const MAIL_TIMEOUT: Duration = Duration::from_secs(10);

const TARGET: &str = "shop";
const RECIPIENTS: [&str; 2] = ["dba@example.com", "oncall@example.com"];

/// `text` as Chromium serializes a text node.
fn dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
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

/// The email's layout probe ([`write_layout_probe`]), written to `path`: it
/// measures how wide the email is against the phone-sized frame, its
/// finding blocks, the elements whose content is wider than their box (the
/// DDL diffs included: the email wraps them, it cannot rely on a mail
/// client scrolling a `<pre>`), and the smallest font size of any text.
fn layout_probe(html: &str, path: &Path) {
    const MEASURE: &str = "function measure(f){var doc=f.contentDocument,d=doc.documentElement,\
        win=f.contentWindow,wide=[],minfont=1000;\
        doc.querySelectorAll('body, body *').forEach(function(e){\
        if(e.clientWidth>0&&e.scrollWidth>e.clientWidth+1)\
        wide.push(e.tagName.toLowerCase()+(e.className?'.'+e.className.split(' ').join('.'):''));\
        var text=false;e.childNodes.forEach(function(n){if(n.nodeType===3&&n.data.trim())text=true;});\
        if(text)minfont=Math.min(minfont,parseFloat(win.getComputedStyle(e).fontSize));});\
        var split=[],lines=0,wrapped=0;doc.querySelectorAll('pre.ddl span').forEach(function(s){\
        var r=doc.createRange();r.selectNodeContents(s);var tops={};\
        Array.prototype.forEach.call(r.getClientRects(),function(c){tops[Math.round(c.top)]=1;});\
        lines++;if(Object.keys(tops).length>1)wrapped++;\
        var w=doc.createTreeWalker(s,4),n;while((n=w.nextNode())){var re=/[A-Za-z0-9_]+/g,m;\
        while((m=re.exec(n.data))){var q=doc.createRange();q.setStart(n,m.index);q.setEnd(n,m.index+m[0].length);\
        var t={};Array.prototype.forEach.call(q.getClientRects(),function(c){if(c.width>0)t[Math.round(c.top)]=1;});\
        if(Object.keys(t).length>1)split.push(m[0]);}}});\
        document.title='probe page='+d.scrollWidth+' viewport='+d.clientWidth\
        +' ddllines='+lines+' wrapped='+wrapped+' splitwords='+split.length+' split='+(split.slice(0,4).join(',')||'none')\
        +' findings='+doc.querySelectorAll('div.finding').length+' minfont='+Math.floor(minfont)\
        +' overflowing='+(wide.slice(0,6).join(',')||'none');}";
    write_layout_probe(html, MEASURE, path);
}

#[tokio::test]
async fn the_alert_email_renders_on_a_phone_with_one_block_per_finding_and_no_script() {
    let started = Instant::now();
    find_chromium("the alert email"); // fail first, and say how to install it

    // A database as Flyway left it.
    let db = fresh_db().await;
    let dir = repo().join("fixtures/migrations/demo");
    common::flyway::migrate(&db, &dir).await;

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
    let png = phone_screenshot(&page, &shot, &tmp.path().join("screenshot.out"));

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
    let title = &read_probe(&probe_page);
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
    // Long DDL lines wrap (the fixture has some), but only between
    // tokens: a name is never cut in two (`task_` / `id` reads as two).
    assert!(
        probe_value(title, "wrapped") > 0,
        "no DDL line wrapped, so nothing below is tested: {title}"
    );
    assert_eq!(
        probe_value(title, "splitwords"),
        0,
        "names cut across lines in the DDL diffs: {title}; see {}",
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
