//! Hostile database text (fixtures/schemas/hostile.sql): the migrations
//! driftwatch writes from it (`diff --sql` both ways, with and without
//! `--allow-drops`, and `baseline --write-migration`), applied with psql,
//! run none of the payloads and converge; reports show its names without a
//! raw control character.

mod common;

use common::*;
use driftwatch::catalog::DatabaseUrl;

/// A fresh database holding the hostile fixture.
async fn hostile_db() -> DatabaseUrl {
    let db = fresh_db().await;
    psql_file(&db, &repo().join("fixtures/schemas/hostile.sql"));
    db
}

/// What a payload of the fixture would have created, had it run.
fn canaries(db: &DatabaseUrl) -> Vec<String> {
    psql_rows(
        db,
        "SELECT relname FROM pg_class WHERE relname ~ '^canary[0-9]+$'
         UNION ALL SELECT proname FROM pg_proc WHERE proname = 'canary_f'",
    )
}

/// `diff FROM TO --sql EXTRA…`: the migration, which must exist (exit 1)
/// and set standard_conforming_strings first.
fn migration(from: &DatabaseUrl, to: &DatabaseUrl, extra: &[&str]) -> String {
    let mut args = vec!["diff", from.expose(), to.expose(), "--sql"];
    args.extend_from_slice(extra);
    let out = driftwatch(&args);
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{sql}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_setting = sql.lines().find(|l| !l.starts_with("--"));
    assert_eq!(
        first_setting,
        Some("SET standard_conforming_strings = on;"),
        "{sql}"
    );
    sql
}

/// Applies `sql` to `db` with psql, stopping at the first error, and
/// asserts that no payload ran, then that the SQL holds no raw control
/// character (a terminal showing it would hide or rewrite lines).
fn apply(db: &DatabaseUrl, sql: &str) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), sql).unwrap();
    psql_file(db, file.path());
    assert_eq!(canaries(db), Vec::<String>::new(), "a payload ran:\n{sql}");
    assert_inert("migration SQL", sql, false);
}

