//! The version matrix: every supported PostgreSQL major (13 to 18) from the
//! binaries `scripts/postgres.sh` installs (15 is the machine's own).
//!
//! For each major: a cluster of its own; the fixtures of
//! `fixtures/schemas/majors/` that major accepts, captured and diffed
//! against the same files captured on 15, which must show nothing but the
//! differences docs/postgres-majors.md lists ([`DOCUMENTED`]); each feature the major
//! added must change the snapshot; a replay of `fixtures/migrations/evolving`
//! on a shadow of that major ends where the replay on 15 ends; a history
//! table reads; and a schema file diffed against a database of that major
//! loads into a shadow of that major. The reference is checked to be 15.
//! PostgreSQL 12 (installed apart by the same script) is refused.

mod common;

use common::{driftwatch, psql, psql_file, psql_rows, replay_last_after, repo, shadow, snap};
use driftwatch::catalog::DatabaseUrl;
use driftwatch::diff::{diff, Change};
use driftwatch::model::Snapshot;
use driftwatch::shadow::{Cluster, ClusterOptions, Shadow};
use std::path::PathBuf;
use std::process::Command;

/// What still differs on the same DDL between a major and 15, with why
/// (kept in step with docs/postgres-majors.md).
const DOCUMENTED: &[(u32, u32, &str, &str, &str)] = &[
    // (from major, to major, change code, object name, reason)
    (
        13,
        13,
        "type-multirange-changed",
        "shop.floatrange",
        "14 creates a multirange type with every range type",
    ),
    (
        13,
        14,
        "owner-changed",
        "public",
        "15 gave the public schema of new databases to pg_database_owner",
    ),
    (
        13,
        14,
        "privilege-granted",
        "public",
        "15 no longer lets PUBLIC create in the public schema of new databases",
    ),
    (
        13,
        14,
        "extension-version-changed",
        "citext",
        "each major ships its own contrib versions",
    ),
    (
        16,
        18,
        "extension-version-changed",
        "citext",
        "each major ships its own contrib versions",
    ),
];

/// The major every other one is compared with: the machine's own server,
/// which the shared cluster and a replay without `--pg-bindir` run on. A
/// machine whose default server is another major would compare two
/// captures of that major and prove nothing about 15.
const REFERENCE_MAJOR: u32 = 15;

/// Asserts that `s` was captured on a server of `major` (its
/// `server_version_num`, e.g. 150018).
fn assert_major(s: &Snapshot, major: u32, what: &str) {
    assert_eq!(
        s.meta.server_version_num.map(|n| n / 10_000),
        Some(major),
        "{what} ran on PostgreSQL {:?}, not {major}",
        s.meta.server_version
    );
}

/// The fixture files `major` accepts, in load order, with the major that
/// added what each holds (13: the common part).
fn fixture_files(major: u32) -> Vec<(u32, PathBuf)> {
    let dir = repo().join("fixtures/schemas/majors");
    let mut files = vec![(13, dir.join("common.sql"))];
    files.extend((14..=major).map(|m| (m, dir.join(format!("pg{m}.sql")))));
    files
}

/// Loads `files` into a new database of `shadow` and captures it.
async fn load_and_capture(shadow: &Shadow, files: &[(u32, PathBuf)]) -> (DatabaseUrl, Snapshot) {
    let db = shadow.fresh_database("majors").await.expect("database");
    for (_, f) in files {
        psql_file(&db, f);
    }
    let s = snap(&db).await;
    (db, s)
}

/// The changes docs/postgres-majors.md does not list for `major`.
fn undocumented(major: u32, changes: Vec<Change>) -> Vec<String> {
    changes
        .into_iter()
        .filter(|c| {
            !DOCUMENTED.iter().any(|(lo, hi, code, object, _)| {
                (*lo..=*hi).contains(&major)
                    && c.code.to_string() == *code
                    && c.object.name == *object
            })
        })
        .map(|c| format!("{} {} {} → {}", c.code, c.object.name, c.before, c.after))
        .collect()
}

