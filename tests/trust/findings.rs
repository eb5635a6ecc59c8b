//! One change, one finding (partitioned indexes, DETACH PARTITION, default
//! privileges, the grants a new object gets by default) and readable
//! findings (changed fields, flags as words, headers, hand-edited files).

use super::*;

const BASE: &str = "
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int, parent_id int CONSTRAINT child_parent_fk REFERENCES parent (id));
CREATE TABLE m (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE m_2026 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE m ADD CONSTRAINT m_id_check CHECK (id > 0);
";

async fn db(extra: &str) -> String {
    let db = fresh_db().await;
    exec(&db, BASE).await;
    if !extra.is_empty() {
        exec(&db, extra).await;
    }
    db.expose().to_string()
}

#[tokio::test]
async fn one_statement_is_one_finding() {
    let base = db("").await;
    let cases = [
        (
            "CREATE INDEX m_at_idx ON m (at);",
            vec!["warning index-added public.m.m_at_idx"],
        ),
        (
            "ALTER TABLE m DETACH PARTITION m_2026;",
            vec!["warning table-partition-of-changed public.m_2026"],
        ),
        (
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dw_reader;",
            vec!["critical default-privilege-added for role postgres in schema public on tables"],
        ),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE TYPE mood AS ENUM ('ok');",
            vec!["warning type-added public.mood", "warning function-added public.f()"],
        ),
    ];
    for (sql, expected) in cases {
        let other = db(sql).await;
        let mut got = codes(&drift_json(&base, &other, &[]));
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{sql}");
    }
    // A grant beyond the defaults on a new function is still a finding.
    let other = db("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; GRANT EXECUTE ON FUNCTION f() TO dw_reader;").await;
    let report = drift_json(&base, &other, &[]);
    assert!(
        codes(&report).contains(&"critical privilege-granted public.f()".to_string()),
        "{:?}",
        codes(&report)
    );
}

#[tokio::test]
async fn summary_lines_show_what_differs() {
    let base = db(
        "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
    )
    .await;
    let other = db(
        "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         ALTER TABLE child DROP CONSTRAINT child_parent_fk;
         ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE;
         ALTER TABLE child ALTER COLUMN id SET NOT NULL;
         ALTER TABLE child ENABLE ROW LEVEL SECURITY;
         CREATE TRIGGER child_audit BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION audit();",
    )
    .await;
    let out = run(&["diff", &base, &other, "--color", "never"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    for needle in [
        "on delete: no action → cascade",
        "not null: no → yes",
        "row security: off → on",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    assert!(!text.contains("-- origin"), "{text}");
    assert!(!text.contains("→ {"), "{text}");
}

#[tokio::test]
async fn the_header_names_the_arguments_and_edited_snapshots_are_flagged() {
    let work = tempfile::tempdir().unwrap();
    let (a, b) = (work.path().join("a.json"), work.path().join("b.json"));
    let base = db("").await;
    let other = db("ALTER TABLE child ADD COLUMN note text;").await;
    ok(&run(&["snapshot", &base, "-o", a.to_str().unwrap()]));
    ok(&run(&["snapshot", &other, "-o", b.to_str().unwrap()]));
    let out = run(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--color",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let header = text.lines().next().unwrap_or_default();
    assert_eq!(
        header,
        format!("driftwatch diff {} → {}", a.display(), b.display())
    );
    assert!(!text.contains("warning: "), "{text}");

    // Hand-edit b.json: the fingerprint no longer matches its objects.
    let edited = std::fs::read_to_string(&b)
        .unwrap()
        .replace("\"note\"", "\"remark\"");
    std::fs::write(&b, edited).unwrap();
    let out = run(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--color",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("b.json: its fingerprint sha256:"), "{text}");
}

#[test]
fn log_verbose_shows_the_ddl_diff_of_each_change() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let dir = fixture("migrations/renames_proven");
    let out = run(&[
        "log",
        &dir,
        "--store",
        store.to_str().unwrap(),
        "--target",
        "v",
        "--verbose",
    ]);
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("+    creator text"), "{text}");
    // Without --verbose: the same changelog, without the DDL (a failed run
    // would print neither).
    let out = run(&["log", "--store", store.to_str().unwrap(), "--target", "v"]);
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("creator"), "{text}");
    assert!(!text.contains("+    creator text"), "{text}");
}
