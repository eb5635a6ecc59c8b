//! A capture must never harm a watched database: no blocking of DDL, a
//! clear stop when DDL holds a table, and nothing needed beyond CONNECT.

mod common;

use common::*;
use driftwatch::catalog::{capture, CaptureOptions, DatabaseUrl};
use driftwatch::Error;
use std::time::Duration;

/// Sessions waiting for a lock on `relation` (pg_locks, not granted).
async fn waiting_on(monitor: &mut sqlx::PgConnection, relation: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass",
    )
    .bind(relation)
    .fetch_one(monitor)
    .await
    .unwrap()
}

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
    match capture(&db, &opts).await {
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

    // The capture left nothing behind that the DDL session could queue
    // behind: no session waits on locked_t, no capture session is left.
    let mut monitor = db.connect(&[]).await.unwrap();
    assert_eq!(waiting_on(&mut monitor, "locked_t").await, 0);
    sqlx::raw_sql("ALTER TABLE locked_t ADD COLUMN b int; COMMIT")
        .execute(&mut holder)
        .await
        .expect("the DDL session's own statements");

    let s = snap(&db).await;
    let t = s
        .objects
        .tables
        .iter()
        .find(|t| t.name == "locked_t")
        .unwrap();
    assert!(t.columns.iter().any(|c| c.name == "b"));
}

/// What a monitor sees while captures run: how often a capture session was
/// there, and how often one sat idle in a transaction holding a lock on a
/// user relation (which would queue DDL behind the whole capture).
#[derive(Debug, Default)]
struct Sampled {
    samples: u64,
    with_captures: u64,
    idle_holding_user_locks: u64,
}

const SAMPLE_SQL: &str = "
SELECT
  (SELECT count(*) FROM pg_stat_activity
    WHERE application_name = 'driftwatch' AND datname = current_database()
      AND pid <> ALL($1)),
  (SELECT count(*) FROM pg_locks l
     JOIN pg_stat_activity a ON a.pid = l.pid
     JOIN pg_class c ON c.oid = l.relation
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.application_name = 'driftwatch' AND a.pid <> ALL($1)
      AND a.state LIKE 'idle in transaction%' AND l.locktype = 'relation'
      AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema')";

#[tokio::test]
async fn ddl_keeps_flowing_while_captures_run() {
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    let mut ddl = db.connect(&[]).await.unwrap();
    let mut monitor = db.connect(&[]).await.unwrap();
    let mut ours = Vec::new();
    for conn in [&mut ddl, &mut monitor] {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(conn)
            .await
            .unwrap();
        ours.push(pid);
    }

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
    // A monitor samples continuously; DDL runs for as long as the captures
    // do, and after each statement checks that a capture session is there.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let monitoring = {
        let (stop, ours) = (stop.clone(), ours.clone());
        tokio::spawn(async move {
            let mut sampled = Sampled::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (with, idle): (i64, i64) = sqlx::query_as(SAMPLE_SQL)
                    .bind(&ours)
                    .fetch_one(&mut monitor)
                    .await
                    .unwrap();
                sampled.samples += 1;
                sampled.with_captures += u64::from(with > 0);
                sampled.idle_holding_user_locks += u64::from(idle > 0);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sampled
        })
    };
    let mut statements = 0;
    let mut overlapping = 0;
    while !captures.is_finished() || statements % 2 == 1 {
        let sql = if statements % 2 == 0 {
            "ALTER TABLE app.orders ADD COLUMN flicker int"
        } else {
            "ALTER TABLE app.orders DROP COLUMN flicker"
        };
        sqlx::raw_sql(sql)
            .execute(&mut ddl)
            .await
            .expect("DDL during capture");
        statements += 1;
        let (with, _): (i64, i64) = sqlx::query_as(SAMPLE_SQL)
            .bind(&ours)
            .fetch_one(&mut ddl)
            .await
            .unwrap();
        overlapping += u64::from(with > 0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled = monitoring.await.unwrap();
    let outcomes = captures.await.unwrap();
    assert!(
        outcomes.iter().all(|o| o == "ok" || o == "stopped"),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o == "ok"),
        "no capture completed: {outcomes:?}"
    );
    // The captures really ran beside the DDL, and never held a user table
    // between statements: a deparse holds ACCESS SHARE for one statement.
    assert!(overlapping > 0, "no DDL statement overlapped a capture");
    assert!(sampled.with_captures > 0, "no overlap: {sampled:?}");
    assert_eq!(sampled.idle_holding_user_locks, 0, "{sampled:?}");
}

/// The binary's view of a lock: waits out short DDL within --lock-timeout,
/// stops with one line and exit 2 on DDL that outlasts it.
#[tokio::test]
async fn the_binary_waits_out_short_ddl_and_stops_on_long_ddl() {
    let db = fresh_db().await;
    exec(&db, "CREATE TABLE busy_t (a int CHECK (a > 0));").await;
    let mut holder = db.connect(&[]).await.unwrap();
    let mut monitor = db.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE busy_t IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();

    // Long DDL: the lock outlasts --lock-timeout.
    let out = driftwatch(&["snapshot", db.expose(), "--lock-timeout", "200"]);
    assert_one_line_error(&out, "busy_t is locked by another session", "");
    assert_eq!(waiting_on(&mut monitor, "busy_t").await, 0);

    // Short DDL: the capture sees the lock, waits, and succeeds once the
    // holder commits.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["snapshot", db.expose(), "--lock-timeout", "600000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        // The capture's lock check has run and found the holder.
        let polling: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'driftwatch' AND query LIKE '%AccessExclusiveLock%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut monitor)
        .await
        .unwrap();
        if polling > 0 || child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let table = json["objects"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "busy_t")
        .unwrap();
    assert!(table.to_string().contains("(a > 0)"), "{table}");
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
