//! Webhooks: a signed JSON POST with Slack's `text`, under the same state,
//! outbox and retry rules as email.

use super::common::assert_one_line_error;
use super::mail::WebhookServer;
use super::*;
use hmac::Mac;
use serde_json::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn webhooks_get_signed_json_under_the_same_rules() {
    let hook = WebhookServer::start();
    let s = Scene::demo().await;
    s.configure(
        &format!(
            "[webhooks.ops]\nurl = \"{}\"\nsecret_env = \"DW_TEST_HOOK_KEY\"",
            hook.url("/hooks/drift")
        ),
        r#"webhooks = ["ops"]"#,
    );
    let env = [("DW_TEST_HOOK_KEY", "hook-key-123")];
    assert_exit(&s.check(&env), 0);
    s.sql(ADD_INDEX).await;
    assert_exit(&s.check(&env), 1);
    let got = hook.wait_for(1, ARRIVES);
    let req = &got[0];
    assert_eq!(req.path, "/hooks/drift");
    assert_eq!(
        req.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hook-key-123").unwrap();
    mac.update(req.body.as_bytes());
    let expected = format!("sha256={}", hex(&mac.finalize().into_bytes()));
    assert_eq!(
        req.headers.get("x-driftwatch-signature"),
        Some(&expected),
        "HMAC-SHA256 of the body"
    );
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["kind"], "drift");
    assert_eq!(body["target"], "shop");
    assert!(
        body["text"].as_str().unwrap().contains("1 warning"),
        "{body}"
    );
    assert_eq!(body["findings"][0]["code"], "index-added");
    assert_eq!(body["findings"][0]["new"], true);
    assert!(!req.body.contains("hook-key-123"));

    assert_exit(&s.check(&env), 1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        hook.requests().len(),
        1,
        "the same drift is not posted again"
    );

    // The receiver fails (503): kept in the outbox, delivered once it is back.
    hook.set_status(Some(503));
    s.sql(DROP_INDEX).await;
    assert_exit(&s.check(&env), 0);
    assert_eq!(hook.rejected(), 1);
    assert_eq!(s.outbox().len(), 1);
    hook.set_status(None);
    assert_exit(&s.check(&env), 0);
    let got = hook.wait_for(2, ARRIVES);
    let body: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(body["kind"], "resolved");
    assert!(s.outbox().is_empty());
    assert_exit(&s.check(&env), 0);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hook.requests().len(), 2, "delivered exactly once");
    assert!(files_containing(s.dir.path(), "hook-key-123").is_empty());
}

/// A Slack-like webhook whose path is the token.
const TOKEN: &str = "T0DW/B0DW/tok3nSecret77";

/// `status` and the check's output, the outbox, deliveries.jsonl and every
/// other file of the store: none holds the token.
fn assert_token_hidden(s: &Scene, outputs: &[&Output]) {
    for out in outputs {
        assert!(!stderr(out).contains("tok3nSecret77"), "{}", stderr(out));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("tok3nSecret77"));
    }
    let status = s.status();
    assert!(!status.contains("tok3nSecret77"), "{status}");
    let leaked = files_containing(&s.target_dir(), "tok3nSecret77");
    assert!(leaked.is_empty(), "token stored in {leaked:?}");
}

