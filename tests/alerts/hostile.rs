//! An alert about objects whose names and comments carry terminal control
//! sequences, bidi overrides and markup: the email that arrives (Subject,
//! text part, HTML part) and the full HTML report it points to show them as
//! text.

use super::common::assert_inert;
use super::mail::{SmtpOptions, SmtpServer};
use super::*;

/// Clears the screen, opens an OSC 8 hyperlink, rings, adds a link.
const TABLE: &str = "evil\x1b[2J\x1b]8;;http://e\x07|[x](http://e)";
/// Two lines, a mention, an HTML image, a bidi override.
const COLUMN: &str = "c\r\n@org/team <img src=x onerror=alert(1)>\u{202e}`";
/// A bare CR that would hide what precedes it, and the rest.
const COMMENT: &str =
    "hi\rHIDDEN\x1b[2J\u{202e}\u{2066} [x](http://evil) <img src=x onerror=alert(1)>\x07";

/// No element from the database, and the payload shown escaped.
fn assert_html(what: &str, html: &str) {
    assert_inert(what, html, false);
    for bad in ["<img", "<a ", "<script"] {
        assert!(!html.contains(bad), "{what}: {bad} in {html}");
    }
    // The text as shown: without the line-break opportunities (`<wbr>`)
    // the email's DDL blocks put between tokens.
    let shown = html.replace("<wbr>", "");
    assert!(
        shown.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{what}: {html}"
    );
    // Shown escaped: as text (`\x1b`) or as SQL writes the name (`U&"…\001B"`).
    assert!(
        shown.contains("evil\\x1b[2J\\x1b]8;;http://e\\x07")
            || shown.contains("evil\\001B[2J\\001B]8;;http://e\\0007"),
        "{what}: {html}"
    );
}

#[tokio::test]
async fn an_alert_about_hostile_names_shows_them_as_text() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let s = Scene::demo().await;
    s.configure(&plain_smtp(smtp.port), r#"notify = ["dba@example.com"]"#);
    let t = format!("shop.\"{}\"", TABLE.replace('"', "\"\""));
    let c = format!("\"{}\"", COLUMN.replace('"', "\"\""));
    let comment = format!("'{}'", COMMENT.replace('\'', "''"));
    s.sql(&format!(
        "CREATE TABLE {t} (id int, {c} text);\n\
         COMMENT ON TABLE {t} IS {comment};\n\
         COMMENT ON COLUMN {t}.{c} IS {comment};\n\
         CREATE INDEX by_hand ON shop.orders (customer_id, status);"
    ))
    .await;
    assert_exit(&s.check(&[]), 1);
    let mails = smtp.wait_for(1, ARRIVES);
    let mail = &mails[0];
    let subject = mail.header("Subject").unwrap_or("");
    assert_inert("subject", subject, false);
    assert!(subject.starts_with("[driftwatch] shop: "), "{subject}");

    assert_inert("text part", &mail.text, false);
    // The name is on its line, shown, not obeyed.
    assert!(
        mail.text.contains(
            "[new] WARNING + table shop.U&\"evil\\001B[2J\\001B]8;;http://e\\0007|[x](http://e)\" added\n"
        ),
        "{}",
        mail.text
    );
    assert_html("HTML part", &mail.html);

    let report = mail
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Full report: "))
        .expect("the full report's place");
    let page = std::fs::read_to_string(report).expect("the full report");
    assert_html("full report", &page);
}
