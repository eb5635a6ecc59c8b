//! `driftwatch baseline`: the live schema accepted as the expected state,
//! with or without the migration that says how and its history row, for
//! Flyway, sqlx and dbmate (their real CLIs judge the history) and
//! golang-migrate; the confirmation; a target that changes meanwhile.

use super::common::{exec, psql_rows, tools_sh};
use super::*;
use std::process::Command;

/// A copy of `from` to write migrations into.
pub(super) fn copy_dir(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// A config file naming `w` as target `t` with `dir` and `format`.
pub(super) fn config(w: &Watched, dir: &Path, format: &str) -> PathBuf {
    let path = w.store.path().join("driftwatch.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"{}\"\n\n[[target]]\nname = \"t\"\nurl = \"{}\"\nmigrations = \"{}\"\nformat = \"{format}\"\n",
            w.store.path().display(),
            w.db.expose(),
            dir.display()
        ),
    )
    .unwrap();
    path
}

/// Runs driftwatch with the shadow server, stdin closed.
pub(super) fn dw(config: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config".to_string(), config.display().to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    let sub = all.remove(2);
    all.insert(0, sub);
    all.extend([
        "--shadow-url".to_string(),
        shadow().admin_url().expose().to_string(),
    ]);
    Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(&all)
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// `check --format json` through the config.
fn check_json(config: &Path) -> (std::process::Output, Value) {
    let out = dw(config, &["check", "--format", "json"]);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out, report)
}

/// The audit records of the accepted states.
pub(super) fn audit(w: &Watched) -> Vec<Value> {
    std::fs::read_to_string(w.store.path().join("t/baselines/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn flyway_drift_accepted_without_a_migration_then_the_check_is_clean() {
    let dir = copy_dir(&demo_dir());
    let mut w = Watched::migrated(dir.path(), None).await;
    w.name = "t".into();
    let cfg = config(&w, dir.path(), "flyway");
    exec(&w.db, OUT_OF_BAND).await;
    let (out, _) = check_json(&cfg);
    assert_exit(&out, 1);

    // Without a terminal, only --yes proceeds.
    let out = dw(&cfg, &["baseline", "--reason", "hotfix 42"]);
    super::common::assert_one_line_error(&out, "run it on a terminal, or pass --yes", "");

    let out = dw(
        &cfg,
        &["baseline", "--reason", "hotfix 42", "--yes", "--by", "dba"],
    );
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("accepted: store:t@baseline ("),
        "{stdout}"
    );
    let (out, report) = check_json(&cfg);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean", "{report}");
    assert_eq!(report["expected"]["from"], "baseline");
    let record = audit(&w).pop().unwrap();
    assert_eq!(record["by"], "dba");
    assert_eq!(record["reason"], "hotfix 42");
    assert_eq!(record["applied_version"], "4");
    assert_eq!(record["accepted"].as_array().unwrap().len(), 4, "{record}");
    assert!(record["replaced"].is_string());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "no migration written"
    );
}

