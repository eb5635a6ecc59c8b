//! Email: one message per new drift state, threaded, resolved explicitly;
//! TLS and AUTH; a recipient the server refuses; reminders and failing
//! scans; the dry run.

use super::mail::{ReceivedMail, SmtpOptions, SmtpServer, SmtpTls};
use super::*;

fn subject(m: &ReceivedMail) -> &str {
    m.header("Subject").unwrap_or("")
}

/// No message arrives beyond the `n` already there.
fn assert_no_more(smtp: &SmtpServer, n: usize) {
    std::thread::sleep(Duration::from_millis(700));
    let got = smtp.messages();
    assert_eq!(
        got.len(),
        n,
        "unexpected messages: {:?}",
        got.iter().map(subject).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn drift_is_alerted_once_per_state_threaded_and_resolved() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let s = Scene::demo().await;
    s.configure(
        &plain_smtp(smtp.port),
        r#"notify = ["dba@example.com", "On Call <oncall@example.com>"]"#,
    );
    assert_exit(&s.check(&[]), 0);
    assert_no_more(&smtp, 0);

    s.sql(ADD_INDEX).await;
    let out = s.check(&[]);
    assert_exit(&out, 1);
    // What was sent, by which channel, to whom: one line per recipient.
    let said = String::from_utf8_lossy(&out.stderr);
    for to in ["dba@example.com", "oncall@example.com"] {
        assert!(
            said.lines()
                .any(|l| l.starts_with("driftwatch: shop: drift alert ")
                    && l.ends_with(&format!(" sent by email to {to}"))),
            "{said}"
        );
    }
    let mails = smtp.wait_for(2, ARRIVES);
    assert_eq!(mails.len(), 2, "one delivery per recipient");
    let mut rcpts: Vec<String> = mails.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    rcpts.sort();
    assert_eq!(rcpts, ["dba@example.com", "oncall@example.com"]);
    let first = &mails[0];
    assert_eq!(subject(first), "[driftwatch] shop: 1 warning schema drift");
    let root = first.header("Message-ID").expect("Message-ID").to_string();
    assert_eq!(mails[1].header("Message-ID"), Some(root.as_str()));
    assert_eq!(first.header("Auto-Submitted"), Some("auto-generated"));
    assert!(first.header("In-Reply-To").is_none());
    let to = first.header("To").unwrap_or("");
    assert!(
        to.contains("dba@example.com") && to.contains("oncall@example.com"),
        "{to}"
    );
    assert!(first.text.contains("shop.orders.by_hand"), "{}", first.text);
    assert!(first.text.contains("out-of-band"), "{}", first.text);
    assert!(
        first.text.contains("+CREATE INDEX by_hand"),
        "{}",
        first.text
    );
    assert_eq!(first.html.matches("class=\"finding\"").count(), 1);
    let report = first
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Full report: "))
        .expect("the full report's place");
    assert!(Path::new(report).is_file(), "{report}");

    // The same drift again: nothing.
    assert_exit(&s.check(&[]), 1);
    assert_no_more(&smtp, 2);

    // A new drift state: a message in the same thread, the new finding marked.
    s.sql(ADD_COLUMN).await;
    assert_exit(&s.check(&[]), 1);
    let mails = smtp.wait_for(4, ARRIVES);
    let second = &mails[2];
    assert!(
        subject(second).ends_with("schema drift"),
        "{}",
        subject(second)
    );
    assert_eq!(second.header("In-Reply-To"), Some(root.as_str()));
    assert!(second.text.contains("[new]") && second.text.contains("nickname"));
    let second_id = second.header("Message-ID").unwrap().to_string();
    assert_ne!(second_id, root);

    // Undone by hand: resolved, replying to the last, referring to the first.
    s.sql(&format!(
        "{DROP_INDEX}; ALTER TABLE shop.customers DROP COLUMN nickname"
    ))
    .await;
    assert_exit(&s.check(&[]), 0);
    let mails = smtp.wait_for(6, ARRIVES);
    let resolved = &mails[4];
    assert_eq!(
        subject(resolved),
        "[driftwatch] shop: schema drift resolved"
    );
    assert_eq!(resolved.header("In-Reply-To"), Some(second_id.as_str()));
    let refs = resolved.header("References").unwrap_or("");
    assert!(refs.contains(&root) && refs.contains(&second_id), "{refs}");
    assert_exit(&s.check(&[]), 0);
    assert_no_more(&smtp, 6);

    let status = s.status();
    assert!(
        status.contains("alerts: 0 waiting in the outbox") && status.contains("(resolved)"),
        "{status}"
    );
}

#[tokio::test]
async fn starttls_and_implicit_tls_with_auth_and_the_password_stays_secret() {
    for (mode, word) in [(SmtpTls::StartTls, "starttls"), (SmtpTls::Tls, "tls")] {
        let smtp = SmtpServer::start(SmtpOptions {
            tls: mode,
            auth: Some(("driftwatch".into(), "smtp-s3cret-pw".into())),
            reject: Vec::new(),
        });
        let s = Scene::demo().await;
        let head = |ca: bool| {
            format!(
                "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"{word}\"\nusername = \"driftwatch\"\n\
                 password_env = \"DW_TEST_SMTP_PW\"\n{}from = \"driftwatch <drift@example.com>\"",
                smtp.port,
                if ca {
                    format!("ca_file = \"{}\"\n", smtp.cert_pem_path().unwrap().display())
                } else {
                    String::new()
                }
            )
        };
        s.configure(&head(true), r#"notify = ["dba@example.com"]"#);
        let config = s.config_path().display().to_string();
        let test = |pw: &str| {
            s.run(
                &[
                    "alert",
                    "test",
                    "--config",
                    &config,
                    "--to",
                    "dba@example.com",
                ],
                &[("DW_TEST_SMTP_PW", pw)],
            )
        };
        let out = test("smtp-s3cret-pw");
        assert_exit(&out, 0);
        let mails = smtp.wait_for(1, ARRIVES);
        assert!(mails[0].tls, "{word}: delivered without TLS");
        assert_eq!(mails[0].auth_user.as_deref(), Some("driftwatch"));
        assert_eq!(subject(&mails[0]), "[driftwatch] test: test message");

        // A wrong password: not delivered, said on one line, never echoed.
        let out = test("wrong-pw-value");
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("dba@example.com") && err.contains("535"),
            "{err}"
        );
        assert!(!err.contains("wrong-pw-value"));

        // A certificate driftwatch was not told to trust: refused.
        s.configure(&head(false), r#"notify = ["dba@example.com"]"#);
        let out = test("smtp-s3cret-pw");
        assert_exit(&out, 2);
        assert_no_more(&smtp, 1);

        // A real scan through TLS: the password is nowhere in the store.
        s.configure(&head(true), r#"notify = ["dba@example.com"]"#);
        s.sql(ADD_INDEX).await;
        let out = s.check(&[("DW_TEST_SMTP_PW", "smtp-s3cret-pw")]);
        assert_exit(&out, 1);
        smtp.wait_for(2, ARRIVES);
        assert!(files_containing(s.dir.path(), "smtp-s3cret-pw").is_empty());
        assert!(!s.status().contains("smtp-s3cret-pw"));
    }
}

#[tokio::test]
async fn a_rejected_recipient_does_not_stop_the_others_and_status_shows_it() {
    let smtp = SmtpServer::start(SmtpOptions {
        reject: vec!["gone@example.com".into()],
        ..SmtpOptions::default()
    });
    let s = Scene::demo().await;
    s.configure(
        &plain_smtp(smtp.port),
        r#"notify = ["dba@example.com", "gone@example.com", "oncall@example.com"]"#,
    );
    s.sql(ADD_INDEX).await;
    let out = s.check(&[]);
    assert_exit(&out, 1);
    let mails = smtp.wait_for(2, ARRIVES);
    let mut rcpts: Vec<String> = mails.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    rcpts.sort();
    assert_eq!(rcpts, ["dba@example.com", "oncall@example.com"]);
    let err = stderr(&out);
    assert!(
        err.contains("gone@example.com rejected") && err.contains("550"),
        "{err}"
    );
    assert!(s.outbox().is_empty(), "a refused recipient is not retried");
    let status = s.status();
    assert!(
        status.contains("alert rejected by gone@example.com") && status.contains("550"),
        "{status}"
    );
    assert_no_more(&smtp, 2);
}

#[tokio::test]
async fn reminders_wait_for_remind_after_and_failing_scans_alert_after_n() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let s = Scene::demo().await;
    let keys = "notify = [\"dba@example.com\"]\nremind_after = \"3s\"\nfailing_after = 2";
    s.configure(&plain_smtp(smtp.port), keys);
    s.sql(ADD_INDEX).await;
    assert_exit(&s.check(&[]), 1);
    smtp.wait_for(1, ARRIVES);
    assert_exit(&s.check(&[]), 1);
    assert_no_more(&smtp, 1);
    std::thread::sleep(Duration::from_secs(3));
    assert_exit(&s.check(&[]), 1);
    let mails = smtp.wait_for(2, ARRIVES);
    assert_eq!(
        subject(&mails[1]),
        "[driftwatch] shop: 1 warning schema drift (reminder)"
    );

    // The target goes away: one "scan failing" after two failed scans.
    let down = "postgres://scanner:url-s3cret@127.0.0.1:1/shop";
    s.configure_url(&plain_smtp(smtp.port), keys, down);
    assert_exit(&s.check(&[]), 2);
    assert_no_more(&smtp, 2);
    assert_exit(&s.check(&[]), 2);
    let mails = smtp.wait_for(3, ARRIVES);
    assert_eq!(subject(&mails[2]), "[driftwatch] shop: scan failing");
    assert!(mails[2].text.contains("127.0.0.1:1"), "{}", mails[2].text);
    assert!(!mails[2].text.contains("url-s3cret"));
    assert_exit(&s.check(&[]), 2);
    assert_no_more(&smtp, 3);

    // Back: recovered, and the unchanged drift is not announced again.
    s.configure(&plain_smtp(smtp.port), keys);
    assert_exit(&s.check(&[]), 1);
    let mails = smtp.wait_for(4, ARRIVES);
    assert_eq!(subject(&mails[3]), "[driftwatch] shop: scan recovered");
    assert_no_more(&smtp, 4);
}

#[tokio::test]
async fn a_dry_run_writes_eml_files_and_keeps_no_state() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let s = Scene::demo().await;
    s.configure(&plain_smtp(smtp.port), r#"notify = ["dba@example.com"]"#);
    s.sql(ADD_INDEX).await;
    let config = s.config_path().display().to_string();
    let shadow_url = shadow().admin_url().expose().to_string();
    let out_dir = s.dir.path().join("eml");
    let out = s.run(
        &[
            "check",
            "--config",
            &config,
            "--notify",
            "--dry-run",
            &out_dir.display().to_string(),
            "--shadow-url",
            &shadow_url,
        ],
        &[],
    );
    assert_exit(&out, 1);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.lines()
            .any(|l| l.starts_with("driftwatch: shop: drift alert ")
                && l.ends_with(&format!(
                    " for dba@example.com written to {} (dry run: not sent)",
                    out_dir.display()
                ))),
        "{said}"
    );
    let emls: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(emls.len(), 1, "{emls:?}");
    let eml = std::fs::read_to_string(&emls[0]).unwrap();
    assert!(
        eml.contains("Subject: [driftwatch] shop: 1 warning schema drift"),
        "{eml}"
    );
    assert_no_more(&smtp, 0);
    assert!(!s.target_dir().join("alerts/state.json").exists());
    assert!(s.outbox().is_empty());
    // The real run still has something to say.
    assert_exit(&s.check(&[]), 1);
    smtp.wait_for(1, ARRIVES);
}

/// After a baseline the message says the live schema differs from the
/// accepted baseline (not from its migrations), and still names the
/// migration that last touched the drifted object.
#[tokio::test]
async fn drift_after_a_baseline_is_worded_after_the_baseline_and_attributed() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let s = Scene::demo().await;
    s.configure(&plain_smtp(smtp.port), r#"notify = ["dba@example.com"]"#);
    assert_exit(&s.check(&[]), 0);
    s.sql(ADD_COLUMN).await;
    let config = s.config_path().display().to_string();
    let shadow_url = shadow().admin_url().expose().to_string();
    let out = s.run(
        &[
            "baseline",
            "--config",
            &config,
            "--reason",
            "the nickname stays",
            "--yes",
            "--shadow-url",
            &shadow_url,
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert_exit(&s.check(&[]), 0);
    assert_no_more(&smtp, 0);

    // Drift on the index migration 2 made.
    s.sql("DROP INDEX shop.orders_status_idx").await;
    assert_exit(&s.check(&[]), 1);
    let mails = smtp.wait_for(1, ARRIVES);
    let mail = &mails[0];
    let headline = "shop: the live schema differs from the accepted baseline (1 warning).";
    assert!(mail.text.starts_with(headline), "{}", mail.text);
    assert!(mail.html.contains(headline), "{}", mail.html);
    assert!(
        !mail.text.contains("what its migrations say"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("last touched by migration 2 (order lines)"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("unknown"), "{}", mail.text);
}
