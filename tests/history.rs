//! `driftwatch history`: the history tables of every tool. Six are written
//! by the real tools (scripts/tools.sh installs them outside the repo); the
//! others are built from each tool's documented DDL (fixtures/history/).

mod common;

use common::*;
use driftwatch::catalog::DatabaseUrl;

fn history_json(url: &DatabaseUrl, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["history", url.expose(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = driftwatch(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON array")
}

fn history_text(url: &DatabaseUrl) -> String {
    let out = driftwatch(&["history", url.expose()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn field(rows: &serde_json::Value, key: &str) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap_or("null").to_string())
        .collect()
}

#[tokio::test]
async fn documented_history_tables_read_as_their_tools_write_them() {
    let mut all = serde_json::Map::new();
    let mut headers = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("fixtures/history"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "fixtures/history holds {} files",
        files.len()
    );
    for path in files {
        let db = fresh_db().await;
        psql_file(&db, &path);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        all.insert(name, history_json(&db, &[]));
        headers.push(history_text(&db).lines().next().unwrap().to_string());
    }
    insta::assert_snapshot!("documented_headers", headers.join("\n"));
    insta::assert_json_snapshot!("documented_histories", all);
}

/// Applies a tool's fixture set with the real tool.
fn apply_with_tool(tool: &str, url: &DatabaseUrl) {
    tools_sh(&["apply", tool, url.expose()]);
}

#[tokio::test]
async fn sqlx_history_matches_the_table_and_the_files_checksums() {
    let db = fresh_db().await;
    apply_with_tool("sqlx", &db);
    let rows = history_json(&db, &[]);
    let raw = psql_rows(
        &db,
        "SELECT version || '|' || description || '|' || encode(checksum, 'hex') || '|' || success FROM _sqlx_migrations ORDER BY version",
    );
    let ours: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}",
                r["version"].as_str().unwrap(),
                r["description"].as_str().unwrap(),
                r["checksum"].as_str().unwrap(),
                r["success"]
            )
        })
        .collect();
    assert_eq!(ours, raw);
    assert_eq!(ours.len(), 3);
    // The checksum driftwatch computes from each file is the one sqlx stored.
    let set =
        driftwatch::migrations::read(&repo().join("fixtures/tools/sqlx/migrations"), None).unwrap();
    assert_eq!(set.format, driftwatch::migrations::Format::Sqlx);
    let computed: Vec<String> = set.migrations.iter().map(|m| m.checksum.clone()).collect();
    assert_eq!(computed, field(&rows, "checksum"));
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["applied_at"].as_str().unwrap().ends_with('Z')));
}

#[tokio::test]
async fn dbmate_node_pg_migrate_and_knex_histories_match_their_tables() {
    for (tool, raw_sql, detected) in [
        (
            "dbmate",
            "SELECT version FROM schema_migrations ORDER BY version",
            "dbmate history in public.schema_migrations: 3 rows",
        ),
        (
            "node-pg-migrate",
            "SELECT name FROM pgmigrations ORDER BY run_on, id",
            "node-pg-migrate history in public.pgmigrations: 3 rows",
        ),
        (
            "knex",
            "SELECT name FROM knex_migrations ORDER BY id",
            "knex history in public.knex_migrations: 3 rows",
        ),
    ] {
        let db = fresh_db().await;
        apply_with_tool(tool, &db);
        let rows = history_json(&db, &[]);
        let raw = psql_rows(&db, raw_sql);
        assert_eq!(raw.len(), 3, "{tool}");
        let versions = field(&rows, "version");
        let descriptions = field(&rows, "description");
        for (i, name) in raw.iter().enumerate() {
            // Versions are the leading digits of what the tool stored, and
            // the description the rest (without knex's file extension).
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(versions[i], digits, "{tool}: {name}");
            if tool != "dbmate" {
                let rest = name[digits.len() + 1..].trim_end_matches(".js");
                assert_eq!(descriptions[i], rest, "{tool}: {name}");
            }
        }
        assert!(rows
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["success"] == true));
        assert_eq!(history_text(&db).lines().next().unwrap(), detected);
    }
}