#[tokio::test]
async fn flyway_baseline_migration_reproduces_the_live_schema_and_is_recorded() {
    let dir = copy_dir(&demo_dir());
    let mut w = Watched::migrated(dir.path(), None).await;
    w.name = "t".into();
    let cfg = config(&w, dir.path(), "flyway");
    exec(&w.db, OUT_OF_BAND).await;
    let out = dw(
        &cfg,
        &[
            "baseline",
            "--reason",
            "Hotfix: by hand",
            "--yes",
            "--write-migration",
            "--record-history",
            "--allow-drops",
        ],
    );
    assert_exit(&out, 0);
    let file = dir.path().join("V5__baseline_hotfix_by_hand.sql");
    assert!(file.is_file(), "{}", String::from_utf8_lossy(&out.stdout));
    let set = driftwatch::migrations::read(dir.path(), None).unwrap();
    let new = set.migrations.last().unwrap();
    assert_eq!(new.version.as_deref(), Some("5"));
    // The row holds Flyway's checksum of the file, computed apart from
    // driftwatch's own formula.
    let flyway = common::flyway::flyway_checksum(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        psql_rows(
            &w.db,
            "SELECT installed_rank || ' ' || checksum || ' ' || success FROM flyway_schema_history WHERE version = '5'"
        ),
        [format!("5 {flyway} true")]
    );
    assert_eq!(new.checksum, flyway.to_string());
    let (out, report) = check_json(&cfg);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean", "{report}");
    assert_eq!(report["applied_version"], "5");

    // The migration makes the live schema from the old history: a fresh
    // database migrated with all five files equals the live one.
    let fresh = common::fresh_db().await;
    driftwatch::replay::migrate(&fresh, &set, &set.migrations)
        .await
        .expect("the baseline migration applies");
    assert_eq!(common::flyway::assert_flyway_history(&fresh, dir.path()), 5);
    let opts = driftwatch::catalog::CaptureOptions {
        history_tables: driftwatch::history::HistoryTables::Tool(
            driftwatch::history::Tool::Flyway,
            None,
        ),
        ..Default::default()
    };
    let (a, _) = driftwatch::catalog::capture(&fresh, &opts).await.unwrap();
    let (b, _) = driftwatch::catalog::capture(&w.db, &opts).await.unwrap();
    let left = driftwatch::diff::diff(&a, &b);
    assert!(
        left.is_empty(),
        "{:?}",
        left.iter().map(|c| c.summary()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_target_that_changes_before_the_write_gets_nothing_written() {
    let dir = copy_dir(&demo_dir());
    let mut w = Watched::migrated(dir.path(), None).await;
    w.name = "t".into();
    let cfg = config(&w, dir.path(), "flyway");
    exec(&w.db, OUT_OF_BAND).await;
    let config = driftwatch::config::Config::read(&cfg).unwrap();
    let shadow_opts = driftwatch::shadow::ShadowOptions {
        url: Some(shadow().admin_url().expose().to_string()),
        ..Default::default()
    };
    let target = driftwatch::check::ScanTarget::from_config(
        &config.targets[0],
        &config.store,
        &Default::default(),
        &shadow_opts,
    );
    let store = driftwatch::store::TargetStore::new(w.store.path(), "t").unwrap();
    let req = driftwatch::baseline::BaselineRequest {
        target,
        reason: "race".into(),
        by: "test".into(),
        write_migration: true,
        record_history: true,
        plan: Default::default(),
    };
    let prepared = driftwatch::baseline::prepare(&req, &store).await.unwrap();
    assert!(prepared.migration.is_some());
    exec(&w.db, "CREATE TABLE shop.meanwhile (id int)").await;
    let err = driftwatch::baseline::apply(&req, &store, prepared)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("changed since it was shown"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    assert_eq!(
        psql_rows(&w.db, "SELECT count(*) FROM flyway_schema_history"),
        ["4"]
    );
    assert!(audit(&w).is_empty());
}

/// Drift, a baseline that writes and records the migration, then the
/// check is clean; returns the migrations directory for the tool's verdict.
async fn write_and_record(w: &mut Watched, dir: &Path, format: &str, drift: &str) {
    w.name = "t".into();
    let cfg = config(w, dir, format);
    exec(&w.db, drift).await;
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
    let (out, report) = check_json(&cfg);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean", "{report}");
}

#[tokio::test]
async fn sqlx_and_dbmate_accept_the_history_a_baseline_recorded() {
    // sqlx-cli: `migrate info` reads the row and the file's checksum.
    let db = common::fresh_db().await;
    tools_sh(&["apply", "sqlx", db.expose()]);
    let dir = copy_dir(&repo().join("fixtures/tools/sqlx/migrations"));
    let mut w = Watched::on(db.clone(), Some(dir.path().to_path_buf()));
    write_and_record(
        &mut w,
        dir.path(),
        "sqlx",
        "CREATE INDEX sqlx_accounts_display_name_idx ON sqlx_accounts (display_name)",
    )
    .await;
    let url = db
        .expose()
        .replace("postgres://postgres@/", "postgres://postgres@localhost/");
    let out = Command::new(tools_sh(&["path", "sqlx"]))
        .args(["migrate", "info", "--source"])
        .arg(dir.path())
        .args(["--database-url", &url])
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{info}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = info
        .lines()
        .find(|l| l.contains("baseline accepted"))
        .unwrap_or_else(|| panic!("{info}"));
    assert!(
        line.contains("installed") && !info.contains("pending"),
        "{info}"
    );
    assert!(
        !info.to_lowercase().contains("different checksum"),
        "{info}"
    );

    // dbmate: `status` lists every file applied, nothing pending.
    let db = common::fresh_db().await;
    tools_sh(&["apply", "dbmate", db.expose()]);
    let dir = copy_dir(&repo().join("fixtures/tools/dbmate/db/migrations"));
    let mut w = Watched::on(db.clone(), Some(dir.path().to_path_buf()));
    write_and_record(
        &mut w,
        dir.path(),
        "dbmate",
        "ALTER TABLE dbmate_accounts ADD COLUMN note text",
    )
    .await;
    let url = format!(
        "{}&sslmode=disable",
        db.expose()
            .replace("postgres://postgres@/", "postgres://postgres@localhost/")
    );
    let out = Command::new(tools_sh(&["path", "dbmate"]))
        .args(["--url", &url, "--migrations-dir"])
        .arg(dir.path())
        .args(["--no-dump-schema", "status"])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains("Pending: 0"), "{status}");
    assert!(status.contains("_baseline_accepted.sql"), "{status}");
}

#[tokio::test]
async fn golang_migrate_gets_an_up_and_a_down_file_and_its_version() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in [
        (
            "1_accounts.up.sql",
            "CREATE TABLE gm_b (id bigint PRIMARY KEY, email text);\n",
        ),
        ("1_accounts.down.sql", "DROP TABLE gm_b;\n"),
    ] {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    let mut w = Watched::migrated(dir.path(), None).await;
    write_and_record(
        &mut w,
        dir.path(),
        "golang-migrate",
        "CREATE INDEX gm_b_email ON gm_b (email)",
    )
    .await;
    assert!(dir.path().join("2_baseline_accepted.up.sql").is_file());
    let down = std::fs::read_to_string(dir.path().join("2_baseline_accepted.down.sql")).unwrap();
    assert!(down.contains("DROP INDEX public.gm_b_email;"), "{down}");
    assert_eq!(
        psql_rows(
            &w.db,
            "SELECT version || ' ' || dirty FROM schema_migrations"
        ),
        ["2 false"]
    );
}

#[tokio::test]
async fn a_target_that_cannot_be_captured_is_one_line_and_nothing_is_written() {
    let dir = copy_dir(&demo_dir());
    let store = tempfile::tempdir().unwrap();
    let cfg = store.path().join("driftwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\npath = \"{}\"\n\n[[target]]\nname = \"t\"\nurl = \"postgres://scanner:b4seline-pw@127.0.0.1:1/shop\"\nmigrations = \"{}\"\n",
            store.path().display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let out = dw(
        &cfg,
        &["baseline", "--reason", "x", "--yes", "--write-migration"],
    );
    super::common::assert_one_line_error(&out, "127.0.0.1", "b4seline-pw");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    assert!(!store.path().join("t/baselines").exists());
}
