//! Prisma targets are compared with the replay of their migration folders,
//! and `_prisma_migrations` is checked like any other history: checksum,
//! failed, rolled back, pending. Prisma's CLI needs its schema engine from
//! binaries.prisma.sh, which this machine cannot reach, so the rows are
//! written here as prisma-engines writes them (`sql-schema-connector`,
//! Postgres flavour), with the checksum computed by `sha256sum`, not by
//! driftwatch.

use super::baseline::{config, dw};
use super::common::{exec, psql, psql_file, psql_rows};
use super::*;
use std::process::Command;

/// Prisma's `_prisma_migrations` as its schema engine creates it
/// (PostgresFlavour::create_migrations_table).
const PRISMA_TABLE: &str = "CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)";

/// The fixture project's migration folders, in a directory of their own.
fn project() -> tempfile::TempDir {
    let from = repo().join("fixtures/tools/prisma/migrations");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir(&to).unwrap();
            std::fs::copy(entry.path().join("migration.sql"), to.join("migration.sql")).unwrap();
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
    dir
}

/// `sha256sum` of a file: Prisma's checksum, computed outside driftwatch.
fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// How `prisma migrate deploy` left a migration.
#[derive(Clone, Copy, PartialEq)]
enum Row {
    /// Applied: finished_at set, one step.
    Finished,
    /// Failed and not resolved: finished_at and rolled_back_at NULL.
    Failed,
    /// Failed, then `prisma migrate resolve --rolled-back`.
    RolledBack,
}

/// Inserts the row Prisma writes for folder `name` of `dir`.
fn prisma_row(db: &DatabaseUrl, dir: &Path, name: &str, row: Row, n: usize) {
    let checksum = sha256sum(&dir.join(name).join("migration.sql"));
    let (finished, rolled_back, steps) = match row {
        Row::Finished => ("now()", "NULL", 1),
        Row::Failed => ("NULL", "NULL", 0),
        Row::RolledBack => ("NULL", "now()", 0),
    };
    psql(
        db,
        &format!(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) \
             VALUES ('8d7c2f4e-1b3a-4c5d-9e6f-{n:012}', '{checksum}', {finished}, '{name}', NULL, {rolled_back}, now() - interval '1 day' + interval '{n} seconds', {steps})"
        ),
    );
}

/// The folders of `dir`, in name order.
fn folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// A fresh database with the first `count` folders of `dir` applied and
/// recorded as finished.
async fn deployed(dir: &Path, count: usize) -> Watched {
    let db = common::fresh_db().await;
    psql(&db, PRISMA_TABLE);
    for (n, name) in folders(dir).iter().take(count).enumerate() {
        psql_file(&db, &dir.join(name).join("migration.sql"));
        prisma_row(&db, dir, name, Row::Finished, n);
    }
    Watched::on(db, Some(dir.to_path_buf()))
}

#[tokio::test]
async fn prisma_drift_is_found_on_the_first_scan_against_the_replay() {
    let dir = project();
    let w = deployed(dir.path(), 3).await;
    exec(
        &w.db,
        r#"ALTER TABLE "User" ADD COLUMN "nickname" text; DROP INDEX "Post_published_idx";"#,
    )
    .await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(report["result"], "drift");
    assert_eq!(report["history"], "prisma (public._prisma_migrations)");
    assert_eq!(report["applied_version"], "20240402081500");
    assert_eq!(report["expected"]["from"], "replay");
    assert_eq!(
        findings(&report),
        [
            r#"warning column-added public."User".nickname out-of-band"#,
            r#"warning index-removed public."Post"."Post_published_idx" by 20240402081500"#,
        ]
    );

    // Undrifted, the same project checks clean against its replay.
    let clean = deployed(dir.path(), 3).await;
    let (out, report) = clean.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean");
    assert_eq!(report["expected"]["from"], "replay");
}

#[tokio::test]
async fn an_edited_prisma_migration_is_a_checksum_finding() {
    let dir = project();
    let w = deployed(dir.path(), 3).await;
    let file = dir.path().join("20240315120000_add_posts/migration.sql");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("CREATE INDEX \"Post_title_idx\" ON \"Post\"(\"title\");\n");
    std::fs::write(&file, text).unwrap();
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    // The replay runs the edited file: its index is missing live too.
    assert_eq!(
        findings(&report),
        [
            "warning checksum-changed 20240315120000 -",
            r#"warning index-removed public."Post"."Post_title_idx" by 20240315120000"#,
        ]
    );
    let changed = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "checksum-changed")
        .unwrap();
    let applied = sha256sum(
        &repo().join("fixtures/tools/prisma/migrations/20240315120000_add_posts/migration.sql"),
    );
    assert!(
        changed["message"].as_str().unwrap().contains(&applied),
        "{changed}"
    );

    // Line endings changed by git are not an edit, as Prisma has it.
    let dir = project();
    let w = deployed(dir.path(), 3).await;
    let file = dir.path().join("20240301090000_init/migration.sql");
    let crlf = std::fs::read_to_string(&file)
        .unwrap()
        .replace('\n', "\r\n");
    std::fs::write(&file, crlf).unwrap();
    let (out, report) = w.check(&[]);
    assert_eq!(report["result"], "clean", "{:?}", report);
    assert_exit(&out, 0);
}