/// `diff A B` finds nothing.
fn assert_same(a: &DatabaseUrl, b: &DatabaseUrl) {
    let out = driftwatch(&["diff", a.expose(), b.expose()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_fixture_itself_runs_no_payload() {
    let db = hostile_db().await;
    assert_eq!(canaries(&db), Vec::<String>::new());
    let tables = psql_rows(&db, "SELECT count(*) FROM pg_class WHERE relname ~ '\r'");
    assert_ne!(tables, ["0"], "names with CR exist");
}

#[tokio::test]
async fn creating_the_hostile_schema_runs_no_payload_and_converges() {
    let empty = fresh_db().await;
    let hostile = hostile_db().await;
    let sql = migration(&empty, &hostile, &[]);
    apply(&empty, &sql);
    assert_same(&empty, &hostile);
}

#[tokio::test]
async fn dropping_it_runs_no_payload_with_or_without_allow_drops() {
    let empty = fresh_db().await;
    let hostile = hostile_db().await;
    // Drops written commented out: the comments hide every payload.
    let sql = migration(&hostile, &empty, &[]);
    assert!(sql.contains("-- (not run: loses data"), "{sql}");
    apply(&hostile, &sql);
    let sql = migration(&hostile, &empty, &["--allow-drops"]);
    apply(&hostile, &sql);
    assert_same(&hostile, &empty);
}

/// The fixture with its hostile texts changed to other hostile texts.
const CHANGED: &str = r#"
COMMENT ON TABLE U&"s\000D;CREATE TABLE canary2();--".U&"t\000D;CREATE TABLE canary3();--"
    IS E'now\r\nCREATE TABLE canary30(); -- \u001b]0;title\u0007';
ALTER TABLE U&"s\000D;CREATE TABLE canary2();--".U&"t\000D;CREATE TABLE canary3();--"
    DROP COLUMN U&"bidi\202Egnp.exe",
    ADD COLUMN U&"n\000D;CREATE TABLE canary31();--" text DEFAULT E'\r'';CREATE TABLE canary32();--';
ALTER TYPE public.U&"mood\000D" ADD VALUE E'\r;CREATE TABLE canary33();--';
CREATE OR REPLACE FUNCTION public.ends_in_tag() RETURNS int LANGUAGE sql AS $f$select 2 as y$body1$f$;
ALTER FUNCTION public.evil_set() SET "x.other_search_path" = E'a\r; CREATE TABLE canary34(); --';
DROP VIEW public.U&"v\000D;CREATE TABLE canary21();--";
REVOKE SELECT ON public.plain FROM U&"r\000D;CREATE TABLE canary1();--";
"#;

#[tokio::test]
async fn altering_it_both_ways_runs_no_payload_and_converges() {
    let before = hostile_db().await;
    let after = hostile_db().await;
    psql(&after, CHANGED);
    let sql = migration(&before, &after, &[]);
    apply(&before, &sql);
    let sql = migration(&before, &after, &["--allow-drops"]);
    apply(&before, &sql);
    assert_same(&before, &after);

    let back = hostile_db().await;
    let changed = hostile_db().await;
    psql(&changed, CHANGED);
    let sql = migration(&changed, &back, &[]);
    apply(&changed, &sql);
    let sql = migration(&changed, &back, &["--allow-drops"]);
    apply(&changed, &sql);
    // A column dropped and added back comes last (column order is info,
    // and --reorder-columns would rebuild the table): all else is equal.
    let out = driftwatch(&[
        "diff",
        changed.expose(),
        back.expose(),
        "--ignore",
        "kind:column-order",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn reports_show_hostile_names_without_raw_controls() {
    let empty = fresh_db().await;
    let hostile = hostile_db().await;
    // JSON is data for programs: serde escapes C0 controls in strings and
    // leaves other characters as they are, as the format says.
    for format in ["text", "markdown"] {
        let out = driftwatch(&[
            "diff",
            empty.expose(),
            hostile.expose(),
            "--format",
            format,
            "--color",
            "always",
        ]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        // --color always: driftwatch's own ESC [ … m colours only.
        assert_inert(format, &text, true);
    }
}

/// `baseline --write-migration`: the accepted hostile schema becomes a
/// Flyway migration whose header holds the hostile reason and --by; a fresh
/// database migrated with it runs no payload and equals the live one.
#[tokio::test]
async fn a_baseline_migration_of_the_hostile_schema_runs_no_payload() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("V1__init.sql"),
        "CREATE TABLE base (id int);\n",
    )
    .unwrap();
    let live = fresh_db().await;
    common::flyway::migrate(&live, dir.path()).await;
    psql_file(&live, &repo().join("fixtures/schemas/hostile.sql"));
    let store = tempfile::tempdir().unwrap();
    let config = store.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n\n[[target]]\nname = \"t\"\nurl = \"{}\"\nmigrations = \"{}\"\nformat = \"flyway\"\n",
            store.path().display(),
            live.expose(),
            dir.path().display()
        ),
    )
    .unwrap();
    let out = driftwatch(&[
        "baseline",
        "--config",
        &config.display().to_string(),
        "--reason",
        "accept\r;CREATE TABLE canary40();--\u{1b}[2J",
        "--by",
        "dba\nCREATE TABLE canary41();",
        "--yes",
        "--write-migration",
        "--shadow-url",
        shadow().admin_url().expose(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with("V1__init.sql"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let sql = std::fs::read_to_string(&written[0]).unwrap();
    assert_inert("baseline migration", &sql, false);
    assert!(sql.starts_with("-- driftwatch baseline of t at "), "{sql}");

    let fresh = fresh_db().await;
    common::flyway::migrate(&fresh, dir.path()).await;
    assert_eq!(canaries(&fresh), Vec::<String>::new(), "{sql}");
    let out = driftwatch(&[
        "diff",
        fresh.expose(),
        live.expose(),
        "--ignore",
        "table:public.flyway_schema_history",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
