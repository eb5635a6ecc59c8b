//! History as the tools mean it: golang-migrate's dirty version, Flyway's
//! outdated repeatables and non-SQL migrations, projects with a history
//! table of their own.

use super::*;

fn history(db: &str, dir: &str) -> Output {
    driftwatch(&["history", db, "--migrations", dir])
}

#[tokio::test]
async fn golang_migrate_dirty_at_n_means_n_failed_and_later_pending() {
    let db = fresh_db().await;
    exec(
        &db,
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, true);",
    )
    .await;
    let out = history(db.expose(), &fixture("migrations/golang_history_alter"));
    let stderr = ok(&out);
    let text = stdout(&out);
    assert!(stderr.contains("version 2 failed part-way"), "{stderr}");
    let pending: Vec<&str> = text.lines().filter(|l| l.starts_with("pending:")).collect();
    assert_eq!(pending.len(), 1, "{text}");
    assert!(
        pending[0].ends_with("000003_extend_alembic_version.up.sql"),
        "{text}"
    );
}

#[tokio::test]
async fn flyway_repeatables_are_outdated_and_java_migrations_need_no_file() {
    let db = fresh_db().await;
    psql_file(&db, &repo().join("fixtures/history_cases/flyway_java.sql"));
    let dir = fixture("migrations/flyway_java");
    // Flyway's checksum, computed apart from driftwatch's (tests/common/flyway.rs).
    let v1 = flyway::flyway_checksum(
        &std::fs::read_to_string(format!("{dir}/V1__accounts.sql")).unwrap(),
    );
    exec(
        &db,
        &format!("UPDATE flyway_schema_history SET checksum = {v1} WHERE version = '1'"),
    )
    .await;
    let out = history(db.expose(), &dir);
    let stderr = ok(&out);
    let text = stdout(&out);
    assert!(text.contains("outdated, will re-run"), "{text}");
    assert!(text.contains("applied by a non-SQL migration"), "{text}");
    assert!(!stderr.contains("must not change"), "{stderr}");
    assert!(!stderr.contains("restore the file"), "{stderr}");
    assert!(
        stderr.contains("it will re-run on the next migrate"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_history_table_of_the_projects_own_is_named_not_silently_missed() {
    let db = fresh_db().await;
    exec(
        &db,
        "CREATE TABLE schema_version (version int NOT NULL);
         CREATE TABLE schema_update_history (version int, applied timestamptz);
         CREATE TABLE accounts (id int);",
    )
    .await;
    let out = driftwatch(&["history", db.expose()]);
    assert_one_line_error(
        &out,
        "no known history table; tables that look like one: public.schema_update_history, public.schema_version; name it with --history-table",
        "",
    );
}

/// A golang-migrate project of its own: two migrations, and the same
/// schema applied to `db` as the tool would (without a history table: each
/// test writes the one it is about).
async fn golang_project(db: &driftwatch::catalog::DatabaseUrl) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "1_gatherings.up.sql",
            "CREATE TABLE gatherings (id bigint PRIMARY KEY, title text NOT NULL);\n",
        ),
        ("1_gatherings.down.sql", "DROP TABLE gatherings;\n"),
        (
            "2_gathering_details.up.sql",
            "CREATE TABLE gathering_details (gathering_id bigint REFERENCES gatherings (id), details jsonb);\n",
        ),
        ("2_gathering_details.down.sql", "DROP TABLE gathering_details;\n"),
    ];
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    exec(
        db,
        "CREATE TABLE gatherings (id bigint PRIMARY KEY, title text NOT NULL);
         CREATE TABLE gathering_details (gathering_id bigint REFERENCES gatherings (id), details jsonb);",
    )
    .await;
    dir
}

/// A data backup whose name has "migration" in it: not a history.
const BACKUP_TABLE: &str = "CREATE TABLE om_migration_backup_20260716150455_gathering_details
    (gathering_id bigint, details jsonb, backed_up_at timestamptz);";

