//! End-to-end tests of the driftwatch binary: outputs, exit codes, and one
//! clear line for every kind of bad input.

mod common;

use common::*;

#[tokio::test]
async fn snapshot_writes_json_to_stdout_and_atomically_to_a_file() {
    let db = fresh_db().await;
    load_fixture(&db, "order_a.sql").await;
    let out = driftwatch(&["snapshot", db.expose()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["format", "meta", "fingerprint", "objects"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["format"], "driftwatch.snapshot/1");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/snap.json");
    let out = driftwatch(&["snapshot", db.expose(), "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["fingerprint"], json["fingerprint"]);
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files left behind");

    let out = driftwatch(&["snapshot", db.expose(), "--format", "summary"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fingerprint  sha256:"), "{text}");
    assert!(text.contains("2  tables"), "{text}");
}

#[tokio::test]
async fn a_snapshot_file_is_recanonicalised() {
    let db = fresh_db().await;
    load_fixture(&db, "order_a.sql").await;
    let dir = tempfile::tempdir().unwrap();
    let original = driftwatch(&["snapshot", db.expose()]);
    let mut value: serde_json::Value = serde_json::from_slice(&original.stdout).unwrap();
    // Shuffle the objects and spoil the fingerprint, as a hand edit might.
    value["objects"]["tables"].as_array_mut().unwrap().reverse();
    value["fingerprint"] = "sha256:0".into();
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string(&value).unwrap()).unwrap();
    let out = driftwatch(&["snapshot", edited.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, original.stdout);
}

#[tokio::test]
async fn env_var_sources_are_read() {
    let db = fresh_db().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["snapshot", "env:DW_TEST_URL", "--format", "summary"])
        .env("DW_TEST_URL", db.expose())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = driftwatch(&["snapshot", "env:DW_SURELY_UNSET_VAR"]);
    assert_one_line_error(&out, "DW_SURELY_UNSET_VAR is not set", "");
}

#[test]
fn unknown_url_schemes_are_refused() {
    let out = driftwatch(&["snapshot", "mysql://root:hunter2@db.example/app"]);
    assert_one_line_error(&out, "unknown URL scheme mysql://", "hunter2");
}

#[test]
fn an_unreachable_server_names_the_target_without_its_password() {
    let out = driftwatch(&["snapshot", "postgres://app:s3cret-pw@127.0.0.1:1/app"]);
    assert_one_line_error(&out, "postgres://app:****@127.0.0.1:1/app", "s3cret-pw");
    assert!(String::from_utf8_lossy(&out.stderr).contains("reachable"));
}

#[tokio::test]
async fn a_wrong_password_is_reported_without_the_password() {
    let db = fresh_db().await;
    let url = db
        .expose()
        .replacen("postgres@", "dw_scanner:wrong-pw-123@", 1);
    let out = driftwatch(&["snapshot", &url]);
    assert_one_line_error(&out, "password authentication failed", "wrong-pw-123");
    assert!(String::from_utf8_lossy(&out.stderr).contains("check the user name and password"));
}

/// A password holding `/`, `?`, `#` and `@` as typed (not percent-encoded).
const RAW_PASSWORD: &str = "Ab3/x?q#r@s";

#[test]
fn a_password_with_slash_question_mark_or_at_sign_never_shows() {
    for url in [
        "postgres://app:Ab3/x@127.0.0.1:1/app",
        "postgres://app:Ab3/x?q#r@s@127.0.0.1:1/app?sslmode=disable",
        "postgresql://app:Ab3@x@127.0.0.1:1/app",
    ] {
        let out = driftwatch(&["snapshot", url]);
        assert_one_line_error(&out, "postgres", "Ab3");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("x@") && !err.contains("%2F"), "{err}");
        assert!(err.contains(":****@127.0.0.1:1/app"), "{err}");
        assert!(err.contains("reachable"), "{err}");
    }
    let out = driftwatch(&["snapshot", "host=db.example user=app password=Ab3/x"]);
    assert_one_line_error(&out, "password=****", "Ab3");
}

#[tokio::test]
async fn a_password_with_slash_question_mark_and_at_sign_connects() {
    let db = fresh_db().await;
    psql(
        &shadow().admin_url(),
        &format!(
            "DO $$ BEGIN CREATE ROLE dw_raw_pw LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\
             ALTER ROLE dw_raw_pw PASSWORD '{RAW_PASSWORD}';"
        ),
    );
    let url = db
        .expose()
        .replacen("postgres@", &format!("dw_raw_pw:{RAW_PASSWORD}@"), 1);
    let out = driftwatch(&["snapshot", &url, "--format", "summary"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("fingerprint  sha256:"));
    // The same characters, one wrong: refused by the server, not shown.
    let wrong = db
        .expose()
        .replacen("postgres@", "dw_raw_pw:Ab3/x?q#r@t@", 1);
    let out = driftwatch(&["snapshot", &wrong]);
    assert_one_line_error(&out, "password authentication failed", "Ab3");
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let db = fresh_db().await;
    let url = db.with_database("no_such_db_here");
    let out = driftwatch(&["snapshot", url.expose()]);
    assert_one_line_error(&out, "no_such_db_here", "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("check the database name"));
}

#[test]
fn corrupt_foreign_and_future_snapshot_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "corrupt.json",
            "{\"format\": \"driftwatch.snapshot/1\", \"objects\": ",
            "is not valid JSON",
        ),
        (
            "foreign.json",
            "{\"name\": \"package.json\"}",
            "is not a driftwatch snapshot",
        ),
        (
            "future.json",
            "{\"format\": \"driftwatch.snapshot/9\", \"objects\": {}}",
            "driftwatch.snapshot/9 is not supported",
        ),
        (
            "damaged.json",
            "{\"format\": \"driftwatch.snapshot/1\", \"meta\": 3}",
            "damaged snapshot",
        ),
    ];
    for (name, body, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let out_file = dir.path().join(format!("{name}.out.json"));
        let out = driftwatch(&[
            "snapshot",
            path.to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]);
        assert_one_line_error(&out, needle, "");
        assert!(String::from_utf8_lossy(&out.stderr).contains(name));
        assert!(!out_file.exists(), "{name}: a partial output was written");
    }
    let out = driftwatch(&["snapshot", dir.path().join("absent.json").to_str().unwrap()]);
    assert_one_line_error(&out, "cannot be read", "");
}

#[test]
fn a_failed_capture_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("keep.json");
    std::fs::write(&out_file, "previous").unwrap();
    let out = driftwatch(&[
        "snapshot",
        "postgres://u:pw@127.0.0.1:1/x",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "previous");
}

#[test]
fn usage_errors_are_one_line_and_exit_2_and_help_exits_0() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["snapshot", "x.json", "--bogus-flag"],
            "unexpected argument '--bogus-flag'",
        ),
        (
            &["snapshot"],
            "required arguments were not provided: <SOURCE>",
        ),
        (
            &["no-such-command"],
            "unrecognized subcommand 'no-such-command'",
        ),
        (&["diff", "a.json"], "<TO>"),
        (
            &["snapshot", "x.json", "--connections", "many"],
            "invalid value 'many'",
        ),
        (&[], "a command is required"),
    ];
    for (args, needle) in cases {
        let out = driftwatch(args);
        assert_one_line_error(&out, needle, "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("driftwatch: "), "{args:?}: {stderr}");
        assert!(stderr.contains("more with --help)"), "{args:?}: {stderr}");
        if !args.contains(&"many") {
            assert!(stderr.contains("(usage: driftwatch"), "{args:?}: {stderr}");
        }
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    for flag in ["--help", "--version"] {
        let out = driftwatch(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(!out.stdout.is_empty(), "{flag}");
    }
    let out = driftwatch(&["snapshot", "schema.txt"]);
    assert_one_line_error(&out, "not a source driftwatch reads", "");
}
