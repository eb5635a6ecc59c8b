//! The command-line options and environment variables the README and docs/ promise,
//! each seen to take effect: capture tuning, DRIFTWATCH_* variables, ignore
//! rules, --fail-on, colour, and no password in any successful output.

mod common;

use common::*;
use driftwatch::catalog::DatabaseUrl;
use std::process::{Command, Output};

/// Runs the binary with extra environment variables.
fn driftwatch_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwatch"));
    cmd.args(args).env_remove("DRIFTWATCH_SHADOW_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run driftwatch")
}

/// Flags, environment variables, and what stderr must then say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn succeeded(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test]
async fn connections_follow_the_flag_and_the_environment() {
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    let cases: &[Case] = &[
        (&["--connections", "2"], &[], "over 2 connections"),
        (
            &[],
            &[("DRIFTWATCH_CONNECTIONS", "3")],
            "over 3 connections",
        ),
        (
            &["--connections", "2"],
            &[("DRIFTWATCH_CONNECTIONS", "3")],
            "over 2 connections",
        ),
        (&[], &[], "over 4 connections"),
        // One catalog reader plus the deparse connection, at the least.
        (&["--connections", "1"], &[], "over 2 connections"),
    ];
    let mut fingerprints = Vec::new();
    for (flags, env, needle) in cases {
        let mut args = vec!["snapshot", db.expose(), "--stats"];
        args.extend_from_slice(flags);
        let out = driftwatch_env(&args, env);
        let json: serde_json::Value = serde_json::from_str(&succeeded(&out)).unwrap();
        fingerprints.push(json["fingerprint"].clone());
        let err = stderr(&out);
        assert!(err.contains(needle), "{flags:?} {env:?}: {err}");
        assert!(err.contains(" statements "), "{err}");
        assert!(err.contains("rows"), "slowest queries: {err}");
    }
    assert!(fingerprints.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn lock_and_statement_timeouts_follow_the_flags_and_the_environment() {
    let db = fresh_db().await;
    exec(&db, "CREATE TABLE t (a int); COMMENT ON TABLE t IS 'c';").await;
    // A catalog every capture reads, locked: catalog queries queue on it
    // until lock_timeout or statement_timeout ends them.
    let mut holder = db.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE pg_catalog.pg_description IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let lock = "is locked by another session";
    let statement = "cancelled by statement_timeout";
    let cases: &[Case] = &[
        (&["--lock-timeout", "100"], &[], lock),
        (&[], &[("DRIFTWATCH_LOCK_TIMEOUT", "100")], lock),
        (
            &["--lock-timeout", "600000", "--statement-timeout", "1"],
            &[],
            statement,
        ),
        (
            &[],
            &[
                ("DRIFTWATCH_LOCK_TIMEOUT", "600000"),
                ("DRIFTWATCH_STATEMENT_TIMEOUT", "1"),
            ],
            statement,
        ),
    ];
    for (flags, env, needle) in cases {
        let mut args = vec!["snapshot", db.expose()];
        args.extend_from_slice(flags);
        let out = driftwatch_env(&args, env);
        assert_one_line_error(&out, needle, "");
    }
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    succeeded(&driftwatch_env(
        &["snapshot", db.expose(), "--statement-timeout", "1"],
        &[],
    ));
}

#[tokio::test]
async fn the_shadow_url_store_and_history_variables_are_honoured() {
    let work = tempfile::tempdir().unwrap();
    let schema = work.path().join("schema.sql");
    std::fs::write(&schema, "CREATE TABLE t (a int);\n").unwrap();
    let schema = schema.to_str().unwrap();
    // DRIFTWATCH_SHADOW_URL: a dead server is named; the shared one works.
    let dead = "postgres://u:dead-pw@127.0.0.1:1/x";
    let out = driftwatch_env(
        &["snapshot", schema, "--format", "summary"],
        &[("DRIFTWATCH_SHADOW_URL", dead)],
    );
    assert_one_line_error(&out, "127.0.0.1:1", "dead-pw");
    let admin = shadow().admin_url();
    succeeded(&driftwatch_env(
        &["snapshot", schema, "--format", "summary"],
        &[("DRIFTWATCH_SHADOW_URL", admin.expose())],
    ));

    // DRIFTWATCH_STORE: where replay writes.
    let migrations = work.path().join("m");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(migrations.join("001_t.sql"), "CREATE TABLE t (a int);\n").unwrap();
    let store = work.path().join("elsewhere");
    let out = driftwatch_env(
        &["replay", migrations.to_str().unwrap(), "--target", "app"],
        &[
            ("DRIFTWATCH_SHADOW_URL", admin.expose()),
            ("DRIFTWATCH_STORE", store.to_str().unwrap()),
        ],
    );
    succeeded(&out);
    assert!(store.join("app/migrations/index.json").is_file());

    // DRIFTWATCH_HISTORY and DRIFTWATCH_HISTORY_TABLE: of two tables with
    // Flyway's columns under other names, the one they name is read.
    let db = fresh_db().await;
    psql_file(&db, &repo().join("fixtures/history/flyway.sql"));
    psql(
        &db,
        "CREATE SCHEMA ops; ALTER TABLE public.flyway_schema_history SET SCHEMA ops; ALTER TABLE ops.flyway_schema_history RENAME TO deploys; \
         CREATE TABLE ops.deploys_2023 (LIKE ops.deploys);",
    );
    let out = driftwatch_env(&["history", db.expose()], &[]);
    assert_one_line_error(
        &out,
        "several tables with flyway's history columns: ops.deploys, ops.deploys_2023",
        "",
    );
    let text = succeeded(&driftwatch_env(
        &["history", db.expose()],
        &[
            ("DRIFTWATCH_HISTORY", "flyway"),
            ("DRIFTWATCH_HISTORY_TABLE", "ops.deploys"),
        ],
    ));
    assert!(text.starts_with("flyway history in ops.deploys"), "{text}");
    let out = driftwatch_env(
        &["history", db.expose()],
        &[
            ("DRIFTWATCH_HISTORY", "sqlx"),
            ("DRIFTWATCH_HISTORY_TABLE", "ops.deploys"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Two databases whose only differences are a column order (info) and an
/// owner (warning).
async fn order_and_owner_pair() -> (DatabaseUrl, DatabaseUrl) {
    let a = fresh_db().await;
    let b = fresh_db().await;
    exec(&a, "CREATE TABLE t (a int, b text);").await;
    exec(
        &b,
        "CREATE TABLE t (b text, a int); ALTER TABLE t OWNER TO dw_owner;",
    )
    .await;
    (a, b)
}

fn codes(out: &Output) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)));
    let mut codes: Vec<String> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn ignore_rules_and_fail_on_choose_what_fails() {
    let (a, b) = order_and_owner_pair().await;
    let run = |extra: &[&str]| {
        let mut args = vec!["diff", a.expose(), b.expose(), "--format", "json"];
        args.extend_from_slice(extra);
        driftwatch(&args)
    };
    let cases: &[(&[&str], &[&str], i32)] = &[
        (&[], &["owner-changed", "table-column-order-changed"], 1),
        (
            &["--ignore", "kind:owner"],
            &["table-column-order-changed"],
            1,
        ),
        (&["--ignore", "kind:column-order"], &["owner-changed"], 1),
        (&["--ignore", "code:table-*"], &["owner-changed"], 1),
        (&["--ignore", "code:*-changed"], &[], 0),
        (
            &["--ignore", "code:owner-*", "--ignore", "code:*-order-*"],
            &[],
            0,
        ),
        // --fail-on warning: the owner (warning) fails, column order (info)
        // alone does not.
        (
            &["--fail-on", "warning"],
            &["owner-changed", "table-column-order-changed"],
            1,
        ),
        (
            &["--fail-on", "warning", "--ignore", "kind:owner"],
            &["table-column-order-changed"],
            0,
        ),
        (
            &["--fail-on", "critical"],
            &["owner-changed", "table-column-order-changed"],
            0,
        ),
    ];
    for (extra, expected, code) in cases {
        let out = run(extra);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{extra:?}: {}",
            stderr(&out)
        );
        assert_eq!(codes(&out), *expected, "{extra:?}");
    }
    let json: serde_json::Value = serde_json::from_slice(&run(&[]).stdout).unwrap();
    let order = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "table-column-order-changed")
        .unwrap();
    assert_eq!(order["severity"], "info");
    assert_eq!(order["before"], serde_json::json!(["a", "b"]));
    assert_eq!(order["after"], serde_json::json!(["b", "a"]));
    let out = run(&["--ignore", "kind:nonsense"]);
    assert_one_line_error(&out, "nonsense", "");
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), returning
/// what it printed.
fn on_terminal(args: &[&str], no_color: bool) -> String {
    let command = std::iter::once(env!("CARGO_BIN_EXE_driftwatch").to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("DRIFTWATCH_SHADOW_URL");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("run script");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test]
async fn colour_follows_the_terminal_no_color_and_the_flag() {
    let (a, b) = order_and_owner_pair().await;
    let esc = "\u{1b}[";
    let args = |color: &'static str| vec!["diff", a.expose(), b.expose(), "--color", color];
    let on_tty = on_terminal(&args("auto"), false);
    assert!(on_tty.contains(esc), "auto on a terminal: {on_tty:?}");
    assert!(on_tty.contains("owner-changed") || on_tty.contains("owner"));
    let no_color = on_terminal(&args("auto"), true);
    assert!(!no_color.contains(esc), "NO_COLOR: {no_color:?}");
    assert!(!on_terminal(&args("never"), false).contains(esc));
    assert!(on_terminal(&args("always"), true).contains(esc));
    // Into a pipe: plain unless asked.
    let piped = driftwatch(&args("auto"));
    assert_eq!(piped.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&piped.stdout).contains(esc));
    assert!(String::from_utf8_lossy(&driftwatch(&args("always")).stdout).contains(esc));
}

#[tokio::test]
async fn no_password_in_a_snapshot_a_report_or_stats() {
    let a = fresh_db().await;
    load_fixture(&a, "order_a.sql").await;
    let b = fresh_db().await;
    load_fixture(&b, "order_b.sql").await;
    let secret = "scanner-pw";
    let scanner = |db: &DatabaseUrl| {
        db.expose()
            .replacen("postgres@", "dw_scanner:scanner-pw@", 1)
    };
    let (ua, ub) = (scanner(&a), scanner(&b));
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("snap.json");
    let runs = [
        driftwatch(&["snapshot", &ua, "--stats"]),
        driftwatch(&["snapshot", &ua, "--format", "summary", "--stats"]),
        driftwatch(&["snapshot", &ua, "-o", file.to_str().unwrap(), "--stats"]),
        driftwatch(&["diff", &ua, &ub, "--format", "json"]),
        driftwatch(&["diff", &ua, &ub, "--format", "markdown"]),
        driftwatch(&["diff", &ua, &ub, "--format", "text", "--color", "always"]),
    ];
    for out in &runs {
        let code = out.status.code();
        assert!(code == Some(0) || code == Some(1), "{}", stderr(out));
        for text in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(!text.contains(secret), "password printed: {text}");
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&runs[0].stdout).unwrap();
    let source = json["meta"]["source"].as_str().unwrap();
    assert!(source.contains("dw_scanner:****@"), "{source}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(!written.contains(secret));
    assert!(written.contains("dw_scanner:****@"));
    let report = String::from_utf8_lossy(&runs[3].stdout);
    assert!(report.contains("dw_scanner:****@"), "{report}");
}

#[tokio::test]
async fn index_and_constraint_renames_are_reported_as_renames() {
    // Renamed alone (no column renamed with them): the same definition
    // under a new name is a rename, as the README promises.
    let a = fresh_db().await;
    let b = fresh_db().await;
    let base = "CREATE TABLE t (a int, b int CONSTRAINT t_b_check CHECK (b > 0)); CREATE INDEX t_a_idx ON t (a);";
    exec(&a, base).await;
    exec(&b, base).await;
    exec(
        &b,
        "ALTER INDEX t_a_idx RENAME TO t_a_lookup; ALTER TABLE t RENAME CONSTRAINT t_b_check TO t_b_positive;",
    )
    .await;
    let out = driftwatch(&["diff", a.expose(), b.expose(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(codes(&out), ["constraint-renamed", "index-renamed"]);
}
