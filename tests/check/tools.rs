//! Histories written by the real tools (sqlx-cli, dbmate, installed by
//! scripts/tools.sh) and golang-migrate's (the rows its source writes):
//! clean, drift, and a migration running under the tool.

use super::common::{exec, psql_rows, tools_sh};
use super::*;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The URL with a host name (sqlx-cli rejects an empty host) and, for
/// dbmate's lib/pq, sslmode=disable.
fn tool_url(db: &DatabaseUrl) -> String {
    let url = db
        .expose()
        .replace("postgres://postgres@/", "postgres://postgres@localhost/");
    if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// Waits until `sql` (a count) is positive: the tool got where the test wants it.
fn wait_for(db: &DatabaseUrl, sql: &str, child: &mut Child, log: &Path) {
    let started = Instant::now();
    while psql_rows(db, sql) != ["1"] {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the tool ended before the test saw it migrating ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the tool never got there"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `tool` (migrating `dir`, whose last migration alters `table` and
/// then sleeps) until its DDL holds the table, then checks: a migration in
/// progress, seen through the table.
fn assert_in_progress_while_it_holds(mut tool: Command, db: &DatabaseUrl, dir: &Path, table: &str) {
    let log_path = dir.join("tool.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = tool
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("run the migration tool");
    wait_for(
        db,
        &format!("SELECT count(*) FROM pg_locks WHERE relation = '{table}'::regclass AND mode = 'AccessExclusiveLock' AND granted"),
        &mut child,
        &log_path,
    );
    let running = Watched::on(db.clone(), Some(dir.to_path_buf()));
    let (out, report) = running.check(&["--lock-timeout", "200"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_exit(&out, 0);
    assert_eq!(report["result"], "migration-in-progress", "{report}");
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains(table));
}

/// A copy of `from` with one more file.
fn with_extra(from: &Path, name: &str, sql: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    std::fs::write(dir.path().join(name), sql).unwrap();
    dir
}

#[tokio::test]
async fn sqlx_clean_drift_and_a_run_under_its_lock() {
    let db = common::fresh_db().await;
    tools_sh(&["apply", "sqlx", db.expose()]);
    let fixtures = repo().join("fixtures/tools/sqlx/migrations");
    let w = Watched::on(db.clone(), Some(fixtures.clone()));
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["history"], "sqlx (public._sqlx_migrations)");
    assert_eq!(report["result"], "clean", "{report}");

    exec(
        &db,
        "CREATE INDEX sqlx_accounts_display_name_idx ON sqlx_accounts (display_name)",
    )
    .await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(
        findings(&report),
        ["warning index-added public.sqlx_accounts.sqlx_accounts_display_name_idx out-of-band"]
    );

    // sqlx-cli takes no advisory lock (only sqlx's Migrator does): a slow
    // migration of sqlx-cli is seen through the table its DDL holds.
    let dir = with_extra(
        &fixtures,
        "20240401000000_slow.sql",
        "ALTER TABLE sqlx_accounts ADD COLUMN slow int;\nSELECT pg_sleep(30);\n",
    );
    let mut sqlx = Command::new(tools_sh(&["path", "sqlx"]));
    sqlx.args(["migrate", "run", "--source"])
        .arg(dir.path())
        .args(["--database-url", &tool_url(&db)]);
    assert_in_progress_while_it_holds(sqlx, &db, dir.path(), "sqlx_accounts");

    // An application migrating at startup with sqlx's Migrator holds sqlx's
    // advisory lock for the whole run.
    let dir = with_extra(
        &fixtures,
        "20240402000000_slow.sql",
        "SELECT pg_sleep(30);\n",
    );
    let migrator = sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("sqlx migrator");
    let mut conn = db.connect(&[]).await.unwrap();
    let app = tokio::spawn(async move {
        let _ = migrator.run_direct(&mut conn).await;
    });
    let started = Instant::now();
    while psql_rows(
        &db,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
    ) != ["1"]
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the migrator never took its lock"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let running = Watched::on(db.clone(), Some(dir.path().to_path_buf()));
    let (out, report) = running.check(&[]);
    app.abort();
    assert_exit(&out, 0);
    assert_eq!(report["result"], "migration-in-progress", "{report}");
    let key = driftwatch::check::locks::sqlx_key(&db.database_name().unwrap());
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&key.to_string()));
}

#[tokio::test]
async fn dbmate_clean_drift_and_a_run_holding_a_table() {
    let db = common::fresh_db().await;
    tools_sh(&["apply", "dbmate", db.expose()]);
    let fixtures = repo().join("fixtures/tools/dbmate/db/migrations");
    let w = Watched::on(db.clone(), Some(fixtures.clone()));
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean", "{report}");

    exec(&db, "ALTER TABLE dbmate_accounts ADD COLUMN note text").await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(
        findings(&report),
        ["warning column-added public.dbmate_accounts.note out-of-band"]
    );
    exec(&db, "ALTER TABLE dbmate_accounts DROP COLUMN note").await;

    // dbmate takes no advisory lock: its open migration holds the table.
    let dir = with_extra(
        &fixtures,
        "20240401000000_slow.sql",
        "-- migrate:up\nALTER TABLE dbmate_accounts ADD COLUMN slow int;\nSELECT pg_sleep(30);\n\n-- migrate:down\n",
    );
    let mut dbmate = Command::new(tools_sh(&["path", "dbmate"]));
    dbmate
        .args(["--url", &tool_url(&db), "--migrations-dir"])
        .arg(dir.path())
        .args(["--no-dump-schema", "up"]);
    assert_in_progress_while_it_holds(dbmate, &db, dir.path(), "dbmate_accounts");
}

#[tokio::test]
async fn golang_migrate_clean_drift_and_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in [
        (
            "1_accounts.up.sql",
            "CREATE TABLE gm_accounts (id bigint PRIMARY KEY, email text NOT NULL);\n",
        ),
        ("1_accounts.down.sql", "DROP TABLE gm_accounts;\n"),
        (
            "2_email_idx.up.sql",
            "CREATE UNIQUE INDEX gm_accounts_email ON gm_accounts (email);\n",
        ),
        ("2_email_idx.down.sql", "DROP INDEX gm_accounts_email;\n"),
    ] {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    let w = Watched::migrated(dir.path(), None).await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(
        report["history"],
        "golang-migrate (public.schema_migrations)"
    );
    assert_eq!(report["result"], "clean", "{report}");

    exec(
        &w.db,
        "ALTER TABLE gm_accounts ALTER COLUMN email DROP NOT NULL",
    )
    .await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(
        findings(&report),
        ["warning column-not-null-changed public.gm_accounts.email by 1"]
    );

    // golang-migrate's CLI hashes the URL path (/db) with schema and table.
    let name = format!("/{}", w.db.database_name().unwrap());
    let key = driftwatch::check::locks::golang_migrate_key(&name, "public", "schema_migrations");
    let mut migrate = w.db.connect(&[]).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut migrate)
        .await
        .unwrap();
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "migration-in-progress");
    // A dirty version is a failed migration.
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut migrate)
        .await
        .unwrap();
    exec(&w.db, "UPDATE schema_migrations SET dirty = true").await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert!(
        findings(&report).contains(&"critical failed 2 -".to_string()),
        "{report}"
    );
}
