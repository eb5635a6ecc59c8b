//! `driftwatch replay` and `driftwatch log` end to end: before/after
//! snapshots per migration, reuse of unchanged migrations, failures, the
//! changelog, and incremental captures equal to full ones.

mod common;

use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Copies a fixture migration directory somewhere the test may edit it.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn evolving() -> PathBuf {
    repo().join("fixtures/migrations/evolving")
}

/// Runs `driftwatch replay` against the shared cluster.
fn replay(dir: &Path, store: &Path, target: &str, extra: &[&str]) -> std::process::Output {
    let admin = shadow().admin_url();
    let mut args = vec![
        "replay",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--target",
        target,
        "--shadow-url",
        admin.expose(),
    ];
    args.extend_from_slice(extra);
    driftwatch(&args)
}

fn ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

fn index(store: &Path, target: &str) -> serde_json::Value {
    let path = store.join(target).join("migrations/index.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn inode(path: PathBuf) -> u64 {
    std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .ino()
}

#[tokio::test]
async fn replay_stores_before_and_after_snapshots_and_reuses_unchanged_migrations() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("evolving");
    copy_dir(&evolving(), &dir);
    let store = work.path().join("store");
    let stderr = ok(&replay(&dir, &store, "app", &[]));
    assert!(
        stderr.contains("app: 12 migrations (12 replayed, 8 captured incrementally; 0 unchanged"),
        "{stderr}"
    );

    let idx = index(&store, "app");
    let entries = idx["migrations"].as_array().unwrap();
    let keys: Vec<String> = entries
        .iter()
        .map(|m| m["version"].as_str().unwrap_or("R").to_string())
        .collect();
    assert_eq!(
        keys,
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "R"]
    );
    assert_eq!(idx["migration_format"], "flyway");
    assert_eq!(entries[4]["class"], "data");
    assert_eq!(entries[0]["class"], "schema");
    assert_eq!(entries[0]["before"], "1__base.before.json");

    let files = store.join("app/migrations");
    // Every stored snapshot is a manifest of content-addressed objects that
    // says which migration and phase it is.
    let after1: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.join("1__base.after.json")).unwrap())
            .unwrap();
    assert_eq!(after1["format"], "driftwatch.stored-snapshot/2");
    assert_eq!(after1["meta"]["migration"]["version"], "1");
    assert_eq!(after1["meta"]["migration"]["phase"], "after");
    assert_eq!(after1["fingerprint"], entries[0]["after_fingerprint"]);
    // Identical snapshots are stored once: a before is its predecessor's
    // after, and a data migration's after is its before.
    for pair in entries.windows(2) {
        assert_eq!(
            inode(files.join(pair[0]["after"].as_str().unwrap())),
            inode(files.join(pair[1]["before"].as_str().unwrap()))
        );
        assert_eq!(pair[0]["after_fingerprint"], pair[1]["before_fingerprint"]);
    }
    assert_eq!(
        inode(files.join("5__data.before.json")),
        inode(files.join("5__data.after.json"))
    );
    assert_ne!(
        entries[8]["before_fingerprint"],
        entries[8]["after_fingerprint"]
    );

    // A rerun with nothing changed reuses everything without a shadow database.
    let stderr = ok(&replay(&dir, &store, "app", &[]));
    assert!(
        stderr.contains("(0 replayed, 0 captured incrementally; 12 unchanged"),
        "{stderr}"
    );

    // Changing V9 replays V9 and what follows it; earlier snapshots stay as they are.
    let v8 = inode(files.join("8__schema_rename.after.json"));
    std::fs::write(
        dir.join("V9__concurrently.sql"),
        "CREATE INDEX CONCURRENTLY purchases_total ON shop.purchases (total) WHERE total > 500;\n",
    )
    .unwrap();
    let stderr = ok(&replay(&dir, &store, "app", &[]));
    assert!(stderr.contains("(4 replayed, "), "{stderr}");
    assert!(stderr.contains("; 8 unchanged"), "{stderr}");
    assert_eq!(inode(files.join("8__schema_rename.after.json")), v8);
    let text = objects_json(
        &driftwatch::store::read_snapshot_file(&files.join("9__concurrently.after.json")).unwrap(),
    );
    assert!(
        text.contains("(total > (500)::numeric)"),
        "new predicate stored"
    );

    // --to stops early and the index says exactly what is stored.
    ok(&replay(&dir, &store, "app", &["--to", "3"]));
    assert_eq!(
        index(&store, "app")["migrations"].as_array().unwrap().len(),
        3
    );
    assert!(!files.join("4__security.after.json").exists());
}

