//! `driftwatch replay --verify-down` end to end: down files of
//! golang-migrate, dbmate and diesel run on a real shadow, their verdicts,
//! the exit codes, reuse of stored verdicts, and `log`'s marks.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

/// Writes `files` (name, content) under `dir`, folders made as needed.
fn write(dir: &Path, files: &[(&str, &[u8])]) {
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

/// Runs `driftwatch replay DIR --verify-down` against the shared cluster.
fn verify(dir: &Path, store: &Path, extra: &[&str]) -> Output {
    let admin = shadow().admin_url();
    let mut args = vec![
        "replay",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--target",
        "app",
        "--shadow-url",
        admin.expose(),
    ];
    args.extend_from_slice(extra);
    driftwatch(&args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// golang-migrate: one correct down file, one that forgets an index, one
/// that fails, a migration without one.
fn golang_history(dir: &Path) {
    write(
        dir,
        &[
            (
                "1_users.up.sql",
                b"CREATE TABLE users (id int PRIMARY KEY, email text);\n",
            ),
            ("1_users.down.sql", b"DROP TABLE users;\n"),
            (
                "2_email.up.sql",
                b"CREATE INDEX users_email_idx ON users (email);\nALTER TABLE users ADD COLUMN name text;\n",
            ),
            ("2_email.down.sql", b"ALTER TABLE users DROP COLUMN name;\n"),
            ("3_orders.up.sql", b"CREATE TABLE orders (id int);\n"),
            (
                "3_orders.down.sql",
                b"-- undo 3\nDROP TABLE orderz;\n",
            ),
            ("4_notes.up.sql", b"CREATE TABLE notes (body text);\n"),
        ],
    );
}

#[tokio::test]
async fn golang_migrate_verdicts_exit_codes_reuse_and_log() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("golang");
    let store = work.path().join("store");
    golang_history(&dir);

    let out = verify(&dir, &store, &["--verify-down"]);
    let text = stdout(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(1), "{text}{stderr}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("1 users: down restores ("), "{text}");
    assert!(
        lines[1].starts_with("2 email: down leaves differences ("),
        "{text}"
    );
    assert!(lines[2].contains("users_email_idx"), "{text}");
    let fails = lines
        .iter()
        .position(|l| l.starts_with("3 orders: down fails ("))
        .unwrap_or_else(|| panic!("{text}"));
    let failure = lines[fails + 1];
    assert!(
        failure.contains("3_orders.down.sql:2: statement failed")
            && failure.contains("orderz")
            && failure.contains("does not exist"),
        "{text}"
    );
    assert!(text.contains("4 notes: no down file\n"), "{text}");
    assert!(
        text.contains("app: 3 down files verified: 1 restores, 2 wrong; 1 migration without one"),
        "{text}"
    );

    // The verdicts are stored with the down files' checksums.
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(store.join("app/migrations/index.json")).unwrap(),
    )
    .unwrap();
    let verdicts: Vec<&str> = index["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["down"]["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["restores", "leaves-differences", "fails", "no-down-file"]
    );
    assert!(index["migrations"][0]["down"]["checksum"].is_string());
    // The down files and the captures between them leave the stored
    // snapshots as a plain replay stores them.
    let plain_store = work.path().join("plain");
    assert_eq!(code(&verify(&dir, &plain_store, &[])), Some(0));
    let plain: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(plain_store.join("app/migrations/index.json")).unwrap(),
    )
    .unwrap();
    let fingerprints = |index: &serde_json::Value| -> Vec<String> {
        index["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{} {}", m["before_fingerprint"], m["after_fingerprint"]))
            .collect()
    };
    assert_eq!(fingerprints(&index), fingerprints(&plain));

    // JSON: the same verdicts.
    let out = verify(&dir, &store, &["--verify-down", "--format", "json"]);
    assert_eq!(code(&out), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["migrations"][1]["verdict"], "leaves-differences");
    // That rerun replayed nothing: the verdicts of unchanged files are reused.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(0 replayed"), "{stderr}");
    assert!(
        stderr.contains("4 unchanged since the last replay"),
        "{stderr}"
    );

    // log marks each down file.
    let log = driftwatch(&["log", "--store", store.to_str().unwrap(), "--target", "app"]);
    let log_text = stdout(&log);
    assert_eq!(code(&log), Some(0), "{log_text}");
    assert!(
        log_text.contains("1 users (schema)\n    down file: verified\n"),
        "{log_text}"
    );
    assert!(
        log_text.contains("2 email (schema)\n    down file: wrong (down leaves differences)\n"),
        "{log_text}"
    );
    assert!(
        log_text.contains("down file: wrong (down fails)"),
        "{log_text}"
    );
    assert!(
        log_text.contains("4 notes (schema)\n    down file: absent\n"),
        "{log_text}"
    );

    // Fixed down files: exit 0; migration 1's verdict is reused, the
    // replay starts at the first changed down file.
    write(
        &dir,
        &[
            (
                "2_email.down.sql",
                b"ALTER TABLE users DROP COLUMN name;\nDROP INDEX users_email_idx;\n",
            ),
            ("3_orders.down.sql", b"DROP TABLE orders;\n"),
            ("4_notes.down.sql", b"DROP TABLE notes;\n"),
        ],
    );
    let out = verify(&dir, &store, &["--verify-down"]);
    let text = stdout(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), Some(0), "{text}{stderr}");
    assert!(stderr.contains("(3 replayed"), "{stderr}");
    assert!(
        text.contains("app: 4 down files verified: 4 restore, 0 wrong; 0 migrations without one"),
        "{text}"
    );

    // Plain replay of the same files keeps the verdicts, which still hold.
    let out = verify(&dir, &store, &[]);
    assert_eq!(code(&out), Some(0));
    assert!(stdout(&out).is_empty());
    let log = stdout(&driftwatch(&[
        "log",
        "--store",
        store.to_str().unwrap(),
        "--target",
        "app",
        "--format",
        "markdown",
    ]));
    assert_eq!(log.matches("verified*\n").count(), 4, "{log}");
}