#[tokio::test]
async fn failed_rolled_back_and_pending_prisma_migrations() {
    let dir = project();
    let names = folders(dir.path());
    // add_posts failed, was rolled back, then applied; published is pending
    // after a rolled-back attempt.
    let w = deployed(dir.path(), 1).await;
    prisma_row(&w.db, dir.path(), &names[1], Row::RolledBack, 1);
    psql_file(&w.db, &dir.path().join(&names[1]).join("migration.sql"));
    prisma_row(&w.db, dir.path(), &names[1], Row::Finished, 2);
    prisma_row(&w.db, dir.path(), &names[2], Row::RolledBack, 3);
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "notice");
    assert_eq!(report["applied_version"], "20240315120000");
    assert_eq!(report["expected"]["from"], "replay");
    assert_eq!(findings(&report), ["info pending 20240402081500 -"]);

    // `history --migrations` reads the same rows against the folders.
    let out = driftwatch(&[
        "history",
        w.db.expose(),
        "--migrations",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let seen: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["version"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["success"],
                r["file"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "20240301090000 SQL true ok",
            "20240315120000 ROLLED_BACK false rolled-back",
            "20240315120000 SQL true ok",
            "20240402081500 ROLLED_BACK false rolled-back",
        ]
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pending: "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A failed attempt not resolved: Prisma refuses to go on (P3009).
    psql_file(&w.db, &dir.path().join(&names[2]).join("migration.sql"));
    prisma_row(&w.db, dir.path(), &names[2], Row::Failed, 4);
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    let codes = findings(&report);
    assert!(
        codes.iter().any(|c| c.ends_with("failed 20240402081500 -")),
        "{codes:?}"
    );
    assert!(!codes.iter().any(|c| c.contains("pending")), "{codes:?}");
}

#[tokio::test]
async fn a_prisma_baseline_records_the_row_prisma_writes_and_the_next_check_accepts_it() {
    let dir = project();
    let w = deployed(dir.path(), 3).await;
    let cfg = config(&w, dir.path(), "prisma");
    exec(&w.db, r#"ALTER TABLE "User" ADD COLUMN "nickname" text;"#).await;
    let out = dw(
        &cfg,
        &[
            "baseline",
            "--reason",
            "accepted",
            "--yes",
            "--write-migration",
            "--record-history",
        ],
    );
    assert_exit(&out, 0);
    let before = ["20240301090000", "20240315120000", "20240402081500"];
    let new: Vec<String> = folders(dir.path())
        .into_iter()
        .filter(|f| !before.iter().any(|b| f.starts_with(b)))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    let rows = psql_rows(
        &w.db,
        &format!(
            "SELECT concat_ws(' ', checksum, finished_at IS NOT NULL, logs IS NULL, rolled_back_at IS NULL, applied_steps_count, id ~ '^[0-9a-f-]{{36}}$') \
             FROM _prisma_migrations WHERE migration_name = '{}'",
            new[0]
        ),
    );
    let checksum = sha256sum(&dir.path().join(&new[0]).join("migration.sql"));
    assert_eq!(rows, [format!("{checksum} t t t 1 t")]);

    let (out, report) = w.check(&[]);
    assert_eq!(report["result"], "clean", "{:?}", report);
    assert_exit(&out, 0);
}

/// diesel's folders are SQL driftwatch replays too: its target is compared
/// with the replay, not recorded (rows as `diesel migration run` writes
/// them, fixtures/history/diesel.sql).
#[tokio::test]
async fn diesel_folders_are_compared_with_their_replay_too() {
    let dir = repo().join("fixtures/layouts/diesel");
    let db = common::fresh_db().await;
    psql(
        &db,
        "CREATE TABLE __diesel_schema_migrations (
            version VARCHAR(50) PRIMARY KEY NOT NULL,
            run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    );
    for name in folders(&dir) {
        psql_file(&db, &dir.join(&name).join("up.sql"));
        let version: String = name
            .split('_')
            .next()
            .unwrap()
            .chars()
            .filter(|c| *c != '-')
            .collect();
        psql(
            &db,
            &format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"),
        );
    }
    exec(&db, "ALTER TABLE accounts ADD COLUMN nickname text").await;
    let w = Watched::on(db, Some(dir));
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(report["expected"]["from"], "replay");
    assert_eq!(report["applied_version"], "20240212141500");
    assert_eq!(
        findings(&report),
        ["warning column-added public.accounts.nickname out-of-band"]
    );
}
