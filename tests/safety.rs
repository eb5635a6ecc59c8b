//! A capture must never harm a watched database: no blocking of DDL, a
//! clear stop when DDL holds a table, and nothing needed beyond CONNECT.

mod common;

use common::*;
use driftwatch::catalog::{capture, CaptureOptions, DatabaseUrl};
use driftwatch::Error;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_capture_stops_cleanly_and_never_blocks_a_session_holding_access_exclusive() {
    let db = fresh_db().await;
    exec(
        &db,
        "CREATE TABLE locked_t (a int CHECK (a > 0)); CREATE VIEW locked_v AS SELECT a FROM locked_t;",
    )
    .await;
    let mut holder = db.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE locked_t IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();

    let opts = CaptureOptions {
        lock_timeout: Duration::from_millis(300),
        ..CaptureOptions::default()
    };
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(20), capture(&db, &opts))
        .await
        .expect("the capture ends instead of waiting");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    match result {
        Err(Error::Locked { relation, pid, .. }) => {
            assert!(relation.contains("locked_t"), "{relation}");
            assert!(pid > 0);
            let text = Error::Locked {
                target: db.redacted().into(),
                relation,
                pid,
            }
            .to_string();
            assert!(text.contains("retry"), "{text}");
        }
        Err(other) => panic!("expected a lock error, got {other}"),
        Ok(_) => panic!("a capture that deparses locked_t cannot succeed while it is locked"),
    }

    // The lock holder was never queued behind the capture: its DDL and
    // commit go through at once.
    tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::raw_sql("ALTER TABLE locked_t ADD COLUMN b int; COMMIT").execute(&mut holder),
    )
    .await
    .expect("the DDL session was blocked")
    .unwrap();

    let s = snap(&db).await;
    let t = s
        .objects
        .tables
        .iter()
        .find(|t| t.name == "locked_t")
        .unwrap();
    assert!(t.columns.iter().any(|c| c.name == "b"));
}

#[tokio::test]
async fn ddl_keeps_flowing_while_captures_run() {
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    let mut ddl = db.connect(&[]).await.unwrap();
    sqlx::raw_sql("SET lock_timeout = '3s'")
        .execute(&mut ddl)
        .await
        .unwrap();

    let captures = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..8 {
                let r = capture(&db, &CaptureOptions::default()).await;
                outcomes.push(match r {
                    Ok(_) => "ok".to_string(),
                    Err(Error::Locked { .. }) | Err(Error::ChangedDuringCapture { .. }) => {
                        "stopped".to_string()
                    }
                    Err(e) => format!("error: {e}"),
                });
            }
            outcomes
        })
    };
    let mut slowest = Duration::ZERO;
    for i in 0..40 {
        let started = Instant::now();
        let sql = if i % 2 == 0 {
            "ALTER TABLE app.orders ADD COLUMN flicker int"
        } else {
            "ALTER TABLE app.orders DROP COLUMN flicker"
        };
        sqlx::raw_sql(sql)
            .execute(&mut ddl)
            .await
            .expect("DDL during capture");
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let outcomes = captures.await.unwrap();
    assert!(
        outcomes.iter().all(|o| o == "ok" || o == "stopped"),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o == "ok"),
        "no capture completed: {outcomes:?}"
    );
    // A deparse statement holds ACCESS SHARE for milliseconds, never for
    // the length of a capture.
    assert!(
        slowest < Duration::from_millis(1500),
        "slowest DDL {slowest:?}"
    );
}

/// The same database, reached as the CONNECT-only role dw_scanner.
fn as_scanner(db: &DatabaseUrl) -> DatabaseUrl {
    let url = db
        .expose()
        .replacen("postgres@", "dw_scanner:scanner-pw@", 1);
    DatabaseUrl::parse(&url).unwrap()
}

fn database_name(db: &DatabaseUrl) -> String {
    url::Url::parse(db.expose())
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string()
}

#[tokio::test]
async fn a_role_with_only_connect_captures_the_same_snapshot_as_a_superuser() {
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    let name = database_name(&db);
    psql(
        &db,
        &format!("REVOKE ALL ON DATABASE \"{name}\" FROM PUBLIC; GRANT CONNECT ON DATABASE \"{name}\" TO dw_scanner;"),
    );
    let superuser = snap(&db).await;
    let (scanner, _) = capture(&as_scanner(&db), &CaptureOptions::default())
        .await
        .expect("a CONNECT-only role can capture");
    assert_eq!(objects_json(&scanner), objects_json(&superuser));
}

#[tokio::test]
async fn a_role_without_connect_gets_one_clear_line_and_exit_2() {
    let db = fresh_db().await;
    let name = database_name(&db);
    psql(
        &db,
        &format!("REVOKE ALL ON DATABASE \"{name}\" FROM PUBLIC"),
    );
    let url = as_scanner(&db);
    let out = driftwatch(&["snapshot", url.expose()]);
    assert_one_line_error(&out, "permission denied", "scanner-pw");
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONNECT"));
}
