//! Wrong inputs must not look like answers: empty and unreadable migration
//! directories, folder-per-migration layouts, pg_dump's meta-commands.

use super::*;

#[test]
fn an_empty_directory_is_an_error_unless_allowed() {
    let work = tempfile::tempdir().unwrap();
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let store = work.path().join("store");
    let out = replay(&empty, &store, "e", &[]);
    assert_one_line_error(&out, "holds no migrations (the directory is empty)", "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("diesel (2024-01-01-000000_x/up.sql)"),
        "{stderr}"
    );
    assert!(!store.join("e").exists(), "nothing written for an error");

    ok(&replay(&empty, &store, "e", &["--allow-empty"]));

    // As a diff source it must not report every object of the other side.
    let (code, _, stderr) = diff_json(
        empty.to_str().unwrap(),
        &fixture("layouts/accounts.sql"),
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds no migrations"), "{stderr}");
}

#[test]
fn an_unreadable_layout_names_what_was_found() {
    let out = run(&[
        "diff",
        &fixture("layouts/unreadable"),
        &fixture("layouts/accounts.sql"),
    ]);
    assert_one_line_error(
        &out,
        "holds no migrations (found 3 entries: README.md, add_email.sql, create_accounts.sql; none is a plain migration)",
        "",
    );
    let out = run(&["diff", "/surely/not/here", &fixture("layouts/accounts.sql")]);
    assert_one_line_error(
        &out,
        "/surely/not/here: not a source driftwatch reads (no such file or directory)",
        "",
    );
}

#[test]
fn folder_per_migration_layouts_are_read() {
    for (layout, extra) in [
        ("diesel", vec!["--ignore", "function:*diesel*"]),
        ("prisma", vec![]),
        ("version-folders", vec![]),
    ] {
        let (code, report, stderr) = diff_json(
            &fixture(&format!("layouts/{layout}")),
            &fixture("layouts/accounts.sql"),
            &extra,
        );
        assert_eq!(code, 0, "{layout}: {stderr} {:?}", codes(&report));
        assert_eq!(report["summary"]["changes"], 0, "{layout}");
    }
    let work = tempfile::tempdir().unwrap();
    let out = replay(
        Path::new(&fixture("layouts/diesel")),
        &work.path().join("store"),
        "d",
        &[],
    );
    let stderr = ok(&out);
    assert!(stderr.contains("d: 3 migrations"), "{stderr}");
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("store/d/migrations/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(index["migration_format"], "diesel");
    assert_eq!(index["migrations"][1]["version"], "20240105093000");
    // The version folders' docs/ folder is skipped with a warning.
    let out = replay(
        Path::new(&fixture("layouts/version-folders")),
        &work.path().join("store"),
        "v",
        &[],
    );
    let stderr = ok(&out);
    assert!(
        stderr.contains("docs/: not a version-folders migration folder name; skipped"),
        "{stderr}"
    );
}

#[test]
fn pg_dump_meta_commands_are_skipped_and_others_refused() {
    let (code, report, stderr) = diff_json(
        &fixture("schemas/pg_dump_restrict.sql"),
        &fixture("layouts/accounts.sql"),
        &[],
    );
    assert_eq!(code, 0, "{stderr} {:?}", codes(&report));
    let out = run(&[
        "diff",
        &fixture("schemas/psql_include.sql"),
        &fixture("layouts/accounts.sql"),
    ]);
    assert_one_line_error(
        &out,
        "psql_include.sql:3: psql meta-command \\i is not SQL",
        "",
    );
}