#[tokio::test]
async fn alembic_and_django_histories_match_their_tables() {
    let db = fresh_db().await;
    apply_with_tool("alembic", &db);
    let rows = history_json(&db, &[]);
    assert_eq!(
        field(&rows, "version"),
        psql_rows(&db, "SELECT version_num FROM alembic_version")
    );
    assert!(history_text(&db).contains("keeps only the current version"));

    let db = fresh_db().await;
    apply_with_tool("django", &db);
    let rows = history_json(&db, &[]);
    let raw = psql_rows(
        &db,
        "SELECT app || '.' || name FROM django_migrations ORDER BY id",
    );
    assert_eq!(raw.len(), 3);
    assert_eq!(field(&rows, "version"), raw);
    assert!(field(&rows, "applied_at").iter().all(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn history_table_can_be_named_and_bad_input_gets_one_line() {
    // No history table at all.
    let db = fresh_db().await;
    let out = driftwatch(&["history", db.expose()]);
    assert_one_line_error(&out, "no migration history table found", "");

    // Two tools' tables: ambiguous until one is named.
    psql_file(&db, &repo().join("fixtures/history/flyway.sql"));
    psql_file(&db, &repo().join("fixtures/history/diesel.sql"));
    let out = driftwatch(&["history", db.expose()]);
    assert_one_line_error(&out, "several history tables", "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--history TOOL"), "{stderr}");
    let rows = history_json(&db, &["--history", "diesel"]);
    assert_eq!(rows.as_array().unwrap().len(), 4);

    // A table in another schema under another name.
    psql(
        &db,
        "CREATE SCHEMA ops; ALTER TABLE public.flyway_schema_history SET SCHEMA ops; \
         ALTER TABLE ops.flyway_schema_history RENAME TO deploys;",
    );
    let rows = history_json(
        &db,
        &["--history", "flyway", "--history-table", "ops.deploys"],
    );
    assert_eq!(field(&rows, "version")[1], "2");
    // Flyway's columns under another name are found by them; a tool whose
    // table is not there is one line.
    let rows = history_json(&db, &["--history", "flyway"]);
    assert_eq!(field(&rows, "version")[1], "2");
    let out = driftwatch(&["history", db.expose(), "--history", "sqlx"]);
    assert_one_line_error(
        &out,
        "no sqlx history table (_sqlx_migrations or another name)",
        "",
    );

    // Not a database; an unknown tool; a password never shows.
    let out = driftwatch(&["history", "fixtures/history"]);
    assert_one_line_error(&out, "history is read from a database", "");
    let out = driftwatch(&["history", db.expose(), "--history", "nosuchtool"]);
    assert_eq!(out.status.code(), Some(2));
    let out = driftwatch(&["history", "postgres://u:hunter2@127.0.0.1:1/x"]);
    assert_one_line_error(&out, "postgres://u:****@127.0.0.1:1/x", "hunter2");
}

#[tokio::test]
async fn history_against_the_files_finds_changed_missing_and_pending_migrations() {
    let db = fresh_db().await;
    apply_with_tool("sqlx", &db);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = repo().join("fixtures/tools/sqlx/migrations");
    let mut names: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    // The first file unchanged, the second edited after it ran, the third
    // gone, and a new one never applied.
    std::fs::copy(fixtures.join(&names[0]), dir.join(&names[0])).unwrap();
    let edited = std::fs::read_to_string(fixtures.join(&names[1])).unwrap() + "\n-- edited later\n";
    std::fs::write(dir.join(&names[1]), edited).unwrap();
    std::fs::write(dir.join("20250101000000_new_thing.sql"), "SELECT 1;\n").unwrap();

    let out = driftwatch(&[
        "history",
        db.expose(),
        "--migrations",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v2 = names[1].split('_').next().unwrap();
    let v3 = names[2].split('_').next().unwrap();
    assert!(
        stderr.contains(&format!("version {v2} was applied with checksum")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "public._sqlx_migrations has version {v3}, but no file"
        )),
        "{stderr}"
    );
    assert!(stdout.contains("ok, file changed since"), "{stdout}");
    assert!(stdout.contains("ok, no file"), "{stdout}");
    assert!(
        stdout.contains("pending: ") && stdout.contains("20250101000000_new_thing.sql"),
        "{stdout}"
    );

    let rows = history_json(&db, &["--migrations", dir.to_str().unwrap()]);
    assert_eq!(
        field(&rows, "file"),
        ["ok", "checksum-changed", "missing-file"]
    );

    // Histories whose rows do not name SQL files are refused with one line.
    let db = fresh_db().await;
    psql_file(&db, &repo().join("fixtures/history/liquibase.sql"));
    let out = driftwatch(&[
        "history",
        db.expose(),
        "--migrations",
        dir.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, "liquibase history rows do not name SQL files", "");
}
