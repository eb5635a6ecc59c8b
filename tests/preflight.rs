//! `driftwatch preflight` end to end: a Flyway history applied to a real
//! database, a hand-made index in "prod" that the next pending migration
//! also creates, a pending migration that rewrites a big table, and a CI
//! run from the store with no connection to the target. Also the seed
//! (`replay::seed`) on its own: a schema with roles, grants, policies and
//! owners rebuilt on a separate cluster compares equal to its source.

mod common;

use common::*;
use driftwatch::catalog::DatabaseUrl;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

const V1: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), total int NOT NULL);\n";
const V2: &str =
    "-- the index the dashboard needs\nCREATE INDEX orders_created_idx ON orders (created_at);\n";
const V3: &str = "ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n";

/// A Flyway directory with `files`.
fn flyway_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).expect("write migration");
    }
    dir
}

/// A fresh database with the first `n` migrations of `dir` applied as
/// Flyway records them.
async fn migrated(dir: &Path, n: usize) -> DatabaseUrl {
    let db = fresh_db().await;
    let set = driftwatch::migrations::read(dir, None).expect("read migrations");
    driftwatch::replay::migrate(&db, &set, &set.migrations[..n])
        .await
        .expect("migrate");
    db
}

fn run(args: &[&str]) -> (Output, Value) {
    let out = driftwatch(args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

fn shadow_url() -> String {
    shadow().admin_url().expose().to_string()
}

fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A preflight of `db` (named `shop`) with `dir` and `store` on the test
/// cluster, with `extra` arguments.
fn preflight_out(db: &DatabaseUrl, dir: &Path, store: &Path, extra: &[&str]) -> Output {
    let shadow = shadow_url();
    let mut args = vec![
        "preflight",
        "--url",
        db.expose(),
        "--name",
        "shop",
        "--migrations",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--shadow-url",
        &shadow,
    ];
    args.extend_from_slice(extra);
    driftwatch(&args)
}

/// [`preflight_out`] as JSON: the output and the report.
fn preflight(db: &DatabaseUrl, dir: &Path, store: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = preflight_out(db, dir, store, &args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

#[tokio::test]
async fn a_hand_made_index_fails_the_next_migration_and_is_named() {
    let dir = flyway_dir(&[("V1__orders.sql", V1), ("V2__orders_idx.sql", V2)]);
    let db = migrated(dir.path(), 1).await;
    exec(
        &db,
        "CREATE INDEX orders_created_idx ON orders (created_at)",
    )
    .await;
    let store = tempfile::tempdir().unwrap();

    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 1);
    assert_eq!(report["result"], "fails");
    assert_eq!(report["applied_version"], "1");
    let m = &report["migrations"][0];
    assert_eq!(m["version"], "2");
    assert_eq!(m["outcome"], "fails");
    let at = m["at"].as_str().unwrap();
    assert!(at.ends_with("V2__orders_idx.sql:2"), "{at}");
    let message = m["message"].as_str().unwrap();
    assert!(
        message.contains("relation \"orders_created_idx\" already exists"),
        "{message}"
    );
    let explained = m["explained_by"].as_array().unwrap();
    assert_eq!(explained.len(), 1, "{explained:?}");
    assert_eq!(explained[0]["object"], "public.orders.orders_created_idx");
    assert!(report["surviving_drift"].is_null());

    // The text report: file:line, the server's message and the finding on one line.
    let out = preflight_out(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 1);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("V2__orders_idx.sql:2"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("already exists")
            && line.contains(" — ")
            && line.contains("orders_created_idx"),
        "{line}"
    );

    // The index dropped in prod: the migration applies, nothing survives.
    exec(&db, "DROP INDEX orders_created_idx").await;
    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 0);
    assert_eq!(report["result"], "ok");
    let m = &report["migrations"][0];
    assert_eq!(m["outcome"], "applies");
    let changes: Vec<&str> = m["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        changes.iter().any(|c| c.contains("orders_created_idx")),
        "{changes:?}"
    );
    let hazards = m["hazards"].as_array().unwrap();
    assert!(
        hazards
            .iter()
            .any(|h| h["code"] == "blocks-writes" && h["table"] == "public.orders"),
        "{hazards:?}"
    );
    assert_eq!(report["surviving_drift"], serde_json::json!([]));
}

#[tokio::test]
async fn drift_the_pending_migrations_do_not_touch_survives_the_deploy() {
    let dir = flyway_dir(&[("V1__orders.sql", V1), ("V2__orders_idx.sql", V2)]);
    let db = migrated(dir.path(), 1).await;
    exec(&db, "ALTER TABLE orders ADD COLUMN note text").await;
    let store = tempfile::tempdir().unwrap();
    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 1);
    assert_eq!(report["result"], "drift-survives");
    assert_eq!(report["migrations"][0]["outcome"], "applies");
    let surviving: Vec<&str> = report["surviving_drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(surviving.len(), 1, "{surviving:?}");
    assert!(surviving[0].contains("public.orders.note"), "{surviving:?}");
}

#[tokio::test]
async fn a_rewrite_of_a_big_table_is_flagged_with_its_size() {
    let dir = flyway_dir(&[("V1__orders.sql", V1), ("V3__total_bigint.sql", V3)]);
    let db = migrated(dir.path(), 1).await;
    exec(
        &db,
        "INSERT INTO orders (id, total) SELECT g, g % 100 FROM generate_series(1, 200000) g; ANALYZE orders",
    )
    .await;
    let store = tempfile::tempdir().unwrap();
    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 0);
    let hazards = report["migrations"][0]["hazards"].as_array().unwrap();
    let rewrite = hazards
        .iter()
        .find(|h| h["code"] == "rewrites-table")
        .unwrap_or_else(|| panic!("{hazards:?}"));
    assert_eq!(rewrite["table"], "public.orders");
    assert_eq!(rewrite["size"]["rows"], 200000);
    assert!(
        rewrite["size"]["pages"].as_i64().unwrap() > 100,
        "{rewrite}"
    );
    assert!(hazards
        .iter()
        .any(|h| h["code"] == "access-exclusive-lock" && h["table"] == "public.orders"));
    // In the text: the size next to the table.
    let out = preflight_out(&db, dir.path(), store.path(), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hazard: rewrites-table public.orders (~200.0k rows,"),
        "{text}"
    );
}

#[tokio::test]
async fn ci_runs_from_the_store_without_a_connection() {
    let dir = flyway_dir(&[("V1__orders.sql", V1), ("V2__orders_idx.sql", V2)]);
    let db = migrated(dir.path(), 1).await;
    exec(
        &db,
        "CREATE INDEX orders_created_idx ON orders (created_at)",
    )
    .await;
    let store = tempfile::tempdir().unwrap();
    let shadow = shadow_url();
    // A scan keeps the live snapshot and the applied version.
    let out = driftwatch(&[
        "check",
        "--url",
        db.expose(),
        "--name",
        "shop",
        "--migrations",
        dir.path().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--shadow-url",
        &shadow,
    ]);
    assert_code(&out, 1);
    let index = store.path().join("shop/migrations/index.json");
    let replayed = std::fs::read_to_string(&index).expect("the check's replay index");
    // The target is gone: the preflight reads the store only.
    common::shadow()
        .drop_database(&db)
        .await
        .expect("drop the target database");
    let spec = format!("store:{}/shop@live", store.path().display());
    let (out, report) = run(&[
        "preflight",
        "--snapshot",
        &spec,
        "--migrations",
        dir.path().to_str().unwrap(),
        "--shadow-url",
        &shadow,
        "--format",
        "json",
    ]);
    assert_code(&out, 1);
    assert_eq!(report["applied_version"], "1");
    assert!(report["live"]
        .as_str()
        .unwrap()
        .starts_with("store:shop@live"));
    let m = &report["migrations"][0];
    assert_eq!(m["outcome"], "fails");
    assert_eq!(
        m["explained_by"][0]["object"],
        "public.orders.orders_created_idx"
    );
    assert!(m["explained_by"][0]["since"].as_str().is_some(), "{m}");

    // Markdown for the pull request, HTML for the archive.
    for (format, needle) in [("markdown", "| `2` |"), ("html", "<tr class=\"fails\">")] {
        let out = driftwatch(&[
            "preflight",
            "--snapshot",
            &spec,
            "--migrations",
            dir.path().to_str().unwrap(),
            "--shadow-url",
            &shadow,
            "--format",
            format,
        ]);
        assert_code(&out, 1);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{format}: {text}");
    }
    // The branch's files were replayed into a scratch store: the target's
    // stored replay is as the check left it.
    assert_eq!(std::fs::read_to_string(&index).unwrap(), replayed);
}

#[tokio::test]
async fn bad_input_is_one_line_and_exit_2() {
    let dir = flyway_dir(&[("V1__orders.sql", V1)]);
    let store = tempfile::tempdir().unwrap();
    let shadow = shadow_url();
    // No live snapshot in the store.
    let spec = format!("store:{}/nobody@live", store.path().display());
    let out = driftwatch(&[
        "preflight",
        "--snapshot",
        &spec,
        "--migrations",
        dir.path().to_str().unwrap(),
        "--shadow-url",
        &shadow,
    ]);
    assert_one_line_error(&out, "holds no live snapshot for target nobody", "");
    // Not a live snapshot.
    let spec = format!("store:{}/shop@3", store.path().display());
    let out = driftwatch(&["preflight", "--snapshot", &spec, "--migrations", "x"]);
    assert_one_line_error(&out, "write store:NAME@live", "");
    // An empty migration directory is not "nothing pending".
    let empty = tempfile::tempdir().unwrap();
    let db = fresh_db().await;
    let out = driftwatch(&[
        "preflight",
        "--url",
        db.expose(),
        "--migrations",
        empty.path().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--shadow-url",
        &shadow,
    ]);
    assert_one_line_error(&out, "holds no migrations", "");
    // A password never shows.
    let out = driftwatch(&[
        "preflight",
        "--url",
        "postgres://app:s3cret-pw@127.0.0.1:1/app",
        "--migrations",
        dir.path().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
    ]);
    assert_one_line_error(&out, "127.0.0.1", "s3cret-pw");
}

/// The seed rebuilds a schema with owners, grants, policies, default
/// privileges and a role the target cluster does not have, on another
/// cluster: its capture, read with the migrating role, equals the source.
#[tokio::test]
async fn the_seed_rebuilds_a_schema_with_its_roles_on_another_cluster() {
    let source = fresh_db().await;
    exec(
        &source,
        r#"
        DO $$ BEGIN CREATE ROLE "dw seed reader"; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        CREATE SCHEMA app AUTHORIZATION dw_owner;
        CREATE TABLE app.accounts (id int PRIMARY KEY, owner_name text, "Odd ""name""" text);
        ALTER TABLE app.accounts OWNER TO dw_owner;
        CREATE TABLE app.audit (id int);
        ALTER TABLE app.audit OWNER TO dw_owner;
        CREATE TABLE app.notes (id int);
        ALTER TABLE app.notes OWNER TO "dw seed reader";
        ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
        CREATE POLICY mine ON app.accounts TO "dw seed reader", dw_reader USING (owner_name = current_user);
        GRANT USAGE ON SCHEMA app TO "dw seed reader";
        GRANT SELECT ON app.accounts TO "dw seed reader";
        GRANT SELECT (id) ON app.audit TO PUBLIC;
        CREATE INDEX accounts_owner ON app.accounts (owner_name);
        COMMENT ON TABLE app.accounts IS 'who; DROP TABLE x; --';
        "#,
    )
    .await;
    let snapshot = snap(&source).await;
    let (other, _) =
        driftwatch::shadow::Shadow::start(&Default::default()).expect("a second cluster");
    let db = other
        .replay_database("seedtest", false)
        .await
        .expect("replay database");
    let seeded = driftwatch::replay::seed(&db, &snapshot, "the test schema")
        .await
        .expect("seed");
    assert_eq!(seeded.migrating_role.as_deref(), Some("dw_owner"));
    assert!(
        seeded.created_roles.iter().any(|r| r == "dw seed reader"),
        "{:?}",
        seeded.created_roles
    );
    let rebuilt = snap(&db.url).await;
    let (rebuilt, live) = driftwatch::replay::owners::aligned(rebuilt, snapshot, true, false);
    let changes = driftwatch::diff::diff(&rebuilt, &live);
    let lines: Vec<String> = changes.iter().map(|c| c.summary()).collect();
    assert!(lines.is_empty(), "{lines:#?}");
}

/// Names from the database and the migration files reach every report
/// inert: no terminal control in the text, no markup in HTML, no table
/// broken in Markdown.
#[tokio::test]
async fn hostile_names_are_inert_in_every_format() {
    let index = "idx\u{1b}]8;;http://x\u{7}<b>|x</b>\u{202e}";
    let quoted = format!("\"{}\"", index.replace('"', "\"\""));
    let v2 = format!("CREATE INDEX {quoted} ON orders (created_at);\n");
    let dir = flyway_dir(&[("V1__orders.sql", V1), ("V2__hostile <i>.sql", &v2)]);
    let db = migrated(dir.path(), 1).await;
    exec(
        &db,
        &format!("CREATE INDEX {quoted} ON orders (created_at)"),
    )
    .await;
    let store = tempfile::tempdir().unwrap();
    for format in ["text", "markdown", "html", "json"] {
        let out = preflight_out(&db, dir.path(), store.path(), &["--format", format]);
        assert_code(&out, 1);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        // JSON is data: serde escapes C0 controls, other text stays as is
        // (as in every JSON report).
        if format != "json" {
            assert_inert(format, &text, false);
        }
        match format {
            "html" => {
                assert!(!text.contains("<b>") && !text.contains("<i>"), "{text}");
                assert!(text.contains("&lt;b&gt;"), "{text}");
            }
            "markdown" => {
                let row = text
                    .lines()
                    .find(|l| l.starts_with("| `2`"))
                    .unwrap_or_else(|| panic!("{text}"));
                assert_eq!(row.matches(" | ").count(), 4, "{row}");
            }
            "json" => {
                let report: Value = serde_json::from_str(&text).expect("json");
                let m = &report["migrations"][0];
                assert!(m["message"].as_str().unwrap().contains(index), "{m}");
                assert_eq!(
                    m["explained_by"].as_array().unwrap().len(),
                    1,
                    "{m} {}",
                    report["drift"]
                );
            }
            _ => {}
        }
    }
}

/// The fleet store `watch` replicas share: a check by hand keeps the live
/// snapshot there, and a preflight reads it back through the config, with
/// and without a connection to the target.
#[tokio::test]
async fn preflight_reads_a_fleet_store() {
    let dir = flyway_dir(&[("V1__orders.sql", V1), ("V2__orders_idx.sql", V2)]);
    let db = migrated(dir.path(), 1).await;
    exec(
        &db,
        "CREATE INDEX orders_created_idx ON orders (created_at)",
    )
    .await;
    let store_db = fresh_db().await;
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{}\"\n\n[[target]]\nname = \"shop\"\nurl = \"{}\"\nmigrations = \"{}\"\n",
            store_db.expose(),
            db.expose(),
            dir.path().display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let shadow = shadow_url();
    let out = driftwatch(&["check", "--config", cfg, "--shadow-url", &shadow]);
    assert_code(&out, 1);
    let kept = psql_rows(
        &store_db,
        "SELECT count(*) FROM driftwatch.files WHERE target = 'shop' AND path LIKE 'live/%'",
    );
    assert_eq!(kept, ["1"], "the live snapshot is in the fleet store");
    for extra in [&["--snapshot", "store:shop@live"][..], &[][..]] {
        let mut args = vec![
            "preflight",
            "--config",
            cfg,
            "--target",
            "shop",
            "--shadow-url",
            &shadow,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let (out, report) = run(&args);
        assert_code(&out, 1);
        assert_eq!(report["applied_version"], "1", "{extra:?}");
        let m = &report["migrations"][0];
        assert_eq!(m["outcome"], "fails", "{extra:?}");
        assert_eq!(
            m["explained_by"][0]["object"], "public.orders.orders_created_idx",
            "{extra:?}"
        );
    }
}

/// The shape of Harbor's golang-migrate history (goharbor/harbor,
/// make/migrations/postgresql): a pending migration alters the tool's own
/// `schema_migrations`, which the shadow must have as production does.
/// Then drift the server names only in its DETAIL (a hand-made view on a
/// column a pending migration re-types) or bare (a table handed to another
/// role), each failure explained by its finding; and `--applied` moves
/// "drift now" to the history's state at that version.
#[tokio::test]
async fn golang_migrate_history_table_view_detail_and_owner_explained() {
    let dir = flyway_dir(&[
        (
            "1_init.up.sql",
            "CREATE TABLE robot (id int PRIMARY KEY, name text);\nCREATE TABLE registry (id int PRIMARY KEY, url text);\nCREATE TABLE audit (id int);\n",
        ),
        ("1_init.down.sql", "DROP TABLE audit;\nDROP TABLE registry;\nDROP TABLE robot;\n"),
        (
            "2_history_column.up.sql",
            "ALTER TABLE schema_migrations ADD COLUMN data_version int;\n",
        ),
        (
            "3_robot_bigint.up.sql",
            "ALTER TABLE robot ALTER COLUMN id TYPE bigint;\n",
        ),
        (
            "4_registry_note.up.sql",
            "ALTER TABLE registry ADD COLUMN note text;\n",
        ),
    ]);
    let db = migrated(dir.path(), 1).await;
    let store = tempfile::tempdir().unwrap();
    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 0);
    let outcomes: Vec<&str> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applies", "applies", "applies"]);

    exec(
        &db,
        "CREATE VIEW robot_report AS SELECT id, name FROM robot",
    )
    .await;
    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 1);
    let m = &report["migrations"][1];
    assert_eq!(m["outcome"], "fails", "{m}");
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("robot_report depends on column"),
        "the server's DETAIL is shown: {m}"
    );
    let explained: Vec<&str> = m["explained_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["object"].as_str().unwrap())
        .collect();
    assert_eq!(explained, ["public.robot_report"]);
    assert_eq!(report["migrations"][2]["outcome"], "not-run");

    exec(
        &db,
        "DROP VIEW robot_report; ALTER TABLE registry OWNER TO dw_reader",
    )
    .await;
    let (out, report) = preflight(&db, dir.path(), store.path(), &[]);
    assert_code(&out, 1);
    let m = &report["migrations"][2];
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("must be owner of table registry"),
        "{m}"
    );
    assert_eq!(m["explained_by"][0]["object"], "public.registry", "{m}");
    assert!(
        m["explained_by"][0]["finding"]
            .as_str()
            .unwrap()
            .contains("owner"),
        "{m}"
    );

    // Told that 3 is applied, drift now is against the state after 3:
    // robot.id is still an integer here.
    exec(&db, "ALTER TABLE registry OWNER TO CURRENT_USER").await;
    let (out, report) = preflight(&db, dir.path(), store.path(), &["--applied", "3"]);
    assert_code(&out, 1);
    assert_eq!(report["applied_version"], "3");
    let drift: Vec<&str> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["object"].as_str().unwrap())
        .collect();
    assert!(drift.contains(&"public.robot.id"), "{drift:?}");
    assert_eq!(report["migrations"].as_array().unwrap().len(), 1);
}