#[tokio::test]
async fn a_failing_migration_names_file_and_line_and_stores_nothing_from_it_on() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("V1__ok.sql"), "CREATE TABLE t (id int);\n").unwrap();
    std::fs::write(
        dir.join("V2__bad.sql"),
        "-- adds a column\nALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN a int;\n",
    )
    .unwrap();
    std::fs::write(dir.join("V3__later.sql"), "CREATE TABLE u (id int);\n").unwrap();
    let store = work.path().join("store");
    let out = replay(&dir, &store, "m", &[]);
    assert_one_line_error(
        &out,
        "V2__bad.sql:3: statement failed: column \"a\" of relation \"t\" already exists",
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ALTER TABLE t ADD COLUMN a int"),
        "{stderr}"
    );
    let idx = index(&store, "m");
    assert_eq!(idx["migrations"].as_array().unwrap().len(), 1);
    let stored: Vec<String> = std::fs::read_dir(store.join("m/migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        stored
            .iter()
            .all(|f| !f.starts_with("2__") && !f.starts_with("3__")),
        "{stored:?}"
    );

    // A runtime failure without a cursor position is found by statement too.
    std::fs::write(
        dir.join("V2__bad.sql"),
        "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('x');\n",
    )
    .unwrap();
    let out = replay(&dir, &store, "m", &[]);
    assert_one_line_error(
        &out,
        "V2__bad.sql:2: statement failed: invalid input syntax for type integer",
        "",
    );

    // A syntax error is refused before anything runs.
    std::fs::write(dir.join("V2__bad.sql"), "CREATE TABEL x (id int);\n").unwrap();
    let out = replay(&dir, &store, "m", &[]);
    assert_one_line_error(&out, "V2__bad.sql:1: cannot be parsed", "");
}

