//! Replays as the tools run them: the tool's history table exists before
//! the first migration and is the only one left out of snapshots; a target
//! store belongs to one directory; failure messages.

use super::*;

fn log_text(dir: &Path, store: &Path, target: &str) -> String {
    let out = run(&[
        "log",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--target",
        target,
    ]);
    ok(&out);
    stdout(&out)
}

#[test]
fn migrations_may_alter_their_tools_history_table_and_only_it_is_hidden() {
    let work = tempfile::tempdir().unwrap();
    let dir = PathBuf::from(fixture("migrations/golang_history_alter"));
    let text = log_text(&dir, &work.path().join("store"), "g");
    // 000002 alters golang-migrate's own table: it runs, and is no schema change.
    assert!(
        text.contains("000002 track deploys (schema)\n    no schema change\n"),
        "{text}"
    );
    // The project's own alembic_version is schema like any table.
    assert!(
        text.contains("+ column public.alembic_version.x added"),
        "{text}"
    );
    let after = super::common::objects_json(
        &driftwatch::store::read_snapshot_file(
            &work
                .path()
                .join("store/g/migrations/000003__extend_alembic_version.after.json"),
        )
        .unwrap(),
    );
    assert!(after.contains("alembic_version"), "{after}");
    assert!(!after.contains("schema_migrations"), "{after}");

    // diff of the directory against itself loaded as a database: clean.
    let (code, report, stderr) = diff_json(dir.to_str().unwrap(), dir.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{stderr} {:?}", codes(&report));
}

#[test]
fn a_target_replayed_from_another_directory_is_not_replaced_silently() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let a = PathBuf::from(fixture("layouts/version-folders"));
    let b = PathBuf::from(fixture("migrations/plain_other"));
    ok(&replay(&a, &store, "t", &[]));
    let out = replay(&b, &store, "t", &[]);
    assert_one_line_error(&out, "target t holds snapshots replayed from", "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("version-folders") && stderr.contains("plain_other"),
        "{stderr}"
    );
    assert!(store
        .join("t/migrations/002__add_email.after.json")
        .exists());
    ok(&replay(&b, &store, "t", &["--force"]));
    assert!(!store
        .join("t/migrations/002__add_email.after.json")
        .exists());
}

#[test]
fn a_failure_says_once_what_was_kept_and_does_not_blame_the_migration() {
    let work = tempfile::tempdir().unwrap();
    let dir = copy_dir(
        Path::new(&fixture("migrations/golang_history_alter")),
        &work.path().join("m"),
    );
    std::fs::write(
        dir.join("000004_needs_a_role.up.sql"),
        "GRANT SELECT ON accounts TO reporting_role_that_does_not_exist;\n",
    )
    .unwrap();
    let out = replay(&dir, &work.path().join("store"), "m", &[]);
    assert_one_line_error(&out, "000004_needs_a_role.up.sql:1: statement failed: role \"reporting_role_that_does_not_exist\" does not exist", "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("nothing was stored").count(), 1, "{stderr}");
    assert!(!stderr.contains("fix the migration"), "{stderr}");
}

#[test]
fn a_runner_whose_first_migration_creates_its_table_still_replays() {
    let work = tempfile::tempdir().unwrap();
    let dir = PathBuf::from(fixture("migrations/plain_own_table"));
    ok(&replay(&dir, &work.path().join("store"), "p", &[]));
    let (code, report, stderr) =
        diff_json(dir.to_str().unwrap(), &fixture("layouts/accounts.sql"), &[]);
    assert_eq!(code, 0, "{stderr} {:?}", codes(&report));
}
