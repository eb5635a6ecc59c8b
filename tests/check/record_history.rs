//! `baseline --record-history` writes its row into the history table the
//! scan read (qualified and quoted, whatever the session's search_path),
//! under Flyway's advisory lock and the capture's lock_timeout, and leaves
//! neither row nor files when the insert or its commit fails.

use super::baseline::{audit, config, copy_dir, dw};
use super::common::{exec, psql_rows};
use super::*;

/// `baseline --write-migration --record-history` through `cfg`.
fn record(cfg: &Path) -> std::process::Output {
    dw(
        cfg,
        &[
            "baseline",
            "--reason",
            "accepted",
            "--yes",
            "--write-migration",
            "--record-history",
        ],
    )
}

/// The files of `dir`, hidden ones included.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// The demo's four files, migrated; its Flyway history then moved by `sql`.
async fn demo_with(sql: &str) -> (tempfile::TempDir, Watched) {
    let dir = copy_dir(&demo_dir());
    let w = Watched::migrated(dir.path(), None).await;
    exec(&w.db, sql).await;
    (dir, w)
}

fn database_name(w: &Watched) -> String {
    psql_rows(&w.db, "SELECT current_database()").remove(0)
}

#[tokio::test]
async fn the_row_goes_to_the_table_the_scan_read_not_one_earlier_on_search_path() {
    let (dir, w) = demo_with(
        "CREATE SCHEMA app;
         ALTER TABLE public.flyway_schema_history SET SCHEMA app;
         CREATE SCHEMA decoy;
         CREATE TABLE decoy.flyway_schema_history (LIKE app.flyway_schema_history INCLUDING ALL);",
    )
    .await;
    exec(
        &w.db,
        &format!(
            "ALTER DATABASE \"{}\" SET search_path = decoy, app, public",
            database_name(&w)
        ),
    )
    .await;
    let cfg = config(&w, dir.path(), "flyway");
    let out = record(&cfg);
    assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("history: a flyway row in app.flyway_schema_history"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        psql_rows(&w.db, "SELECT count(*) FROM decoy.flyway_schema_history"),
        ["0"]
    );
    assert_eq!(
        psql_rows(
            &w.db,
            "SELECT version FROM app.flyway_schema_history ORDER BY installed_rank DESC LIMIT 1"
        ),
        ["5"]
    );
}

#[tokio::test]
async fn a_hostile_schema_and_table_name_is_quoted() {
    let (dir, w) = demo_with(
        "CREATE SCHEMA \"we\"\"ird sch\";
         ALTER TABLE public.flyway_schema_history SET SCHEMA \"we\"\"ird sch\";
         ALTER TABLE \"we\"\"ird sch\".flyway_schema_history RENAME TO \"fly \"\"hist\";",
    )
    .await;
    let cfg = config(&w, dir.path(), "flyway");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}history = \"flyway\"\nhistory_table = 'we\"ird sch.fly \"hist'\n"),
    )
    .unwrap();
    let out = record(&cfg);
    assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(r#"history: a flyway row in "we""ird sch"."fly ""hist""#),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        psql_rows(
            &w.db,
            "SELECT count(*) FROM \"we\"\"ird sch\".\"fly \"\"hist\" WHERE version = '5' AND success"
        ),
        ["1"]
    );
    assert!(dir.path().join("V5__baseline_accepted.sql").is_file());
}

#[tokio::test]
async fn a_held_flyway_lock_stops_the_write_after_lock_timeout() {
    let (dir, w) = demo_with("CREATE TABLE shop.extra (id int)").await;
    let key = driftwatch::check::locks::flyway_key("public", "flyway_schema_history");
    let mut holder = w.db.connect(&[]).await.unwrap();

    // Taken after the differences were shown: apply says so, writes nothing.
    let cfg = config(&w, dir.path(), "flyway");
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
        reason: "locked".into(),
        by: "test".into(),
        write_migration: true,
        record_history: true,
        plan: Default::default(),
    };
    let prepared = driftwatch::baseline::prepare(&req, &store).await.unwrap();
    let table = prepared.history.clone().expect("a history table");
    assert_eq!(table.qualified(), "public.flyway_schema_history");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();
    let err = driftwatch::baseline::apply(&req, &store, prepared)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("a migration started"), "{err}");

    // The insert itself waits lock_timeout for Flyway's lock, then stops.
    let set = driftwatch::migrations::read(dir.path(), None).unwrap();
    let m = set.migrations.last().unwrap();
    let timeouts = driftwatch::baseline::record::Timeouts {
        lock: std::time::Duration::from_millis(400),
        statement: std::time::Duration::from_secs(10),
    };
    let started = std::time::Instant::now();
    let err = match driftwatch::baseline::record::insert(&w.db, &table, m, timeouts).await {
        Ok(_) => panic!("the row was inserted while Flyway's lock was held"),
        Err(e) => e.to_string(),
    };
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    assert!(
        err.contains("flyway's migration lock") && err.contains("400 ms (lock_timeout)"),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
    assert_eq!(names(dir.path()).len(), 4);
    assert!(audit(&w).is_empty());

    // Released, the same insert goes through (and is rolled back here).
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();
    let pending = driftwatch::baseline::record::insert(&w.db, &table, m, timeouts)
        .await
        .expect("insert without the lock held");
    pending.rollback().await;
    assert_eq!(
        psql_rows(&w.db, "SELECT count(*) FROM flyway_schema_history"),
        ["4"]
    );
}

/// A history table that refuses the row (`BEFORE INSERT`) or refuses it at
/// commit (a deferred constraint trigger): exit 2, one line, no migration
/// file, no staging folder, no accepted state, no row.
#[tokio::test]
async fn a_refused_insert_or_commit_leaves_no_files_and_no_row() {
    for trigger in [
        "CREATE TRIGGER refuse BEFORE INSERT ON flyway_schema_history FOR EACH ROW EXECUTE FUNCTION public.refuse()",
        "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON flyway_schema_history DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.refuse()",
    ] {
        let (dir, w) = demo_with(&format!(
            "CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no rows today'; END $$;
             {trigger}"
        ))
        .await;
        let before = names(dir.path());
        let cfg = config(&w, dir.path(), "flyway");
        let out = record(&cfg);
        assert_exit(&out, 2);
        // The summary shown before the write, then the error's one line.
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let last = stderr.trim_end().lines().last().unwrap_or_default();
        assert!(last.contains("no rows today"), "{stderr}");
        assert_eq!(names(dir.path()), before, "{trigger}");
        assert!(audit(&w).is_empty(), "{trigger}");
        assert_eq!(
            psql_rows(&w.db, "SELECT count(*) FROM flyway_schema_history"),
            ["4"]
        );
    }
}