/// Fragments each major's feature file must add to the snapshot JSON.
fn features(major: u32) -> &'static [&'static str] {
    match major {
        14 => &[
            r#""body": "RETURN (SELECT sum("#,
            r#""(lower(note))""#,
            r#""compression": "pglz""#,
        ],
        15 => &[
            r#""nulls_not_distinct": true"#,
            r#""on_delete_columns": ["order_id"]"#,
            r#""row_filter": "#,
            r#""schemas": ["shop"]"#,
        ],
        16 => &[r#""icu_rules": "&a < b""#],
        17 => &[
            r#""provider": "builtin""#,
            r#""builtin_locale": "C""#,
            r#""not_null_name": "code_present""#,
            r#""privileges": ["INSERT", "SELECT", "MAINTAIN"]"#,
        ],
        18 => &[
            r#""virtual": true"#,
            r#""not_null_name": "amount_present""#,
            r#""not_null_valid": false"#,
            r#""not_null_no_inherit": true"#,
            r#""not_enforced": true"#,
            r#""without_overlaps": true"#,
            r#""period": true"#,
            r#""generated_columns": "stored""#,
        ],
        _ => &[],
    }
}

fn objects_text(s: &Snapshot) -> String {
    driftwatch::model::json::to_layout(&s.objects)
}

async fn check_major(major: u32) {
    let cluster = Cluster::start(ClusterOptions {
        bindir: Some(common::installed_bindir(major)),
        ..ClusterOptions::default()
    })
    .expect("cluster");
    let here = Shadow::Local(cluster);
    psql(&here.admin_url(), common::ROLES_SQL);
    let version = psql_rows(&here.admin_url(), "SHOW server_version_num");
    assert!(
        version[0].starts_with(&major.to_string()),
        "{version:?} is not {major}"
    );

    // 1. The same DDL reads the same as on 15.
    let shared = fixture_files(major.min(15));
    let (db, on_major) = load_and_capture(&here, &shared).await;
    let (_, on_15) = load_and_capture(shadow(), &shared).await;
    assert_major(&on_15, REFERENCE_MAJOR, "the reference capture");
    let left = undocumented(major, diff(&on_15, &on_major));
    assert!(
        left.is_empty(),
        "PostgreSQL {major} differs from 15 on the same DDL:\n{}",
        left.join("\n")
    );

    // 2. Every feature of every major up to this one changes the snapshot
    // when its DDL runs.
    let files = fixture_files(major);
    let (features_db, _) = load_and_capture(&here, &files[..1]).await;
    let mut before = objects_text(&snap(&features_db).await);
    for (added_in, file) in &files[1..] {
        psql_file(&features_db, file);
        let after = objects_text(&snap(&features_db).await);
        for fragment in features(*added_in) {
            assert!(
                !before.contains(fragment) && after.contains(fragment),
                "PostgreSQL {major}: {fragment} of {added_in} does not come with {}",
                file.display()
            );
        }
        before = after;
    }
    drop(db);

    // 3. Replay on a shadow of this major ends where the replay on 15 ends.
    let evolving = repo().join("fixtures/migrations/evolving");
    let last = replay_last_after(&evolving, Some(&common::installed_bindir(major)));
    static REFERENCE: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
    let reference = REFERENCE.get_or_init(|| replay_last_after(&evolving, None));
    assert_major(reference, REFERENCE_MAJOR, "the reference replay");
    let left = undocumented(major, diff(reference, &last));
    assert!(
        left.is_empty(),
        "replay on {major} differs from 15:\n{}",
        left.join("\n")
    );
    assert_major(&last, major, "the replay");

    // 4. A history table reads.
    let hist = here.fresh_database("majors_history").await.expect("db");
    psql_file(&hist, &repo().join("fixtures/history/flyway.sql"));
    let out = driftwatch(&["history", hist.expose(), "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "history on {major}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(rows.as_array().is_some_and(|r| !r.is_empty()));

    // 5. A schema file diffed against this major loads into this major.
    let schema = tempfile::NamedTempFile::with_suffix(".sql").expect("temp file");
    std::fs::write(
        schema.path(),
        "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);\nCREATE VIEW tv AS SELECT t.id FROM t WHERE t.v <> '';\n",
    )
    .expect("write schema");
    let live = here.fresh_database("majors_file").await.expect("db");
    psql_file(&live, schema.path());
    let out = Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .arg("diff")
        .arg(schema.path())
        .arg(live.expose())
        .args(["--format", "json"])
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env_remove("DRIFTWATCH_PG_BINDIR")
        .output()
        .expect("run driftwatch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "diff on {major}: {stderr}");
    assert!(!stderr.contains("shadow server is PostgreSQL"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["from"]["server_version"]
            .as_str()
            .is_some_and(|v| v.starts_with(&major.to_string())),
        "the schema file ran on {}, not {major}",
        report["from"]["server_version"]
    );
}

common::per_major!(check_major);

/// PostgreSQL 12, the newest major driftwatch does not read, on a real 12
/// server (`scripts/postgres.sh` installs its binaries apart, for this test
/// only): every command that reads a live database stops with one line
/// naming the versions it reads, exit 2, and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_12_is_refused_with_one_line() {
    let cluster = Cluster::start(ClusterOptions {
        bindir: Some(common::installed_bindir(12)),
        ..ClusterOptions::default()
    })
    .expect("cluster");
    let url = cluster.url("postgres");
    let version = psql_rows(&url, "SHOW server_version_num");
    assert!(version[0].starts_with("12"), "{version:?} is not 12");
    psql(&url, "CREATE TABLE t (id int PRIMARY KEY)");
    let store = tempfile::tempdir().expect("temp dir");
    let store_arg = store.path().display().to_string();
    let refused = "PostgreSQL 12 is not supported; driftwatch reads PostgreSQL 13 to 18";
    let live = url.expose();
    for args in [
        vec!["snapshot", live],
        vec!["diff", live, live],
        vec!["history", live],
    ] {
        let out = driftwatch(&args);
        common::assert_one_line_error(&out, refused, "");
        assert!(out.stdout.is_empty(), "{args:?} printed a result");
    }
    // `check` reports a failed scan as its result (stdout), exit 2: the
    // reason in one line, and no snapshot recorded as the accepted state.
    let out = driftwatch(&[
        "check", "--url", live, "--name", "old", "--store", &store_arg,
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{report}");
    let failed: Vec<&str> = report.lines().filter(|l| l.contains(refused)).collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert!(failed[0].starts_with("scan failed: "), "{report}");
    let stored = common::files_under(store.path());
    assert!(
        stored.iter().all(|f| f.ends_with("scans.jsonl")),
        "check stored {stored:?}"
    );
}
