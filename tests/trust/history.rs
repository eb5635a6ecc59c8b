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
