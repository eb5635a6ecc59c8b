//! `check --store` reads the live schema incrementally from the positions
//! kept with the last live snapshot: a hand-made change between scans is
//! found by an incremental capture (the report says so), `--full-capture`
//! forces a full one, and a state that does not describe the stored
//! snapshot, or that cannot be read, is never trusted (a full capture).

use super::common::exec;
use super::*;

/// `live_capture` of a report as `kind` or `kind:reason`.
fn capture_of(report: &Value) -> String {
    let c = &report["live_capture"];
    match c["reason"]["reason"].as_str() {
        Some(reason) => format!("{}:{reason}", c["kind"].as_str().unwrap_or("?")),
        None => c["kind"].as_str().unwrap_or("none").to_string(),
    }
}

#[tokio::test]
async fn hand_made_changes_are_found_by_incremental_captures() {
    let db = common::fresh_db().await;
    exec(
        &db,
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
         CREATE INDEX accounts_email ON accounts (email);
         COMMENT ON TABLE accounts IS 'who pays'",
    )
    .await;
    let w = Watched::on(db.clone(), None);
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(capture_of(&report), "full:first");
    let state = w.store.path().join(&w.name).join("live-state.json");
    assert!(
        state.is_file(),
        "the positions are kept with the live snapshot"
    );

    // A hand-made index: drift, read incrementally (the table only).
    exec(
        &db,
        "CREATE INDEX accounts_id_email ON accounts (id, email)",
    )
    .await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(report["result"], "drift");
    assert_eq!(report["live_capture"]["kind"], "incremental");
    assert!(report["live_capture"]["objects"].as_u64().unwrap() >= 1);
    assert!(
        report["findings"].to_string().contains("accounts_id_email"),
        "{}",
        report["findings"]
    );

    // Deletions leave no newer row: the inventories find them.
    exec(
        &db,
        "DROP INDEX accounts_id_email; COMMENT ON TABLE accounts IS NULL",
    )
    .await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(report["live_capture"]["kind"], "incremental");
    let findings = report["findings"].to_string();
    assert!(
        !findings.contains("accounts_id_email") && findings.contains("comment"),
        "{findings}"
    );

    // The same as a full capture finds.
    let (out, full) = w.check(&["--full-capture"]);
    assert_exit(&out, 1);
    assert_eq!(capture_of(&full), "full:forced");
    assert_eq!(full["live_fingerprint"], report["live_fingerprint"]);
    assert_eq!(full["findings"], report["findings"]);

    // Positions that describe another snapshot are not used; unreadable
    // ones neither.
    let text = std::fs::read_to_string(&state).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["snapshot"] = "0".repeat(64).into();
    std::fs::write(&state, value.to_string()).unwrap();
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(capture_of(&report), "full:first");
    std::fs::write(&state, "{ not json").unwrap();
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(capture_of(&report), "full:first");
    let (_, report) = w.check(&[]);
    assert_eq!(report["live_capture"]["kind"], "incremental");
}
