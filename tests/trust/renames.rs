//! Renames only when proven: a live diff pairs a removed and an added
//! column only when the pairing is unique and the position supports it; a
//! changelog takes renames from the migration's own RENAME statements.

use super::*;

const JOBS: &str = "CREATE TABLE jobs (id int PRIMARY KEY, cron_str text, note text, done text);
CREATE INDEX jobs_note_idx ON jobs (note);
ALTER TABLE jobs ADD CONSTRAINT jobs_note_check CHECK (note <> '');";

async fn db(extra: &str) -> String {
    let db = fresh_db().await;
    exec(&db, JOBS).await;
    if !extra.is_empty() {
        exec(&db, extra).await;
    }
    db.expose().to_string()
}

#[tokio::test]
async fn a_live_diff_claims_a_rename_only_when_proven() {
    let base = db("").await;
    // A dropped column plus an unrelated added one of the same type: the
    // drop is reported, not hidden behind a rename.
    let dropped =
        db("ALTER TABLE jobs DROP COLUMN note CASCADE; ALTER TABLE jobs ADD COLUMN creator text;")
            .await;
    let (code, report, stderr) = diff_json(&base, &dropped, &[]);
    assert_eq!(code, 1, "{stderr}");
    let got = codes(&report);
    assert!(
        got.contains(&"warning column-removed public.jobs.note".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"warning column-added public.jobs.creator".to_string()),
        "{got:?}"
    );
    assert!(!got.iter().any(|c| c.contains("renamed")), "{got:?}");

    // A rename in place (the column keeps its position) is a rename.
    let renamed = db("ALTER TABLE jobs RENAME COLUMN cron_str TO \"trigger\";").await;
    let report = drift_json(&base, &renamed, &[]);
    assert_eq!(
        codes(&report),
        ["warning column-renamed public.jobs.trigger"]
    );

    // Two columns of one type swapped for two others: no unique pairing.
    let two = db("ALTER TABLE jobs DROP COLUMN cron_str, DROP COLUMN done; ALTER TABLE jobs ADD COLUMN a text, ADD COLUMN b text;").await;
    let report = drift_json(&base, &two, &[]);
    let got = codes(&report);
    assert!(!got.iter().any(|c| c.contains("renamed")), "{got:?}");
    assert_eq!(
        got.iter().filter(|c| c.contains("column-removed")).count(),
        2,
        "{got:?}"
    );

    // The last column renamed cannot be told from a drop plus an add: both shown.
    let last = db("ALTER TABLE jobs RENAME COLUMN done TO finished;").await;
    let report = drift_json(&base, &last, &[]);
    let got = codes(&report);
    assert!(
        got.contains(&"warning column-removed public.jobs.done".to_string()),
        "{got:?}"
    );

    // Index and constraint renames by ALTER INDEX / RENAME CONSTRAINT.
    let parts = db("ALTER INDEX jobs_note_idx RENAME TO jobs_remark_idx; ALTER TABLE jobs RENAME CONSTRAINT jobs_note_check TO jobs_remark_check;").await;
    let report = drift_json(&base, &parts, &[]);
    assert_eq!(
        codes(&report),
        [
            "warning constraint-renamed public.jobs.jobs_remark_check",
            "warning index-renamed public.jobs.jobs_remark_idx",
        ]
    );

    // With the column renamed too, the index names the new column: still
    // the one index, renamed.
    let both = db("ALTER TABLE jobs RENAME COLUMN note TO remark; ALTER INDEX jobs_note_idx RENAME TO jobs_remark_idx;").await;
    let report = drift_json(&base, &both, &[]);
    let got = codes(&report);
    assert!(
        got.contains(&"warning column-renamed public.jobs.remark".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"warning index-renamed public.jobs.jobs_remark_idx".to_string()),
        "{got:?}"
    );
    assert!(!got.iter().any(|c| c.contains("index-removed")), "{got:?}");
}

#[test]
fn the_changelog_takes_renames_from_the_migrations_statements() {
    let work = tempfile::tempdir().unwrap();
    let dir = fixture("migrations/renames_proven");
    let store = work.path().join("store");
    let out = run(&[
        "log",
        &dir,
        "--store",
        store.to_str().unwrap(),
        "--target",
        "r",
    ]);
    ok(&out);
    let text = stdout(&out);
    let section = |version: &str| -> String {
        let start = text
            .find(&format!("{version} "))
            .unwrap_or_else(|| panic!("{text}"));
        let rest = &text[start..];
        let end = rest[1..]
            .find("\n2 ")
            .or(rest[1..].find("\n3 "))
            .or(rest[1..].find("\n4 "))
            .map_or(rest.len(), |i| i + 1);
        rest[..end].to_string()
    };
    let v2 = section("2");
    assert!(
        v2.contains("~ column public.jobs.trigger renamed from cron_str"),
        "{v2}"
    );
    assert!(v2.contains("+ column public.jobs.creator added"), "{v2}");
    assert!(!v2.contains("creator renamed"), "{v2}");
    let v3 = section("3");
    assert!(v3.contains("- column public.jobs.trigger removed"), "{v3}");
    assert!(v3.contains("+ column public.jobs.schedule added"), "{v3}");
    assert!(!v3.contains("renamed"), "{v3}");
    let v4 = &text[text
        .find("4 rename index")
        .unwrap_or_else(|| panic!("{text}"))..];
    assert!(
        v4.contains("~ table public.tasks renamed from jobs"),
        "{v4}"
    );
    assert!(
        v4.contains("~ index public.tasks.jobs_title_idx renamed from jobs_name_idx"),
        "{v4}"
    );
    assert!(
        v4.contains("~ type public.task_state renamed from job_state"),
        "{v4}"
    );
    assert!(
        v4.contains("~ constraint public.tasks.jobs_title_check renamed from jobs_name_check"),
        "{v4}"
    );
}
