//! The catalog change probe (driftwatch::catalog::probe) against real
//! servers: every DDL step that changes a snapshot changes the probe (a
//! miss would hide drift), maintenance and data changes leave it equal,
//! the same holds on the oldest and newest majors, and it hashes every row
//! of the catalogs it reads. What it costs against a capture is measured
//! by `make bench` (benches/probe), not asserted here.
//!
//! The tests of this binary take one lock: role renames are cluster-wide
//! (they would move the probes of a test running beside them).

mod common;

use common::steps::{MAJOR_STEPS, PROBE_ROLE_SQL, STEPS};
use common::{exec, fresh_db, load_fixture, psql, psql_file, psql_rows, repo, snap};
use driftwatch::catalog::{probe, probe_cost, CaptureOptions, DatabaseUrl, Probe};
use driftwatch::shadow::{Cluster, ClusterOptions, Shadow};
use sqlx::Connection;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

/// Tables of the schema the probe's row counts are checked on.
const TABLES: usize = 300;

/// Serializes the tests of this binary (see the module doc).
fn serial() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// A probe with default options.
async fn probe_of(url: &DatabaseUrl) -> Probe {
    probe(url, &CaptureOptions::default()).await.expect("probe")
}

/// Runs `steps` in order, probing and capturing after each; returns one
/// line per step (what moved) and the failures: misses and steps that do
/// not change the snapshot.
async fn run_steps(url: &DatabaseUrl, steps: &[&str]) -> (Vec<String>, Vec<String>) {
    let (mut probe_before, mut snap_before) = (probe_of(url).await, snap(url).await);
    let (mut report, mut failures) = (Vec::new(), Vec::new());
    for step in steps {
        exec(url, step).await;
        let (probe_after, snap_after) = (probe_of(url).await, snap(url).await);
        let moved = probe_after.changed_catalogs(&probe_before).join(" ");
        report.push(format!("{step}  [{moved}]"));
        if snap_after.fingerprint == snap_before.fingerprint {
            failures.push(format!("does not change the snapshot (replace it): {step}"));
        } else if probe_after.fingerprint == probe_before.fingerprint {
            failures.push(format!(
                "MISS: the snapshot changed, the probe did not: {step}"
            ));
        }
        (probe_before, snap_before) = (probe_after, snap_after);
    }
    (report, failures)
}