#[tokio::test]
async fn log_shows_each_migrations_schema_changes_in_three_formats() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    ok(&replay(&evolving(), &store, "evo", &[]));
    let log = |format: &str| -> String {
        let out = driftwatch(&[
            "log",
            "--target",
            "evo",
            "--store",
            store.to_str().unwrap(),
            "--format",
            format,
        ]);
        ok(&out);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let text = log("text");
    assert!(text.contains("2 renames (schema)\n"), "{text}");
    assert!(
        text.contains("~ column app.customers.email_address renamed from email"),
        "{text}"
    );
    assert!(
        text.contains("~ table app.purchases renamed from orders"),
        "{text}"
    );
    assert!(
        text.contains("5 data (data)\n    no schema change\n"),
        "{text}"
    );
    assert!(
        text.contains("- trigger app.purchases.purchases_audit removed"),
        "{text}"
    );
    assert!(
        text.contains("R reporting view (schema)\n    + view shop.purchase_summary added"),
        "{text}"
    );

    let json: serde_json::Value = serde_json::from_str(&log("json")).unwrap();
    let migrations = json["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 12);
    assert_eq!(migrations[4]["class"], "data");
    assert_eq!(migrations[4]["changes"].as_array().unwrap().len(), 0);
    assert_eq!(migrations[11]["kind"], "repeatable");
    assert_eq!(migrations[11]["version"], serde_json::Value::Null);
    let codes: Vec<&str> = migrations[2]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"index-removed") && codes.contains(&"constraint-removed"),
        "{codes:?}"
    );

    let md = log("markdown");
    assert!(md.starts_with("# Schema changelog: evo\n"), "{md}");
    assert!(md.contains("## 9 concurrently (schema)\n\n- `index-added` + index shop.purchases.purchases\\_total added"), "{md}");

    let out = driftwatch(&[
        "log",
        "--target",
        "nothing-here",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_one_line_error(
        &out,
        "holds no replayed migrations for target nothing-here",
        "",
    );
}

#[tokio::test]
async fn other_tools_layouts_replay_with_their_checksums() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    for (dir, format, target) in [
        ("fixtures/tools/sqlx/migrations", "sqlx", "sqlx"),
        ("fixtures/tools/dbmate/db/migrations", "dbmate", "dbmate"),
    ] {
        let dir = repo().join(dir);
        ok(&replay(&dir, &store, target, &[]));
        let idx = index(&store, target);
        assert_eq!(idx["migration_format"], format);
        let set = driftwatch::migrations::read(&dir, None).unwrap();
        let stored: Vec<&str> = idx["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["checksum"].as_str().unwrap())
            .collect();
        let computed: Vec<&str> = set.migrations.iter().map(|m| m.checksum.as_str()).collect();
        assert_eq!(stored, computed, "{format}");
        assert_eq!(stored.len(), 3);
    }
}

#[tokio::test]
async fn bad_replay_input_gets_one_line() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let out = replay(&work.path().join("missing"), &store, "x", &[]);
    assert_one_line_error(&out, "cannot be read as a migration directory", "");
    let out = replay(&evolving(), &store, "../escape", &[]);
    assert_one_line_error(&out, "is not usable as a folder name", "");
    let out = replay(&evolving(), &store, "x", &["--to", "99"]);
    assert_one_line_error(&out, "no migration has version 99", "");

    // A lock holder (a real flock) keeps a second writer out.
    std::fs::create_dir_all(store.join("locked")).unwrap();
    let holder = LockHolder::start(&store.join("locked/.lock"));
    let out = replay(&evolving(), &store, "locked", &[]);
    assert_one_line_error(&out, "is writing this target", "");
    drop(holder);
    // A pid file nobody holds (even naming a live process) does not block.
    std::fs::write(
        store.join("locked/.lock"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    ok(&replay(&evolving(), &store, "locked", &["--to", "1"]));
    assert!(!store.join("locked/.lock").exists());
}

#[tokio::test]
async fn incremental_after_snapshots_equal_full_captures() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let stderr = ok(&replay(&evolving(), &store, "incremental", &[]));
    // V3, V6 and V10 drop things and V4 runs a DO block: captured in full; the rest not.
    assert!(
        stderr.contains("(12 replayed, 8 captured incrementally;"),
        "{stderr}"
    );
    let stderr = ok(&replay(&evolving(), &store, "full", &["--full-capture"]));
    assert!(
        stderr.contains("(12 replayed, 0 captured incrementally;"),
        "{stderr}"
    );
    let inc = index(&store, "incremental");
    let full = index(&store, "full");
    let (inc, full) = (
        inc["migrations"].as_array().unwrap(),
        full["migrations"].as_array().unwrap(),
    );
    assert_eq!(inc.len(), full.len());
    for (a, b) in inc.iter().zip(full) {
        let read = |target: &str, m: &serde_json::Value| -> serde_json::Value {
            let path = store
                .join(target)
                .join("migrations")
                .join(m["after"].as_str().unwrap());
            let snap: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            snap["objects"].clone()
        };
        assert_eq!(
            read("incremental", a),
            read("full", b),
            "after {} differs between incremental and full capture",
            a["after"]
        );
        assert_eq!(
            a["after_fingerprint"], b["after_fingerprint"],
            "{}",
            a["after"]
        );
    }
}

#[tokio::test]
async fn diff_applies_a_migration_directory_as_replay_does() {
    // CREATE INDEX CONCURRENTLY refuses a transaction block, and a dbmate
    // file runs its up section only.
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("20240101000000_t.sql"),
        "-- migrate:up\nCREATE TABLE t (id int, name text);\n-- migrate:down\nDROP TABLE t;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20240102000000_i.sql"),
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_name ON t (name);\n-- migrate:down\nDROP INDEX t_name;\n",
    )
    .unwrap();
    let schema = work.path().join("schema.sql");
    std::fs::write(
        &schema,
        "CREATE TABLE t (id int, name text);\nCREATE INDEX t_name ON t (name);\n",
    )
    .unwrap();
    let admin = shadow().admin_url();
    let out = driftwatch(&[
        "diff",
        dir.to_str().unwrap(),
        schema.to_str().unwrap(),
        "--shadow-url",
        admin.expose(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