/// A full scan with `check`: exit code and JSON report.
fn check_json(db: &str, dir: &Path, store: &Path) -> (i32, Value, String) {
    let out = run(&[
        "check",
        "--url",
        db,
        "--migrations",
        dir.to_str().unwrap(),
        "--name",
        "app",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

#[tokio::test]
async fn golang_migrates_table_under_another_name_is_found_by_its_columns() {
    let db = fresh_db().await;
    let dir = golang_project(&db).await;
    // golang-migrate's x-migrations-table=schema_om, and a backup table
    // whose name looks like a history.
    exec(
        &db,
        &format!(
            "CREATE TABLE schema_om (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
             INSERT INTO schema_om VALUES (2, false);
             {BACKUP_TABLE}"
        ),
    )
    .await;
    let out = driftwatch(&["history", db.expose()]);
    ok(&out);
    let text = stdout(&out);
    assert!(
        text.starts_with("golang-migrate history in public.schema_om"),
        "{text}"
    );

    let store = tempfile::tempdir().unwrap();
    let (code, report, stderr) = check_json(db.expose(), dir.path(), store.path());
    assert_eq!(
        report["history"], "golang-migrate (public.schema_om)",
        "{stderr}\n{report}"
    );
    assert_eq!(report["applied_version"], "2");
    assert_eq!(report["expected"]["from"], "replay", "{report}");
    // The history table is left out of the schema; the backup is a table
    // no migration made.
    assert_eq!(code, 1, "{stderr}\n{report}");
    assert_eq!(
        finding_lines(&report),
        ["table-added public.om_migration_backup_20260716150455_gathering_details out-of-band"]
    );
}

/// `code object attribution` per finding.
fn finding_lines(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{} {} {}",
                        f["code"].as_str().unwrap_or(""),
                        f["object"]["name"].as_str().unwrap_or(""),
                        f["attribution"]["by"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_directorys_layout_decides_between_two_tools_tables() {
    let db = fresh_db().await;
    let dir = golang_project(&db).await;
    // A project that once used Alembic and now golang-migrate.
    exec(
        &db,
        "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('ae1027a6acf');
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    )
    .await;
    let out = history(db.expose(), dir.path().to_str().unwrap());
    ok(&out);
    assert!(
        stdout(&out).starts_with("golang-migrate history in public.schema_migrations"),
        "{}",
        stdout(&out)
    );
    let store = tempfile::tempdir().unwrap();
    let (code, report, stderr) = check_json(db.expose(), dir.path(), store.path());
    assert_eq!(
        report["history"], "golang-migrate (public.schema_migrations)",
        "{stderr}\n{report}"
    );
    // The other tool's table is schema like any project table: no
    // migration in the directory made it.
    assert_eq!(code, 1, "{stderr}\n{report}");
    assert_eq!(
        finding_lines(&report),
        ["table-added public.alembic_version out-of-band"]
    );

    // Without a directory nothing tells them apart: one line, exit 2,
    // naming both and how to choose.
    let out = driftwatch(&["history", db.expose()]);
    assert_one_line_error(
        &out,
        "several history tables: alembic (public.alembic_version), golang-migrate (public.schema_migrations)",
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--history-table SCHEMA.TABLE"), "{stderr}");
    // A directory whose layout is neither tool's does not decide either.
    let flyway = tempfile::tempdir().unwrap();
    std::fs::write(flyway.path().join("V1__x.sql"), "SELECT 1;\n").unwrap();
    let out = history(db.expose(), flyway.path().to_str().unwrap());
    assert_one_line_error(
        &out,
        "the migration directory's layout (flyway) does not tell which",
        "",
    );
}

#[tokio::test]
async fn a_table_that_only_resembles_a_history_stays_a_suggestion() {
    let db = fresh_db().await;
    exec(
        &db,
        &format!(
            "CREATE TABLE schema_version (version int NOT NULL);
             CREATE TABLE deploy_versions (version bigint NOT NULL, dirty boolean NOT NULL, deployed_by text);
             {BACKUP_TABLE}"
        ),
    )
    .await;
    let out = driftwatch(&["history", db.expose()]);
    assert_one_line_error(
        &out,
        "no known history table; tables that look like one: public.deploy_versions, public.schema_version; name it with --history-table",
        "",
    );
}