/// CREATE INDEX CONCURRENTLY caught between its phases: an open snapshot in
/// another session holds it before it sets `indisvalid`, the probe and the
/// capture see the invalid index, then the build completes. The flip must
/// change the probe (it would not if PostgreSQL updated pg_index in place).
async fn concurrent_index_flip(url: &DatabaseUrl, table: &str, column: &str) -> Option<String> {
    let mut holder = url.connect(&[]).await.expect("connect");
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        .execute(&mut holder)
        .await
        .expect("open a snapshot");
    let build = {
        let url = url.clone();
        let sql = format!("CREATE INDEX CONCURRENTLY probe_cic_idx ON {table} ({column})");
        std::thread::spawn(move || psql(&url, &sql))
    };
    // Wait for the build to reach its last wait (ready, not yet valid).
    let ready = format!(
        "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('{}') AND indisready AND NOT indisvalid",
        index_name(table)
    );
    let mut waited = Duration::ZERO;
    while psql_rows(url, &ready) != ["1"] {
        assert!(waited < Duration::from_secs(30), "CIC never got ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    let (p1, s1) = (probe_of(url).await, snap(url).await);
    sqlx::raw_sql("COMMIT")
        .execute(&mut holder)
        .await
        .expect("commit");
    let _ = holder.close().await;
    build.join().expect("index build");
    let (p2, s2) = (probe_of(url).await, snap(url).await);
    if s1.fingerprint == s2.fingerprint {
        return Some("CIC: setting indisvalid does not change the snapshot".into());
    }
    (p1.fingerprint == p2.fingerprint).then(|| "MISS: CIC's indisvalid flip".to_string())
}

/// The CIC index's name, qualified by `table`'s schema.
fn index_name(table: &str) -> String {
    let schema = table.split('.').next().unwrap_or("public");
    format!("{schema}.probe_cic_idx")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_snapshot_change_changes_the_probe() {
    let _serial = serial().lock().await;
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    psql(&db, PROBE_ROLE_SQL);
    // The pg_trgm steps update it from an old version and drop it.
    exec(&db, "CREATE EXTENSION pg_trgm VERSION '1.3'").await;

    let (report, mut failures) = run_steps(&db, STEPS).await;
    eprintln!("{} steps (catalogs that moved):", STEPS.len());
    for line in &report {
        eprintln!("  {line}");
    }
    failures.extend(concurrent_index_flip(&db, "app.orders", "customer_id").await);
    assert!(STEPS.len() >= 40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_and_data_leave_the_probe_equal() {
    let _serial = serial().lock().await;
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    exec(
        &db,
        "CREATE TABLE app.data (id int PRIMARY KEY, v text);
         ALTER TABLE app.data CLUSTER ON data_pkey;
         CREATE MATERIALIZED VIEW app.data_view AS SELECT id FROM app.data;",
    )
    .await;

    let base = probe_of(&db).await;
    let base_snap = snap(&db).await;
    assert_eq!(
        base.fingerprint,
        probe_of(&db).await.fingerprint,
        "two probes"
    );
    assert!(base.rows > 10_000, "rows hashed: {}", base.rows);

    // Must stay equal: nothing of these writes a catalog row.
    let equal: &[(&str, &str)] = &[
        (
            "data",
            "INSERT INTO app.data SELECT g, 'x' FROM generate_series(1, 5000) g;
             UPDATE app.data SET v = 'y' WHERE id % 2 = 0;
             DELETE FROM app.data WHERE id > 4000;",
        ),
        ("ANALYZE", "ANALYZE"),
        ("VACUUM", "VACUUM"),
        ("VACUUM ANALYZE app.data", "VACUUM ANALYZE app.data"),
        ("VACUUM FREEZE", "VACUUM FREEZE"),
        ("CHECKPOINT", "CHECKPOINT"),
        ("sequence use", "SELECT nextval('app.invoice_numbers')"),
    ];
    for (what, sql) in equal {
        exec(&db, sql).await;
        let now = probe_of(&db).await;
        assert_eq!(
            base.fingerprint,
            now.fingerprint,
            "{what} changed the probe: {:?}",
            now.changed_catalogs(&base)
        );
        eprintln!("equal after {what}");
    }
    assert_eq!(base_snap.fingerprint, snap(&db).await.fingerprint);

    // A temporary table in another session: its rows exist while it does
    // (a needless capture, never a miss); the first one of a backend slot
    // also creates that slot's pg_temp schema, once.
    let mut other = db.connect(&[]).await.expect("connect");
    let (during, first) = temp_round(&db, &mut other).await;
    eprintln!(
        "temp table alive: {:?}; after the first drop: {:?}",
        during.changed_catalogs(&base),
        first.changed_catalogs(&base)
    );
    assert_ne!(during.fingerprint, base.fingerprint);
    let (_, second) = temp_round(&db, &mut other).await;
    assert_eq!(first.fingerprint, second.fingerprint, "second temp table");
    let _ = other.close().await;

    // Rewrites: a new relfilenode is a transactional pg_class update, a
    // needless capture. Recorded, and the snapshot must not move.
    let mut last = probe_of(&db).await;
    for sql in [
        "VACUUM FULL app.data",
        "CLUSTER app.data",
        "REINDEX TABLE app.data",
        "TRUNCATE app.data",
        "REFRESH MATERIALIZED VIEW app.data_view",
    ] {
        exec(&db, sql).await;
        let now = probe_of(&db).await;
        eprintln!(
            "{sql}: probe {} {:?}",
            if now.fingerprint == last.fingerprint {
                "equal"
            } else {
                "changed"
            },
            now.changed_catalogs(&last)
        );
        last = now;
    }
    let after = snap(&db).await;
    assert_eq!(
        base_snap.fingerprint, after.fingerprint,
        "rewrites changed the snapshot"
    );
}

/// Creates and drops a temporary table on `other`: the probes while it
/// exists and after.
async fn temp_round(db: &DatabaseUrl, other: &mut sqlx::PgConnection) -> (Probe, Probe) {
    exec_on(other, "CREATE TEMP TABLE t (a int)").await;
    let during = probe_of(db).await;
    exec_on(other, "DROP TABLE t").await;
    (during, probe_of(db).await)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_role_can_probe() {
    let _serial = serial().lock().await;
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    // No superuser: pg_authid and pg_user_mapping are closed to this role.
    let scanner = DatabaseUrl::parse(&db.expose().replacen(
        "postgres@",
        "dw_scanner:scanner-pw@",
        1,
    ))
    .expect("url");
    let before = probe_of(&scanner).await;
    assert_eq!(before.fingerprint, probe_of(&scanner).await.fingerprint);
    exec(&db, "DROP USER MAPPING FOR dw_reader SERVER archive_server").await;
    let after = probe_of(&scanner).await;
    assert_eq!(
        after.changed_catalogs(&before),
        ["pg_depend", "pg_user_mappings"]
    );
}

/// Runs one statement on an open connection.
async fn exec_on(conn: &mut sqlx::PgConnection, sql: &str) {
    if let Err(e) = sqlx::raw_sql(sql).execute(&mut *conn).await {
        panic!("{sql}: {e}");
    }
}

async fn steps_on_major(major: u32) {
    let bindir = common::installed_bindir(major);
    let _serial = serial().lock().await;
    let cluster = Cluster::start(ClusterOptions {
        bindir: Some(bindir),
        ..ClusterOptions::default()
    })
    .expect("cluster");
    let here = Shadow::Local(cluster);
    psql(&here.admin_url(), common::ROLES_SQL);
    psql(&here.admin_url(), PROBE_ROLE_SQL);
    let version = psql_rows(&here.admin_url(), "SHOW server_version_num");
    assert!(version[0].starts_with(&major.to_string()), "{version:?}");
    let db = here.fresh_database("probe").await.expect("database");
    psql_file(&db, &repo().join("fixtures/schemas/majors/common.sql"));

    let p = probe_of(&db).await;
    assert_eq!(p.server_version_num / 10_000, major);
    // The in-place updates of this major's VACUUM and ANALYZE stay unseen.
    exec(&db, "ANALYZE; VACUUM; VACUUM FREEZE; CHECKPOINT").await;
    let after = probe_of(&db).await;
    assert_eq!(
        p.fingerprint,
        after.fingerprint,
        "PostgreSQL {major}: maintenance changed the probe: {:?}",
        after.changed_catalogs(&p)
    );
    let mut failures = concurrent_index_flip(&db, "shop.orders", "customer_id")
        .await
        .into_iter()
        .collect::<Vec<_>>();
    let (report, step_failures) = run_steps(&db, MAJOR_STEPS).await;
    eprintln!("PostgreSQL {major}: {} steps", MAJOR_STEPS.len());
    for line in &report {
        eprintln!("  {line}");
    }
    failures.extend(step_failures);
    assert!(
        failures.is_empty(),
        "PostgreSQL {major}:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_on_postgres_13() {
    steps_on_major(13).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_on_postgres_18() {
    steps_on_major(18).await;
}

/// `tables` tables in 10 schemas with defaults, checks, indexes, comments
/// and a view per 5 tables.
fn generated_schema(tables: usize) -> String {
    let mut sql = String::from("SET client_min_messages = warning;\n");
    for s in 0..10 {
        let _ = writeln!(sql, "CREATE SCHEMA g{s};");
        let _ = writeln!(
            sql,
            "CREATE TYPE g{s}.state AS ENUM ('new', 'active', 'done');"
        );
    }
    sql.push_str("BEGIN;\n");
    for i in 0..tables {
        let s = i % 10;
        let _ = writeln!(
            sql,
            "CREATE TABLE g{s}.t{i} (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, \
             name varchar(100), state g{s}.state NOT NULL DEFAULT 'new', \
             amount numeric(12,2) CHECK (amount >= 0), created_at timestamptz NOT NULL DEFAULT now(), \
             flags int NOT NULL DEFAULT 0, note text);\n\
             CREATE INDEX t{i}_created_idx ON g{s}.t{i} (created_at);\n\
             CREATE INDEX t{i}_lower_idx ON g{s}.t{i} (lower(name)) WHERE flags > 0;\n\
             COMMENT ON TABLE g{s}.t{i} IS 'table {i}';"
        );
        if i % 5 == 0 {
            let _ = writeln!(
                sql,
                "CREATE VIEW g{s}.v{i} AS SELECT id, code, amount * 2 AS doubled FROM g{s}.t{i} WHERE state <> 'done';"
            );
        }
    }
    sql.push_str("COMMIT;\n");
    sql
}

/// What the probe reads: every row of every catalog it names, counted as
/// the catalog counts them (a probe that sampled or filtered rows could
/// miss a change), in one statement against the many a capture sends. How
/// much faster it is than a capture is `make bench`'s to measure
/// (benches/probe: a wall-clock ratio on two shared cores is no test).
#[tokio::test(flavor = "multi_thread")]
async fn the_probe_hashes_every_row_of_its_catalogs() {
    let _serial = serial().lock().await;
    let db = fresh_db().await;
    let empty = probe_of(&db).await;
    let file = std::env::temp_dir().join(format!("driftwatch-probe-{}.sql", std::process::id()));
    std::fs::write(&file, generated_schema(TABLES)).expect("write schema");
    psql_file(&db, &file);
    let _ = std::fs::remove_file(&file);

    let cost = probe_cost(&db, &CaptureOptions::default(), 1)
        .await
        .expect("cost");
    let p = probe_of(&db).await;
    assert_eq!(
        cost.probe_rows, p.rows,
        "probe_cost reports the probe's rows"
    );
    let tables = snap(&db).await.objects.tables.len();
    assert_eq!(tables, TABLES, "{tables} tables");
    // The capture's statement count does not grow with the schema (a
    // query per kind, not per object), and is more than the probe's one.
    assert!(cost.capture_statements > 1, "{cost:?}");
    // Each catalog's count is its own `count(*)`, read apart from the probe.
    let mut counted = 0;
    for c in &p.catalogs {
        if !c.catalog.starts_with("pg_")
            || ["pg_settings", "pg_roles", "pg_user_mappings"].contains(&c.catalog.as_str())
        {
            continue;
        }
        let rows = psql_rows(&db, &format!("SELECT count(*) FROM {}", c.catalog));
        assert_eq!(rows, [c.rows.to_string()], "{}", c.catalog);
        counted += 1;
    }
    assert!(
        counted >= 30,
        "{counted} catalogs checked: {:?}",
        p.catalogs
    );
    // The schema's rows are among those hashed: every table's columns,
    // indexes, constraints and comments.
    let added = p.rows - empty.rows;
    assert!(
        added as usize > TABLES * 20,
        "{added} rows added for {TABLES} tables"
    );
}