#[tokio::test]
async fn a_down_file_whose_migration_runs_twice_differently_is_wrong() {
    // The down file restores the schema but not the row the migration
    // inserted: the migration fails when it runs again.
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    write(
        &dir,
        &[
            ("1_t.up.sql", b"CREATE TABLE t (id int PRIMARY KEY);\n"),
            ("1_t.down.sql", b"DROP TABLE t;\n"),
            ("2_row.up.sql", b"INSERT INTO t VALUES (1);\n"),
            ("2_row.down.sql", b"SELECT 1;\n"),
            ("3_u.up.sql", b"CREATE TABLE u (id int);\n"),
            ("3_u.down.sql", b"DROP TABLE u;\n"),
        ],
    );
    let out = verify(&dir, &work.path().join("store"), &["--verify-down"]);
    let text = stdout(&out);
    assert_eq!(code(&out), Some(1), "{text}");
    assert!(text.contains("2 row: up again differs ("), "{text}");
    assert!(text.contains("2_row.up.sql:1: statement failed"), "{text}");
    assert!(text.contains("3 u: down restores ("), "{text}");
}

#[tokio::test]
async fn dbmate_sections_and_diesel_down_files_are_read_and_verified() {
    let work = tempfile::tempdir().unwrap();
    let dbmate = work.path().join("dbmate");
    write(
        &dbmate,
        &[
            (
                "20240101000000_users.sql",
                b"-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n",
            ),
            (
                "20240102000000_idx.sql",
                b"-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);\n\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY users_id_idx;\n",
            ),
            (
                "20240103000000_bad.sql",
                b"-- migrate:up\nCREATE TABLE bad (id int);\n-- migrate:down\n-- first line of the section\nDROP TABLE nope;\n",
            ),
        ],
    );
    let out = verify(&dbmate, &work.path().join("store"), &["--verify-down"]);
    let text = stdout(&out);
    assert_eq!(code(&out), Some(1), "{text}");
    assert!(
        text.contains("20240101000000 users: down restores ("),
        "{text}"
    );
    assert!(
        text.contains("20240102000000 idx: down restores ("),
        "{text}"
    );
    // The failing statement is on line 5 of the file.
    assert!(
        text.contains("20240103000000_bad.sql:5: statement failed"),
        "{text}"
    );

    let diesel = work.path().join("diesel");
    write(
        &diesel,
        &[
            (
                "2024-01-01-000000_users/up.sql",
                b"CREATE TABLE users (id int);\n",
            ),
            ("2024-01-01-000000_users/down.sql", b"DROP TABLE users;\n"),
            (
                "2024-01-02-000000_email/up.sql",
                b"ALTER TABLE users ADD COLUMN email text NOT NULL DEFAULT '';\n",
            ),
            (
                "2024-01-02-000000_email/down.sql",
                b"ALTER TABLE users DROP COLUMN email;\n",
            ),
        ],
    );
    let store = work.path().join("store2");
    let out = verify(&diesel, &store, &["--verify-down"]);
    let text = stdout(&out);
    assert_eq!(code(&out), Some(0), "{text}");
    assert!(
        text.contains("app: 2 down files verified: 2 restore, 0 wrong"),
        "{text}"
    );
    assert!(text.contains("2024-01-02-000000_email/down.sql)"), "{text}");
}

#[tokio::test]
async fn a_down_file_that_is_not_utf8_stops_verify_down_only() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("latin1");
    write(
        &dir,
        &[
            ("1_a.up.sql", b"CREATE TABLE a (id int);\n"),
            ("1_a.down.sql", b"DROP TABLE a; -- caf\xe9\n"),
        ],
    );
    let store = work.path().join("store");
    let out = verify(&dir, &store, &["--verify-down"]);
    assert_one_line_error(&out, "1_a.down.sql: down file is not UTF-8", "");
    assert!(
        !store.join("app/migrations/index.json").exists(),
        "nothing written"
    );
    // Forward replay never runs it.
    let out = verify(&dir, &store, &[]);
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shape of Harbor's history (goharbor/harbor, 0041 then 0050): a data
/// migration whose down file undoes no row, and a later migration that
/// counts on the rows being there once. Verifying the down file runs the
/// migration again in a transaction that is rolled back, so the later
/// migration still applies (committed twice, the rows were doubled and it
/// failed with a duplicate key).
#[tokio::test]
async fn a_data_migration_checked_again_leaves_its_rows_once() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("harbor_shape");
    write(
        &dir,
        &[
            (
                "1_role.up.sql",
                b"CREATE TABLE role (role_id serial PRIMARY KEY, name text);\n",
            ),
            ("1_role.down.sql", b"DROP TABLE role;\n"),
            (
                "2_seed.up.sql",
                b"INSERT INTO role (name) VALUES ('guest'), ('maintainer');\n",
            ),
            ("2_seed.down.sql", b"SELECT 1;\n"),
            (
                "3_fix.up.sql",
                b"UPDATE role SET role_id = 4 WHERE name = 'maintainer' AND role_id <> 4;\nUPDATE role SET role_id = 3 WHERE name = 'guest' AND role_id <> 3;\n",
            ),
            ("3_fix.down.sql", b"SELECT 1;\n"),
        ],
    );
    let out = verify(&dir, &work.path().join("store"), &["--verify-down"]);
    let text = stdout(&out);
    assert_eq!(
        code(&out),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("3 down files verified: 3 restore, 0 wrong"),
        "{text}"
    );
}