#[tokio::test]
async fn webhook_urls_are_secrets_from_env_or_file_and_shown_as_host_only() {
    let hook = WebhookServer::start();
    let s = Scene::demo().await;
    let url = hook.url(&format!("/services/{TOKEN}"));
    s.configure(
        "[webhooks.ops]\nurl_env = \"DW_TEST_HOOK_URL\"",
        r#"webhooks = ["ops"]"#,
    );
    let env = [("DW_TEST_HOOK_URL", url.as_str())];
    assert_exit(&s.check(&env), 0);

    // Deferred (503): last_error and status name the host, not the path.
    hook.set_status(Some(503));
    s.sql(ADD_INDEX).await;
    let out = s.check(&env);
    assert_exit(&out, 1);
    assert_eq!(s.outbox().len(), 1);
    let status = s.status();
    let shown = format!("http://127.0.0.1:{}/…: HTTP 503", hook.port);
    assert!(status.contains(&shown), "{status}");
    assert_token_hidden(&s, &[&out]);
    assert!(files_containing(s.dir.path(), "tok3nSecret77").is_empty());

    // Rejected (404): deliveries.jsonl and status the same.
    hook.set_status(Some(404));
    let config = s.config_path().display().to_string();
    let flush = s.run(&["alert", "flush", "--config", &config], &env);
    let deliveries =
        std::fs::read_to_string(s.target_dir().join("alerts/deliveries.jsonl")).unwrap();
    assert!(deliveries.contains("HTTP 404"), "{deliveries}");
    let status = s.status();
    assert!(status.contains("alert rejected by ops"), "{status}");
    assert_token_hidden(&s, &[&flush]);

    // From a file, delivered to the full URL.
    hook.set_status(None);
    let file = s.dir.path().join("hook-url");
    std::fs::write(&file, format!("{url}\n")).unwrap();
    s.configure(
        "[webhooks.ops]\nurl_file = \"hook-url\"",
        r#"webhooks = ["ops"]"#,
    );
    s.sql(ADD_COLUMN).await;
    let out = s.check(&[]);
    assert_exit(&out, 1);
    let got = hook.wait_for(1, ARRIVES);
    assert_eq!(got[0].path, format!("/services/{TOKEN}"));
    assert_token_hidden(&s, &[&out]);

    // Nothing listening (a transport error from ureq, which prints URLs).
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed_url = format!("http://127.0.0.1:{closed_port}/services/{TOKEN}");
    s.configure(
        &format!("[webhooks.ops]\nurl = \"{closed_url}\""),
        r#"webhooks = ["ops"]"#,
    );
    s.sql(DROP_INDEX).await;
    let out = s.check(&[]);
    assert_exit(&out, 1);
    let status = s.status();
    assert!(
        status.contains(&format!(
            "http://127.0.0.1:{closed_port}/…: Connection Failed: "
        )),
        "{status}"
    );
    assert_token_hidden(&s, &[&out]);
}

