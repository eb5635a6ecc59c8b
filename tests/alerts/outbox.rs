//! The outbox read back as input: recipients, webhooks and URLs come from
//! the configuration at delivery, and a file that is not an entry is set
//! aside (and counted) while the others go out.

use super::mail::{SmtpOptions, SmtpServer, WebhookServer};
use super::*;
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

#[tokio::test]
async fn mail_goes_only_to_recipients_the_configuration_still_names() {
    let mut smtp = SmtpServer::start(SmtpOptions::default());
    smtp.stop();
    let s = Scene::demo().await;
    s.configure(
        &plain_smtp(smtp.port),
        r#"notify = ["dba@example.com", "old@example.com"]"#,
    );
    s.sql(ADD_INDEX).await;
    assert_exit(&s.check(&[]), 1);
    let queued = s.outbox();
    assert_eq!(queued.len(), 1, "the message waits in the outbox");
    // Someone with write access to the store adds a recipient ...
    let mut entry = read_json(&queued[0]);
    entry["pending"]
        .as_array_mut()
        .unwrap()
        .push("intruder@evil.example".into());
    write_json(&queued[0], &entry);
    // ... puts files beside it that are not entries ...
    let outbox = s.target_dir().join("outbox");
    std::fs::write(outbox.join("0-garbage.json"), "not json\n").unwrap();
    let mut with_url = entry.clone();
    with_url["id"] = "0-with-url".into();
    with_url["url"] = "http://evil.example/".into();
    write_json(&outbox.join("0-with-url.json"), &with_url);
    // ... and the configuration drops a recipient.
    s.configure(&plain_smtp(smtp.port), r#"notify = ["DBA@example.com"]"#);
    smtp.restart();
    let config = s.config_path().display().to_string();
    let out = s.run(&["alert", "flush", "--config", &config], &[]);
    assert_exit(&out, 0);
    let mails = smtp.wait_for(1, ARRIVES);
    std::thread::sleep(Duration::from_millis(700));
    let all = smtp.messages();
    let to: Vec<&String> = all.iter().flat_map(|m| &m.rcpt_tos).collect();
    assert_eq!(to, ["dba@example.com"], "{:?}", mails.len());
    assert!(s.outbox().is_empty(), "{:?}", s.outbox());
    let err = stderr(&out);
    for name in ["0-garbage.json", "0-with-url.json"] {
        assert!(
            s.target_dir().join("outbox/rejected").join(name).is_file(),
            "{name} set aside"
        );
        assert!(err.contains(&format!("outbox file \"{name}\"")), "{err}");
    }
    assert!(err.contains("unknown field"), "{err}");
    let status = s.status();
    assert!(
        status.contains("2 unreadable set aside in outbox/rejected/"),
        "{status}"
    );
}

#[tokio::test]
async fn a_webhook_the_target_no_longer_names_waits_and_goes_out_when_put_back() {
    let hook = WebhookServer::start();
    let s = Scene::demo().await;
    let head = format!("[webhooks.ops]\nurl = \"{}\"", hook.url("/hooks/drift"));
    s.configure(&head, r#"webhooks = ["ops"]"#);
    hook.set_status(Some(503));
    s.sql(ADD_INDEX).await;
    assert_exit(&s.check(&[]), 1);
    assert_eq!(s.outbox().len(), 1);
    hook.set_status(None);
    let config = s.config_path().display().to_string();
    // Still defined, but no longer one of the target's: kept, not posted.
    s.configure(&head, "");
    assert_exit(&s.run(&["alert", "flush", "--config", &config], &[]), 1);
    assert_eq!(s.outbox().len(), 1, "kept in the outbox");
    // Removed altogether: kept.
    s.configure("", "");
    assert_exit(&s.run(&["alert", "flush", "--config", &config], &[]), 1);
    assert_eq!(s.outbox().len(), 1, "kept in the outbox");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hook.requests().len(), 0, "{:?}", hook.requests().len());
    // Put back: delivered, to the configured URL.
    s.configure(&head, r#"webhooks = ["ops"]"#);
    let out = s.run(&["alert", "flush", "--config", &config], &[]);
    assert_exit(&out, 0);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.lines()
            .any(|l| l.starts_with("driftwatch: shop: drift alert ")
                && l.ends_with(" posted to webhook ops")),
        "{said}"
    );
    let got = hook.wait_for(1, ARRIVES);
    assert_eq!(got[0].path, "/hooks/drift");
    assert!(s.outbox().is_empty());
}
