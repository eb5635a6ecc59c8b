//! `driftwatch diff` end to end against real databases: what counts as a
//! change, severities, renames, ignore rules, formats and exit codes.

mod common;

use common::*;
use serde_json::Value;

const BASE: &str = "
CREATE SCHEMA app;
CREATE SCHEMA audit;
CREATE TABLE app.orders (id int PRIMARY KEY, total numeric CHECK (total >= 0), note text, status text DEFAULT 'new');
CREATE INDEX orders_note_idx ON app.orders (lower(note)) WHERE status <> 'gone';
CREATE TABLE app.tmp_scratch (x int);
CREATE TABLE audit.log (id int);
CREATE VIEW app.open_orders AS SELECT id, total FROM app.orders WHERE status = 'new';
CREATE FUNCTION app.bump(i int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN i + 1; END $$;
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_mine ON app.orders USING (total > 0);
COMMENT ON TABLE app.orders IS 'orders';
";

async fn db_with(extra: &str) -> String {
    let db = fresh_db().await;
    exec(&db, BASE).await;
    if !extra.is_empty() {
        exec(&db, extra).await;
    }
    db.expose().to_string()
}

fn diff_json(from: &str, to: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["diff", from, to, "--format", "json"];
    args.extend_from_slice(extra);
    let out = driftwatch(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code().unwrap_or(-1);
    // A diff that answered (0 or 1) printed its report: output that is not
    // JSON is a failure here, not an empty report that negative assertions
    // would pass on. Only an error (2) leaves stdout empty.
    let json = match code {
        0 | 1 => serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "exit {code} without a JSON report ({e}): {}\nstderr: {stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        }),
        _ => Value::Null,
    };
    (code, json, stderr)
}

fn codes(report: &Value) -> Vec<String> {
    report["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "{} {} {}",
                        c["severity"].as_str().unwrap_or(""),
                        c["code"].as_str().unwrap_or(""),
                        c["object"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn identical_and_reformatted_schemas_have_no_differences() {
    let a = db_with("").await;
    // The same definitions written differently: whitespace, parentheses,
    // casts, comments, case. None of it is drift.
    let b_sql = BASE
        .replace(
            "CHECK (total >= 0)",
            "CHECK ((total)::numeric >= (0)::numeric)",
        )
        .replace("WHERE status = 'new'", "WHERE (status = 'new'::text)")
        .replace(
            "BEGIN RETURN i + 1; END",
            "\n  begin\n    -- add one\n    return i+1;\n  end\n",
        );
    let b = fresh_db().await;
    exec(&b, &b_sql).await;
    let (code, report, stderr) = diff_json(&a, b.expose(), &[]);
    assert_eq!(code, 0, "{stderr} {:?}", codes(&report));
    assert_eq!(report["summary"]["changes"], 0);
    let text = driftwatch(&["diff", &a, b.expose()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("No differences"));
}

#[tokio::test]
async fn drift_is_reported_with_codes_severities_and_renames() {
    let a = db_with("").await;
    let b = db_with(
        "GRANT SELECT ON app.orders TO PUBLIC;
         ALTER TABLE app.orders DISABLE ROW LEVEL SECURITY;
         DROP POLICY orders_mine ON app.orders;
         ALTER FUNCTION app.bump(int) SECURITY DEFINER;
         ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC;
         COMMENT ON TABLE app.orders IS 'all orders';
         ALTER TABLE app.orders ALTER COLUMN status SET DEFAULT 'open';
         ALTER TABLE app.orders ADD COLUMN placed_at timestamptz;
         ALTER TABLE app.orders RENAME COLUMN note TO remark;
         ALTER INDEX app.orders_note_idx RENAME TO orders_remark_idx;
         ALTER TABLE app.tmp_scratch RENAME TO tmp_renamed;
         CREATE OR REPLACE VIEW app.open_orders AS SELECT id, total FROM app.orders WHERE status = 'open';",
    )
    .await;
    let (code, report, stderr) = diff_json(&a, &b, &[]);
    assert_eq!(code, 1, "{stderr}");
    for change in report["changes"].as_array().unwrap() {
        for key in ["code", "severity", "object", "before", "after"] {
            assert!(change.get(key).is_some(), "{key} missing in {change}");
        }
    }
    insta::assert_snapshot!("drift_codes", codes(&report).join("\n"));
    assert_eq!(report["format"], "driftwatch.diff/1");

    // --fail-on critical still fails (there are critical changes); with the
    // critical ones ignored, warnings alone pass it.
    let (code, _, _) = diff_json(&a, &b, &["--fail-on", "critical"]);
    assert_eq!(code, 1);
    let (code, report, _) = diff_json(
        &a,
        &b,
        &[
            "--fail-on",
            "critical",
            "--ignore",
            "kind:privilege",
            "--ignore",
            "code:table-row-security-changed",
            "--ignore",
            "kind:policy",
            "--ignore",
            "code:function-security-definer-changed",
        ],
    );
    assert_eq!(code, 0, "{:?}", codes(&report));
    assert!(report["summary"]["warning"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn ignore_rules_filter_and_warn() {
    let a = db_with("").await;
    let b = db_with(
        "COMMENT ON TABLE app.orders IS 'changed';
         ALTER TABLE app.tmp_scratch ADD COLUMN y int;
         ALTER TABLE audit.log ADD COLUMN at timestamptz;",
    )
    .await;
    let (_, all, _) = diff_json(&a, &b, &[]);
    assert_eq!(all["summary"]["changes"], 3, "{:?}", codes(&all));
    let (code, report, stderr) = diff_json(
        &a,
        &b,
        &[
            "--ignore",
            "kind:comment",
            "--ignore",
            "table:app.tmp_*",
            "--ignore",
            "schema:audit",
            "--ignore",
            "view:nothing.like_this",
        ],
    );
    assert_eq!(code, 0, "{:?}", codes(&report));
    assert_eq!(report["summary"]["changes"], 0);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("view:nothing.like_this matched no change"),
        "{warnings}"
    );
    assert!(stderr.contains("matched no change"));

    let out = driftwatch(&["diff", &a, &b, "--ignore", "colour:red"]);
    assert_one_line_error(&out, "unknown ignore rule", "");
}

#[tokio::test]
async fn markdown_and_text_reports() {
    let a = db_with("").await;
    let b = db_with("ALTER TABLE app.orders ADD COLUMN placed_at timestamptz;").await;
    let md = driftwatch(&["diff", &a, &b, "--format", "markdown"]);
    let text = String::from_utf8_lossy(&md.stdout);
    assert_eq!(md.status.code(), Some(1));
    assert!(text.contains("### Schema drift: 1 change"), "{text}");
    assert!(
        text.contains("| 🟠 warning | `column-added` | `app.orders.placed_at` |"),
        "{text}"
    );
    assert!(text.contains("```diff"), "{text}");
    let plain = driftwatch(&["diff", &a, &b, "--color", "never"]);
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(
        text.contains("+ column app.orders.placed_at added"),
        "{text}"
    );
    assert!(
        text.contains("+    placed_at timestamp with time zone"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
    let color = driftwatch(&["diff", &a, &b, "--color", "always"]);
    assert!(String::from_utf8_lossy(&color.stdout).contains('\x1b'));
}

#[tokio::test]
async fn schema_files_and_migration_directories_are_sources() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("V1__schema.sql"),
        "CREATE SCHEMA app;\nCREATE TABLE app.t (id int PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("V2__name.sql"),
        "ALTER TABLE app.t ADD COLUMN name text;\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("V10__index.sql"),
        "CREATE INDEX t_name_idx ON app.t (name);\n",
    )
    .unwrap();
    std::fs::write(migrations.join("README.sql"), "-- not a migration\n").unwrap();
    let schema = dir.path().join("schema.sql");
    std::fs::write(&schema, "CREATE SCHEMA app;\nCREATE TABLE app.t (id int PRIMARY KEY, name text);\nCREATE INDEX t_name_idx ON app.t (name);\n").unwrap();

    let m = migrations.to_str().unwrap();
    let out = driftwatch(&["diff", m, schema.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Text reports carry their warnings at the top of the report.
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("README.sql: not a flyway migration file name"));

    let up_to_2 = format!("{m}@2");
    let (code, report, _) = diff_json(&up_to_2, schema.to_str().unwrap(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["warning index-added app.t.t_name_idx"]);

    let db = fresh_db().await;
    exec(
        &db,
        "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, name text);",
    )
    .await;
    let (code, report, _) = diff_json(m, db.expose(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&report),
        vec!["warning index-removed app.t.t_name_idx"]
    );

    let broken = dir.path().join("broken.sql");
    std::fs::write(
        &broken,
        "CREATE TABLE a (id int);\n\nCREATE TABLE b (id nosuchtype);\n",
    )
    .unwrap();
    let out = driftwatch(&["diff", broken.to_str().unwrap(), schema.to_str().unwrap()]);
    assert_one_line_error(
        &out,
        "broken.sql:3: statement failed: type \"nosuchtype\" does not exist",
        "",
    );

    let latin1 = dir.path().join("latin1.sql");
    std::fs::write(&latin1, b"COMMENT ON SCHEMA public IS 'caf\xe9';\n").unwrap();
    let out = driftwatch(&["diff", latin1.to_str().unwrap(), schema.to_str().unwrap()]);
    assert_one_line_error(&out, "is not UTF-8", "");
}

#[tokio::test]
async fn snapshots_of_different_major_versions_get_a_warning() {
    let db = fresh_db().await;
    exec(&db, BASE).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pg14.json");
    let out = driftwatch(&["snapshot", db.expose(), "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let mut snap: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    // The server's major, whichever it is, and another one for the file.
    let actual = snap["meta"]["server_version_num"].as_i64().unwrap() / 10000;
    let other = if actual == 14 { 13 } else { 14 };
    snap["meta"]["server_version_num"] = (other * 10000 + 11).into();
    std::fs::write(&file, snap.to_string()).unwrap();
    let (code, report, _) = diff_json(file.to_str().unwrap(), db.expose(), &[]);
    assert_eq!(code, 0);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "different PostgreSQL major versions ({other} and {actual})"
        )),
        "{warnings}"
    );
    // The same major on both sides: no warning.
    let (_, report, _) = diff_json(db.expose(), db.expose(), &[]);
    assert!(
        !report["warnings"].to_string().contains("major versions"),
        "{report}"
    );
}

/// Checks `value`'s keys against a JSON Schema object node: every required
/// key present, no key beyond `properties` (the schema forbids extras).
fn check_keys(schema: &Value, node: &str, value: &Value) {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let allowed: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let obj = value
        .as_object()
        .unwrap_or_else(|| panic!("{node}: not an object"));
    for r in required {
        assert!(obj.contains_key(r), "{node}: missing {r}");
    }
    for k in obj.keys() {
        assert!(
            allowed.contains(&k),
            "{node}: {k} is not in docs/report.schema.json"
        );
    }
}

#[tokio::test]
async fn json_reports_follow_the_documented_schema_and_codes_are_documented() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let a = db_with("").await;
    let b =
        db_with("GRANT SELECT ON app.orders TO PUBLIC; ALTER TABLE app.orders ADD COLUMN x int;")
            .await;
    let (_, report, _) = diff_json(&a, &b, &[]);
    check_keys(&schema, "report", &report);
    check_keys(
        &schema["properties"]["summary"],
        "summary",
        &report["summary"],
    );
    check_keys(&schema["$defs"]["side"], "from", &report["from"]);
    let kinds: Vec<&str> = schema["$defs"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!report["changes"].as_array().unwrap().is_empty());
    for change in report["changes"].as_array().unwrap() {
        check_keys(&schema["$defs"]["change"], "change", change);
        check_keys(
            &schema["$defs"]["change"]["properties"]["object"],
            "object",
            &change["object"],
        );
        assert!(kinds.contains(&change["object"]["kind"].as_str().unwrap()));
    }
    let doc = std::fs::read_to_string(repo().join("docs/changes.md")).unwrap();
    for kind in driftwatch::diff::ObjectKind::ALL {
        assert!(
            doc.contains(&format!("`{}`", kind.as_str())),
            "docs/changes.md lacks {}",
            kind.as_str()
        );
        assert!(
            kinds.contains(&kind.as_str()),
            "report.schema.json lacks {}",
            kind.as_str()
        );
    }
}

#[tokio::test]
async fn an_owner_change_is_one_change_and_a_dropped_table_is_one_change() {
    let a = db_with("").await;
    let b = db_with("ALTER TABLE app.orders OWNER TO dw_owner; DROP VIEW app.open_orders;").await;
    let (code, report, _) = diff_json(&a, &b, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&report),
        vec![
            "warning owner-changed app.orders",
            "warning view-removed app.open_orders"
        ]
    );
    // A role that had a grant and becomes the owner: one owner change.
    let d = db_with("GRANT SELECT ON app.orders TO dw_owner;").await;
    let e = db_with(
        "GRANT SELECT ON app.orders TO dw_owner; ALTER TABLE app.orders OWNER TO dw_owner;",
    )
    .await;
    let (_, report, _) = diff_json(&d, &e, &[]);
    assert_eq!(codes(&report), vec!["warning owner-changed app.orders"]);
    // A revoke from the owner itself is still seen.
    let c = db_with("REVOKE DELETE ON app.orders FROM postgres;").await;
    let (_, report, _) = diff_json(&a, &c, &[]);
    assert_eq!(codes(&report), vec!["warning privilege-revoked app.orders"]);
}

/// `diff --sql`: the migration from one database to another, its drops
/// commented out until allowed, JSON with hazards, exit 0 only when empty;
/// applied to the first database, it leaves nothing to report.
#[tokio::test]
async fn sql_prints_the_migration_that_makes_to_from_from() {
    let a = db_with("").await;
    let b = db_with(
        "ALTER TABLE app.orders DROP COLUMN note CASCADE;
         ALTER TABLE app.orders ADD COLUMN placed date;
         CREATE INDEX orders_placed ON app.orders (placed);
         GRANT SELECT ON app.orders TO PUBLIC;",
    )
    .await;
    let out = driftwatch(&["diff", &a, &a, "--sql"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    let out = driftwatch(&["diff", &a, &b, "--sql"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(sql.contains("SET lock_timeout = '3s';"), "{sql}");
    assert!(
        sql.contains("\nBEGIN;\n") && sql.ends_with("COMMIT;\n"),
        "{sql}"
    );
    assert!(
        sql.contains("-- hazard: deletes-data\n-- (not run: loses data; use --allow-drops)\n-- ALTER TABLE app.orders DROP COLUMN note;"),
        "{sql}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-drops"));

    let out = driftwatch(&["diff", &a, &b, "--sql", "--allow-drops", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statements = plan["statements"].as_array().unwrap();
    let drop = statements
        .iter()
        .find(|s| s["sql"] == "ALTER TABLE app.orders DROP COLUMN note;")
        .expect("the drop");
    assert_eq!(drop["hazards"], serde_json::json!(["deletes-data"]));
    assert_eq!(drop["enabled"], true);
    assert!(statements
        .iter()
        .any(|s| s["hazards"] == serde_json::json!(["index-build"])));

    // Applied to a, the migration leaves a equal to b.
    let out = driftwatch(&["diff", &a, &b, "--sql", "--allow-drops"]);
    apply_and_compare(&a, &b, &out.stdout);

    let out = driftwatch(&["diff", &a, &b, "--sql", "--ignore", "kind:comment"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Renames the differ proves are written as renames: nothing dropped,
/// nothing lost, and the result equals the target.
#[tokio::test]
async fn sql_renames_what_the_differ_proves_renamed() {
    let a = db_with("").await;
    let b = db_with(
        "ALTER TABLE app.tmp_scratch RENAME TO scratch;
         ALTER INDEX app.orders_note_idx RENAME TO orders_lower_note_idx;
         ALTER TABLE app.orders RENAME COLUMN note TO remark;",
    )
    .await;
    let out = driftwatch(&["diff", &a, &b, "--sql"]);
    assert_eq!(out.status.code(), Some(1));
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    for rename in [
        "ALTER TABLE app.tmp_scratch RENAME TO scratch;",
        "ALTER INDEX app.orders_note_idx RENAME TO orders_lower_note_idx;",
        "ALTER TABLE app.orders RENAME COLUMN note TO remark;",
    ] {
        assert!(sql.contains(rename), "{rename} missing from:\n{sql}");
    }
    assert!(
        !sql.contains("DROP TABLE") && !sql.contains("DROP COLUMN"),
        "{sql}"
    );
    apply_and_compare(&a, &b, sql.as_bytes());
}

/// `diff schema.sql URL` with `tmpdir` as TMPDIR (None: unset): the data
/// directory of the shadow cluster, which the schema file writes into a
/// comment that the diff then reports.
fn shadow_data_directory(
    live: &str,
    schema: &std::path::Path,
    tmpdir: Option<&std::path::Path>,
) -> std::path::PathBuf {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"));
    // data_directory is a superuser's to read: this schema file is trusted.
    cmd.args(["diff", schema.to_str().unwrap(), live, "--format", "json"])
        .arg("--shadow-superuser")
        .env_remove("DRIFTWATCH_SHADOW_URL");
    match tmpdir {
        Some(dir) => cmd.env("TMPDIR", dir),
        None => cmd.env_remove("TMPDIR"),
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = stdout
        .find("DW_DATA=")
        .expect("the comment is in the report")
        + "DW_DATA=".len();
    let end = start + stdout[start..].find(';').expect("end of the path");
    std::path::PathBuf::from(&stdout[start..end])
}

#[tokio::test]
async fn a_schema_file_shadow_runs_in_a_private_dir_and_leaves_nothing_behind() {
    let live = fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.sql");
    std::fs::write(
        &schema,
        "CREATE SCHEMA app;\nDO $$ BEGIN EXECUTE format('COMMENT ON SCHEMA app IS %L', 'DW_DATA=' || current_setting('data_directory') || ';'); END $$;\n",
    )
    .unwrap();
    exec(&live, "CREATE SCHEMA app;").await;

    // Under a given TMPDIR (the server runs as another user when we are
    // root, and must reach it).
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    for d in [dir.path(), tmp.as_path()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let data = shadow_data_directory(live.expose(), &schema, Some(&tmp));
    let base = data.parent().unwrap();
    assert_eq!(base.parent().unwrap(), tmp, "{}", data.display());
    // Stopped at once and removed before the command returned: no server
    // process, no directory.
    assert!(!base.exists(), "{} outlived the command", base.display());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let left = common::processes_mentioning(&base.display().to_string());
    assert!(left.is_empty(), "server processes left behind: {left:?}");

    // Without TMPDIR (removed for the child, whatever this process has): a
    // roomy tmpfs (/dev/shm) when there is one.
    let data = shadow_data_directory(live.expose(), &schema, None);
    let base = data.parent().unwrap();
    assert_eq!(base.parent().unwrap(), root_without_tmpdir());
    assert!(!base.exists(), "{} outlived the command", base.display());
    let left = common::processes_mentioning(&base.display().to_string());
    assert!(left.is_empty(), "server processes left behind: {left:?}");
}

/// Where a private cluster goes when TMPDIR is unset, worked out here
/// from the rule the README states (not from `shadow::temp_root`, which
/// reads this process's TMPDIR): `/dev/shm` when it is a tmpfs with at
/// least 1 GiB free that we may write, else `/tmp`.
fn root_without_tmpdir() -> std::path::PathBuf {
    use nix::sys::statfs::{statfs, TMPFS_MAGIC};
    let shm = std::path::Path::new("/dev/shm");
    let roomy = statfs(shm).is_ok_and(|fs| {
        fs.filesystem_type() == TMPFS_MAGIC
            && fs.blocks_available() as u128 * fs.block_size() as u128 >= 1 << 30
    });
    let writable = nix::unistd::access(shm, nix::unistd::AccessFlags::W_OK).is_ok();
    if roomy && writable {
        shm.to_path_buf()
    } else {
        std::path::PathBuf::from("/tmp")
    }
}

#[tokio::test]
async fn a_private_clusters_postgres_database_is_the_first_scratch_database() {
    use driftwatch::shadow::{Cluster, ClusterOptions, Shadow};
    // The binary's shared cluster when it is a private one; under
    // DRIFTWATCH_SHADOW_URL (a server given, not started) a private
    // cluster of the test's own, so the test proves the same either way.
    let own;
    let shadow = match shadow() {
        local @ Shadow::Local(_) => local,
        Shadow::External(_) => {
            own = Shadow::Local(Cluster::start(ClusterOptions::default()).expect("cluster"));
            &own
        }
    };
    let Shadow::Local(cluster) = shadow else {
        unreachable!("a private cluster")
    };
    // Every scratch database starts empty; the first one is the
    // cluster's own `postgres` database (no CREATE DATABASE), which
    // discard leaves alone: it goes with the cluster.
    let first = shadow.replay_database("scratch", false).await.unwrap();
    assert_eq!(first.url.database_name().as_deref(), Some("postgres"));
    let second = shadow.replay_database("scratch", false).await.unwrap();
    assert_ne!(second.url.expose(), first.url.expose());
    let empty = snap(&first.url).await;
    assert_eq!(objects_json(&empty), objects_json(&snap(&second.url).await));
    shadow.discard(&second).await.unwrap();
    shadow.discard(&first).await.unwrap();
    let first = cluster.url("postgres");
    assert_eq!(psql_rows(&first, "SELECT 1"), ["1"]);
    assert!(
        psql_rows(
            &first,
            "SELECT datname FROM pg_database WHERE datname LIKE 'scratch%'"
        )
        .is_empty(),
        "the fresh one is dropped"
    );
}

/// Widenings keep every value: `diff --sql` runs them without
/// `--allow-drops` (integer → bigint flagged as a rewrite), keeps their
/// defaults, and converges; a narrowing stays commented out.
#[tokio::test]
async fn sql_runs_widenings_and_holds_back_narrowings() {
    let narrow = "CREATE TABLE w (
        name varchar(50) DEFAULT 'x', small smallint DEFAULT 0, n int DEFAULT 0,
        note varchar(20), amount numeric(10,2), ids int[], cut varchar(100));";
    let wide = "CREATE TABLE w (
        name varchar(100) DEFAULT 'x', small integer DEFAULT 0, n bigint DEFAULT 0,
        note text, amount numeric(12,2), ids bigint[], cut varchar(50));";
    let a = fresh_db().await;
    exec(&a, narrow).await;
    let b = fresh_db().await;
    exec(&b, wide).await;
    let out = driftwatch(&["diff", a.expose(), b.expose(), "--sql"]);
    assert_eq!(out.status.code(), Some(1));
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    for run in [
        "\nALTER TABLE public.w ALTER COLUMN name TYPE character varying(100);",
        "\nALTER TABLE public.w ALTER COLUMN note TYPE text;",
        "\nALTER TABLE public.w ALTER COLUMN amount TYPE numeric(12,2);",
        "-- hazard: rewrites-table\nALTER TABLE public.w ALTER COLUMN n TYPE bigint;",
        "-- hazard: rewrites-table\nALTER TABLE public.w ALTER COLUMN ids TYPE bigint[];",
    ] {
        assert!(sql.contains(run), "{run:?} not run in:\n{sql}");
    }
    assert!(
        sql.contains("-- hazard: changes-type\n-- (not run: loses data; use --allow-drops)\n-- ALTER TABLE public.w ALTER COLUMN cut TYPE"),
        "{sql}"
    );
    assert!(!sql.contains("DROP DEFAULT"), "{sql}");
    // With the narrowing allowed too, the result equals b.
    let out = driftwatch(&["diff", a.expose(), b.expose(), "--sql", "--allow-drops"]);
    apply_and_compare(a.expose(), b.expose(), &out.stdout);
}

/// What may lose values is written commented out until `--allow-drops`: a
/// narrowing and a cast between kinds (`changes-type`), a generated column
/// made plain (`drops-generation`). Without the flag the script, applied,
/// leaves the database as it was; with it, those statements run and the
/// result equals the target.
#[tokio::test]
async fn sql_holds_back_type_changes_and_dropped_generations_until_allowed() {
    let a = fresh_db().await;
    exec(
        &a,
        "CREATE TABLE h (n int, code varchar(100), qty text,
            twice int GENERATED ALWAYS AS (n * 2) STORED);",
    )
    .await;
    let b = fresh_db().await;
    exec(
        &b,
        "CREATE TABLE h (n int, code varchar(20), qty integer, twice int);",
    )
    .await;
    let out = driftwatch(&["diff", a.expose(), b.expose(), "--sql"]);
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{sql}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let held =
        "\n-- (not run: loses data; use --allow-drops)\n-- ALTER TABLE public.h ALTER COLUMN";
    for (hazard, statement) in [
        ("drops-generation", "twice DROP EXPRESSION;"),
        ("changes-type", "code TYPE character varying(20)"),
        ("changes-type", "qty TYPE integer"),
    ] {
        let wanted = format!("-- hazard: {hazard}{held} {statement}");
        assert!(sql.contains(&wanted), "{wanted:?} not held back in:\n{sql}");
    }
    // Nothing that touches the table runs.
    let running: Vec<&str> = sql
        .lines()
        .filter(|l| l.contains("public.h") && !l.starts_with("--"))
        .collect();
    assert!(running.is_empty(), "{running:?} in:\n{sql}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-drops"));
    // Applied as written, it changes nothing.
    let before = objects_json(&snap(&a).await);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &sql).unwrap();
    psql_file(&a, file.path());
    assert_eq!(objects_json(&snap(&a).await), before, "{sql}");

    // The JSON plan says the same: the three statements are disabled, and
    // enabled with --allow-drops.
    let held_back = |flags: &[&str]| -> Vec<(String, bool)> {
        let mut args = vec!["diff", a.expose(), b.expose(), "--sql", "--format", "json"];
        args.extend_from_slice(flags);
        let out = driftwatch(&args);
        assert_eq!(out.status.code(), Some(1), "{flags:?}");
        let plan: Value = serde_json::from_slice(&out.stdout).expect("a JSON plan");
        plan["statements"]
            .as_array()
            .expect("statements")
            .iter()
            .filter(|s| {
                s["hazards"].as_array().is_some_and(|h| {
                    h.iter()
                        .any(|h| h == "changes-type" || h == "drops-generation")
                })
            })
            .map(|s| (s["sql"].as_str().unwrap().to_string(), s["enabled"] == true))
            .collect()
    };
    let without = held_back(&[]);
    assert_eq!(without.len(), 3, "{without:?}");
    assert!(without.iter().all(|(_, enabled)| !enabled), "{without:?}");
    let with = held_back(&["--allow-drops"]);
    assert_eq!(
        with.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        without.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    assert!(with.iter().all(|(_, enabled)| *enabled), "{with:?}");

    // Allowed, they run, and the result equals b.
    let out = driftwatch(&["diff", a.expose(), b.expose(), "--sql", "--allow-drops"]);
    assert_eq!(out.status.code(), Some(1));
    apply_and_compare(a.expose(), b.expose(), &out.stdout);
}

/// A foreign key whose triggers were disabled (a bulk load's `DISABLE
/// TRIGGER ALL` never undone) no longer holds: critical drift, said in
/// those words; the migration back re-adds the key, enforced.
#[tokio::test]
async fn a_foreign_key_with_disabled_triggers_is_reported_not_enforced() {
    let schema = "CREATE TABLE parent (id int PRIMARY KEY);
        CREATE TABLE child (id int, parent_id int CONSTRAINT child_parent_fk REFERENCES parent);";
    let a = fresh_db().await;
    exec(&a, schema).await;
    let b = fresh_db().await;
    exec(&b, schema).await;
    exec(&b, "ALTER TABLE child DISABLE TRIGGER ALL").await;
    let (code, report, stderr) = diff_json(a.expose(), b.expose(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        codes(&report),
        ["critical constraint-triggers-disabled-changed public.child.child_parent_fk"]
    );
    let out = driftwatch(&["diff", a.expose(), b.expose()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("not enforced (its triggers are disabled)"),
        "{text}"
    );
    // Disabling on the referenced side counts too.
    let c = fresh_db().await;
    exec(&c, schema).await;
    exec(&c, "ALTER TABLE parent DISABLE TRIGGER ALL").await;
    let (code, report, _) = diff_json(a.expose(), c.expose(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&report).len(), 1, "{report}");

    let out = driftwatch(&["diff", b.expose(), a.expose(), "--sql"]);
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(sql.contains("ADD CONSTRAINT child_parent_fk"), "{sql}");
    apply_and_compare(b.expose(), a.expose(), sql.as_bytes());
}

/// `c IN ('a', 'b')` on a varchar column prints as a cast array, and that
/// text, run again, prints as an array of casts: the migration driftwatch
/// writes from it gives a database it finds equal, for every kind of
/// expression that reaches the planner through a deparser.
#[tokio::test]
async fn in_lists_on_varchar_round_trip_through_the_planner() {
    let a = fresh_db().await;
    exec(
        &a,
        "CREATE TABLE t (
            id int PRIMARY KEY,
            status varchar(10) DEFAULT 'new' CHECK (status IN ('new', 'paid')),
            paid boolean GENERATED ALWAYS AS (status IN ('paid', 'done')) STORED);
         CREATE INDEX t_open ON t (id) WHERE status IN ('new', 'open');
         CREATE INDEX t_expr ON t ((status IN ('x', 'y')));
         ALTER TABLE t ENABLE ROW LEVEL SECURITY;
         CREATE POLICY t_mine ON t USING (status IN ('new', 'paid'));
         CREATE VIEW t_new AS SELECT id FROM t WHERE status IN ('new', 'late');
         CREATE FUNCTION t_stamp() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER t_stamp BEFORE UPDATE ON t FOR EACH ROW
             WHEN (NEW.status IN ('a', 'b')) EXECUTE FUNCTION t_stamp();",
    )
    .await;
    let empty = fresh_db().await;
    let out = driftwatch(&["diff", empty.expose(), a.expose(), "--sql"]);
    assert_eq!(out.status.code(), Some(1));
    apply_and_compare(empty.expose(), a.expose(), &out.stdout);
    // And once more from the database the migration produced.
    let again = fresh_db().await;
    let out = driftwatch(&["diff", again.expose(), empty.expose(), "--sql"]);
    apply_and_compare(again.expose(), a.expose(), &out.stdout);
}

/// The differ names the owner's own ACL entry `OWNER` (an owner change is
/// one finding, not a grant and a revoke). A role literally named OWNER is
/// another grantee: a GRANT to it is drift, not the owner's own privileges.
#[tokio::test]
async fn a_role_named_owner_is_not_the_objects_owner() {
    let role =
        "DO $$ BEGIN CREATE ROLE \"OWNER\"; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         DO $$ BEGIN CREATE ROLE reporting; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         GRANT SELECT ON app.orders TO reporting;";
    let a = db_with(role).await;
    let b = db_with(&format!("{role}\nGRANT ALL ON app.orders TO \"OWNER\";")).await;
    let (code, report, stderr) = diff_json(&a, &b, &[]);
    assert_eq!(
        code, 1,
        "a GRANT ALL to role OWNER went unseen: {stderr}\n{report}"
    );
    assert_eq!(codes(&report), ["critical privilege-granted app.orders"]);
    assert_eq!(
        report["changes"][0]["after"]["grantee"], "\"OWNER\"",
        "{report}"
    );
    let out = driftwatch(&["diff", &a, &b, "--sql"]);
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(sql.contains("TO \"OWNER\";"), "{sql}");
    apply_and_compare(&a, &b, sql.as_bytes());
}

/// Default privileges are planned through a placeholder object (`ON § §`);
/// a grantee whose name holds the placeholder's text keeps its name.
#[tokio::test]
async fn default_privileges_for_a_role_named_like_the_placeholder() {
    let role = "DO $$ BEGIN CREATE ROLE \"odd ON § § name\"; \
                EXCEPTION WHEN duplicate_object THEN NULL; END $$;";
    let a = db_with(role).await;
    let b = db_with(&format!(
        "{role}\nALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO \"odd ON § § name\";"
    ))
    .await;
    let out = driftwatch(&["diff", &a, &b, "--sql"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        sql.contains("GRANT SELECT ON TABLES TO \"odd ON § § name\";"),
        "{sql}"
    );
    apply_and_compare(&a, &b, sql.as_bytes());
}

/// A role literally named PUBLIC (`CREATE ROLE "PUBLIC"`) is not the PUBLIC
/// pseudo-role: the snapshot tells them apart, swapping them is a change,
/// and the planner's GRANT/REVOKE (`TO PUBLIC` vs `TO "PUBLIC"`), applied
/// with psql, converges.
#[tokio::test]
async fn a_role_named_public_is_not_the_public_pseudo_role() {
    let role =
        "DO $$ BEGIN CREATE ROLE \"PUBLIC\"; EXCEPTION WHEN duplicate_object THEN NULL; END $$;";
    let a = db_with(&format!(
        "{role}
         GRANT SELECT ON app.orders TO PUBLIC;
         GRANT SELECT ON audit.log TO \"PUBLIC\";
         ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC;
         CREATE POLICY everyone ON app.orders TO PUBLIC USING (true);
         CREATE FOREIGN DATA WRAPPER nowhere;
         CREATE SERVER elsewhere FOREIGN DATA WRAPPER nowhere;
         CREATE USER MAPPING FOR PUBLIC SERVER elsewhere;"
    ))
    .await;
    let b = db_with(&format!(
        "{role}
         GRANT SELECT ON app.orders TO \"PUBLIC\";
         GRANT SELECT ON audit.log TO PUBLIC;
         ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO \"PUBLIC\";
         CREATE POLICY everyone ON app.orders TO \"PUBLIC\" USING (true);
         CREATE FOREIGN DATA WRAPPER nowhere;
         CREATE SERVER elsewhere FOREIGN DATA WRAPPER nowhere;
         CREATE USER MAPPING FOR \"PUBLIC\" SERVER elsewhere;"
    ))
    .await;

    let out = driftwatch(&["snapshot", &a]);
    let snapshot: Value = serde_json::from_slice(&out.stdout).expect("a snapshot");
    let acl_of = |name: &str| -> Vec<String> {
        snapshot["objects"]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["acl"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["privileges"] == serde_json::json!(["SELECT"]))
            .map(|g| g["grantee"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(acl_of("orders"), ["PUBLIC"]);
    assert_eq!(acl_of("log"), ["\"PUBLIC\""]);

    let (code, report, stderr) = diff_json(&a, &b, &[]);
    assert_eq!(code, 1, "{stderr}");
    let mut seen = codes(&report);
    seen.sort();
    assert_eq!(
        seen,
        [
            "critical privilege-granted app.orders",
            "critical privilege-granted audit.log",
            "critical privilege-granted for role postgres in schema app on tables",
            "warning foreign-server-user-mappings-changed elsewhere",
            "warning policy-roles-changed app.orders.everyone",
            "warning privilege-revoked app.orders",
            "warning privilege-revoked audit.log",
            "warning privilege-revoked for role postgres in schema app on tables",
        ]
    );

    let out = driftwatch(&["diff", &a, &b, "--sql"]);
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    for line in [
        "REVOKE SELECT ON TABLE app.orders FROM PUBLIC;",
        "GRANT SELECT ON TABLE app.orders TO \"PUBLIC\";",
        "REVOKE SELECT ON TABLE audit.log FROM \"PUBLIC\";",
        "GRANT SELECT ON TABLE audit.log TO PUBLIC;",
        "TO \"PUBLIC\" USING (true);",
        "CREATE USER MAPPING FOR \"PUBLIC\" SERVER elsewhere;",
    ] {
        assert!(sql.contains(line), "{line} missing from:\n{sql}");
    }
    assert!(
        sql.contains("IN SCHEMA app REVOKE SELECT ON TABLES FROM PUBLIC;")
            && sql.contains("IN SCHEMA app GRANT SELECT ON TABLES TO \"PUBLIC\";"),
        "{sql}"
    );
    apply_and_compare(&a, &b, sql.as_bytes());
}