#[tokio::test]
async fn a_webhook_url_is_given_exactly_once_and_a_missing_one_is_one_line() {
    let s = Scene::demo().await;
    let check = |env: &[(&str, &str)]| s.check(env);
    let url = "https://hooks.example.com/services/T0DW/B0DW/tok3nSecret77";

    s.configure(
        &format!("[webhooks.ops]\nurl = \"{url}\"\nurl_env = \"DW_TEST_HOOK_URL\""),
        r#"webhooks = ["ops"]"#,
    );
    let out = check(&[]);
    assert_one_line_error(&out, "webhooks.ops: url and url_env", "tok3nSecret77");

    s.configure("[webhooks.ops]\ntimeout = \"5s\"", r#"webhooks = ["ops"]"#);
    assert_one_line_error(&check(&[]), "webhooks.ops: no url", "");

    s.configure(
        "[webhooks.ops]\nurl_env = \"DW_TEST_UNSET_HOOK_URL\"",
        r#"webhooks = ["ops"]"#,
    );
    let out = check(&[]);
    assert_one_line_error(&out, "webhooks.ops.url_env", "");
    assert!(stderr(&out).contains("DW_TEST_UNSET_HOOK_URL is not set"));
    assert!(!s.target_dir().exists(), "no scan ran");

    s.configure(
        "[webhooks.ops]\nurl_file = \"missing-hook-url\"",
        r#"webhooks = ["ops"]"#,
    );
    assert_one_line_error(&check(&[]), "webhooks.ops.url_file", "");

    // Not an http(s) URL: said so without echoing what the variable holds.
    s.configure(
        "[webhooks.ops]\nurl_env = \"DW_TEST_HOOK_URL\"",
        r#"webhooks = ["ops"]"#,
    );
    let out = check(&[("DW_TEST_HOOK_URL", "ftp://files.example.com/tok3nSecret77")]);
    assert_one_line_error(&out, "webhooks.ops.url", "tok3nSecret77");
    assert!(stderr(&out).contains("http(s)"), "{}", stderr(&out));

    // An inline URL that is not http(s): its path is not echoed either.
    s.configure(
        "[webhooks.ops]\nurl = \"ftp://files.example.com/tok3nSecret77\"",
        r#"webhooks = ["ops"]"#,
    );
    assert_one_line_error(&check(&[]), "webhooks.ops.url", "tok3nSecret77");
}

/// The outcomes in `alerts/deliveries.jsonl`, in order, as `outcome error`.
fn deliveries(s: &Scene) -> Vec<String> {
    std::fs::read_to_string(s.target_dir().join("alerts/deliveries.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            format!(
                "{} {}",
                v["outcome"].as_str().unwrap_or("?"),
                v["error"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// A 4xx answer is a refusal: recorded as rejected, taken out of the outbox
/// and never posted again. 408 (Request Timeout) and 429 (Too Many
/// Requests) are the receiver asking for a later try: deferred, kept, and
/// posted again until accepted.
#[tokio::test]
async fn a_webhook_4xx_is_refused_for_good_but_408_and_429_are_retried() {
    let hook = WebhookServer::start();
    let s = Scene::demo().await;
    s.configure(
        &format!("[webhooks.ops]\nurl = \"{}\"", hook.url("/hook")),
        r#"webhooks = ["ops"]"#,
    );
    let config = s.config_path().display().to_string();
    let flush = || {
        let out = s.run(&["alert", "flush", "--config", &config], &[]);
        assert!(out.status.code().is_some(), "{}", stderr(&out));
    };
    assert_exit(&s.check(&[]), 0);

    // Refused (422, then 401): one POST each, rejected, not kept.
    let mut answered = 0;
    for (code, change) in [(422, ADD_INDEX), (401, DROP_INDEX)] {
        hook.set_status(Some(code));
        s.sql(change).await;
        s.check(&[]);
        answered += 1;
        assert_eq!(hook.rejected(), answered, "HTTP {code}: posted once");
        assert!(s.outbox().is_empty(), "HTTP {code}: not kept for a retry");
        let last = deliveries(&s).pop().unwrap_or_default();
        assert!(
            last.starts_with("rejected ") && last.ends_with(&format!("HTTP {code}")),
            "{last}"
        );
        flush();
        assert_eq!(hook.rejected(), answered, "HTTP {code}: never posted again");
    }
    assert!(
        s.status().contains("alert rejected by ops"),
        "{}",
        s.status()
    );

    // Deferred (408, then 429): kept, posted again at each flush, and
    // delivered once the receiver accepts.
    let mut delivered = 0;
    for (code, change) in [(408, ADD_COLUMN), (429, ADD_INDEX)] {
        hook.set_status(Some(code));
        s.sql(change).await;
        s.check(&[]);
        answered += 1;
        assert_eq!(hook.rejected(), answered, "HTTP {code}: posted");
        assert_eq!(s.outbox().len(), 1, "HTTP {code}: kept for a retry");
        let last = deliveries(&s).pop().unwrap_or_default();
        assert!(
            last.starts_with("deferred ") && last.ends_with(&format!("HTTP {code}")),
            "{last}"
        );
        flush();
        answered += 1;
        assert_eq!(hook.rejected(), answered, "HTTP {code}: retried");
        assert_eq!(s.outbox().len(), 1);
        hook.set_status(None);
        flush();
        delivered += 1;
        assert_eq!(hook.wait_for(delivered, ARRIVES).len(), delivered);
        assert!(s.outbox().is_empty(), "HTTP {code}: delivered at last");
        assert!(deliveries(&s).pop().unwrap_or_default().starts_with("sent"));
    }
}
