//! Migration files end to end: transactions a migration controls itself,
//! sqlx's `-- no-transaction`, `log DIR` (which replays first),
//! `--migration-format`, and Flyway checksums recomputed by `history
//! --migrations`.

mod common;

use common::*;
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).unwrap();
    }
}

/// `driftwatch log DIR --format json` on the shared cluster.
fn log_json(dir: &Path, store: &Path, extra: &[&str]) -> Result<serde_json::Value, String> {
    let admin = shadow().admin_url();
    let mut args = vec![
        "log",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--target",
        "t",
        "--shadow-url",
        admin.expose(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = driftwatch(&args);
    if out.status.code() != Some(0) {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

/// `code object` of every change of migration `i`.
fn changes(log: &serde_json::Value, i: usize) -> Vec<String> {
    log["migrations"][i]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["code"].as_str().unwrap(),
                c["object"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// An enum value added in a transaction cannot be used before it commits:
/// this migration works only when its statements run one by one.
const USES_A_NEW_ENUM_VALUE: &str = "CREATE TYPE mood AS ENUM ('calm');
ALTER TYPE mood ADD VALUE 'busy';
CREATE TABLE moods (m mood DEFAULT 'busy');
";

#[test]
fn sqlx_no_transaction_runs_statement_by_statement() {
    let work = tempfile::tempdir().unwrap();
    let with = work.path().join("with");
    write(
        &with,
        &[(
            "20240101000000_moods.sql",
            &format!("-- no-transaction\n{USES_A_NEW_ENUM_VALUE}"),
        )],
    );
    let log = log_json(&with, &work.path().join("s1"), &[]).expect("replays");
    let found = changes(&log, 0);
    assert!(
        found.iter().any(|c| c.starts_with("table-added")),
        "{found:?}"
    );

    // The same file without the marker runs in one transaction, and fails.
    let without = work.path().join("without");
    write(
        &without,
        &[("20240101000000_moods.sql", USES_A_NEW_ENUM_VALUE)],
    );
    let err = log_json(&without, &work.path().join("s2"), &[]).expect_err("must fail");
    assert!(err.contains("busy"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn a_migration_with_its_own_begin_and_commit_runs_as_written() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("m");
    write(
        &dir,
        &[
            (
                "001_own_transactions.sql",
                "BEGIN;\nCREATE TYPE mood AS ENUM ('calm');\nALTER TYPE mood ADD VALUE 'busy';\nCOMMIT;\n\
                 CREATE TABLE moods (m mood DEFAULT 'busy');\n\
                 BEGIN;\nCREATE TABLE gone (a int);\nROLLBACK;\n\
                 BEGIN;\nCREATE TABLE kept (a int);\nCOMMIT;\n",
            ),
            ("002_next.sql", "CREATE TABLE after_it (a int);\n"),
        ],
    );
    let log = log_json(&dir, &work.path().join("store"), &[]).expect("replays");
    let mut first = changes(&log, 0);
    first.sort();
    assert_eq!(
        first,
        [
            // PUBLIC's USAGE on a new type is PostgreSQL's default: no
            // finding (docs/changes.md).
            "table-added public.kept",
            "table-added public.moods",
            "type-added public.mood"
        ]
    );
    assert_eq!(changes(&log, 1), ["table-added public.after_it"]);
}

#[test]
fn log_dir_replays_first_and_reuses_the_store() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("m");
    write(
        &dir,
        &[
            ("001_a.sql", "CREATE TABLE a (x int);\n"),
            ("002_b.sql", "ALTER TABLE a ADD COLUMN y text;\n"),
        ],
    );
    let store = work.path().join("store");
    assert!(!store.exists());
    let log = log_json(&dir, &store, &[]).expect("replays");
    assert_eq!(changes(&log, 0), ["table-added public.a"]);
    assert_eq!(changes(&log, 1), ["column-added public.a.y"]);
    let index = store.join("t/migrations/index.json");
    assert!(index.is_file(), "log DIR stores what it replayed");
    // A new migration: the first two are reused, the third replayed.
    write(&dir, &[("003_c.sql", "CREATE INDEX a_y ON a (y);\n")]);
    let admin = shadow().admin_url();
    let out = driftwatch(&[
        "log",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--target",
        "t",
        "--shadow-url",
        admin.expose(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("+ index public.a.a_y added"), "{text}");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&index).unwrap()).unwrap();
    assert_eq!(stored["migrations"].as_array().unwrap().len(), 3);
}

#[test]
fn migration_format_chooses_how_files_are_read() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("m");
    // dbmate's layout: only the up section runs. Read as sqlx, the whole
    // file runs and the down section drops the table again.
    write(
        &dir,
        &[(
            "20240101000000_t.sql",
            "-- migrate:up\nCREATE TABLE t (a int);\n\n-- migrate:down\nDROP TABLE t;\n",
        )],
    );
    let dbmate = log_json(
        &dir,
        &work.path().join("s1"),
        &["--migration-format", "dbmate"],
    )
    .expect("dbmate");
    assert_eq!(changes(&dbmate, 0), ["table-added public.t"]);
    let sqlx = log_json(
        &dir,
        &work.path().join("s2"),
        &["--migration-format", "sqlx"],
    )
    .expect("sqlx");
    assert_eq!(changes(&sqlx, 0), Vec::<String>::new());
    let index = |store: &str| -> serde_json::Value {
        let path = work.path().join(store).join("t/migrations/index.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(index("s1")["migration_format"], "dbmate");
    assert_eq!(index("s2")["migration_format"], "sqlx");

    let out = driftwatch(&[
        "replay",
        dir.to_str().unwrap(),
        "--migration-format",
        "liquibase",
    ]);
    assert_one_line_error(&out, "liquibase", "");
}

#[tokio::test]
async fn flyway_checksums_are_recomputed_through_history_migrations() {
    let db = fresh_db().await;
    psql_file(&db, &repo().join("fixtures/history/flyway.sql"));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("sql");
    // The scripts fixtures/history/flyway.sql records checksums for; V3 with
    // CRLF and an extra blank line, which Flyway's checksum ignores.
    write(
        &dir,
        &[
            ("V2__create_accounts.sql", "CREATE TABLE flyway_accounts (id bigserial PRIMARY KEY, email text NOT NULL);\n"),
            ("V3__add_display_name.sql", "ALTER TABLE flyway_accounts ADD COLUMN display_name text;\r\n\r\n"),
            ("R__account_emails_view.sql", "CREATE OR REPLACE VIEW flyway_account_emails AS SELECT id, lower(email) AS email FROM flyway_accounts;\n"),
            ("V4__add_email_index_concurrently.sql", "CREATE INDEX CONCURRENTLY flyway_accounts_email_idx ON flyway_accounts (email);\n"),
        ],
    );
    let files = |db: &driftwatch::catalog::DatabaseUrl| -> Vec<String> {
        let out = driftwatch(&[
            "history",
            db.expose(),
            "--migrations",
            dir.to_str().unwrap(),
            "--migration-format",
            "flyway",
            "--format",
            "json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["file"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(files(&db), ["no-file-expected", "ok", "ok", "ok", "ok"]);
    // One character changed: Flyway's checksum, and ours, changes.
    write(
        &dir,
        &[(
            "V3__add_display_name.sql",
            "ALTER TABLE flyway_accounts ADD COLUMN display_name varchar;\n",
        )],
    );
    assert_eq!(
        files(&db),
        ["no-file-expected", "ok", "checksum-changed", "ok", "ok"]
    );
}

/// Flyway's checksums of fixture files, worked out apart from driftwatch
/// with Python's zlib: `zlib.crc32` over the UTF-8 bytes of the file's
/// lines joined without their terminators (`\r\n`, `\r`, `\n`), a leading
/// BOM removed, read as a signed 32-bit int. The tests' own formula
/// (tests/common/flyway.rs) and driftwatch's must both give them.
#[test]
fn flyway_checksums_are_flyways_own() {
    let fixtures: [(&str, &str, i32); 5] = [
        ("migrations/demo", "V1__create_shop.sql", 1_275_487_278),
        ("migrations/demo", "V3__order_total.sql", -1_360_736_842),
        ("migrations/evolving", "V11__dependents.sql", -2_075_778_879),
        (
            "migrations/evolving",
            "R__reporting_view.sql",
            -1_733_850_101,
        ),
        ("migrations/flyway_java", "V1__accounts.sql", 2_095_784_264),
    ];
    let work = tempfile::tempdir().unwrap();
    // A BOM, CRLF, a blank line, a bare CR (a line end to Java's
    // readLine) and a non-ASCII character.
    write(
        work.path(),
        &[(
            "V1__edge.sql",
            "\u{feff}CREATE TABLE t (id int);\r\n\r\n-- café\rINSERT INTO t VALUES (1);\n",
        )],
    );
    let edge = work.path().display().to_string();
    let cases = fixtures
        .iter()
        .map(|(dir, file, sum)| (repo().join("fixtures").join(dir), *file, *sum))
        .chain([(
            std::path::PathBuf::from(&edge),
            "V1__edge.sql",
            1_847_475_300,
        )]);
    for (dir, file, expected) in cases {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(
            flyway::flyway_checksum(&text),
            expected,
            "tests' formula, {file}"
        );
        let set = driftwatch::migrations::read(&dir, None).unwrap();
        assert_eq!(set.format, driftwatch::migrations::Format::Flyway);
        let m = set
            .migrations
            .iter()
            .find(|m| m.path.file_name().is_some_and(|n| n == file))
            .unwrap_or_else(|| panic!("{file} not read"));
        assert_eq!(m.checksum, expected.to_string(), "driftwatch's, {file}");
    }
}
