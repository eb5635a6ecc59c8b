//! Webhooks: a signed JSON POST with Slack's `text`, under the same state,
//! outbox and retry rules as email.

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
