//! `driftwatch baseline` on the command line: the ad hoc form (`--url
//! --migrations --name --store`, as `check` takes them, with the same
//! environment fallbacks), its exit codes and one-line errors, and the
//! confirmation prompt answered "no" on a real terminal (a pty made by
//! util-linux `script`): nothing written anywhere, exit 1.

use super::baseline::{copy_dir, dw as dw_config};
use super::common::{assert_one_line_error, exec, psql_rows};
use super::*;
use std::process::{Command, Stdio};

/// Runs the binary with `args`, the shadow server, `env` set, stdin closed.
fn dw_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwatch"));
    cmd.args(args)
        .args(["--shadow-url", shadow().admin_url().expose()])
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env_remove("DRIFTWATCH_CONFIG")
        .env_remove("DRIFTWATCH_STORE")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Every file under `dir` with its contents: what "unchanged" compares.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if !dir.exists() {
        return Vec::new();
    }
    common::files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[tokio::test]
async fn ad_hoc_baseline_takes_checks_options_and_env_fallbacks() {
    let dir = copy_dir(&demo_dir());
    let w = Watched::migrated(dir.path(), None).await;
    exec(&w.db, OUT_OF_BAND).await;
    let store = w.store.path().display().to_string();
    let dir_s = dir.path().display().to_string();

    // The store from DRIFTWATCH_STORE, as for check.
    let out = dw_env(
        &[
            "baseline",
            "--url",
            w.db.expose(),
            "--migrations",
            &dir_s,
            "--name",
            "adhoc",
            "--reason",
            "hotfix 7",
            "--yes",
            "--write-migration",
            "--allow-drops",
        ],
        &[
            ("DRIFTWATCH_STORE", &store),
            ("DRIFTWATCH_USER", "dba"),
            // An exported config does not stand in the way of --url.
            ("DRIFTWATCH_CONFIG", "/nonexistent/driftwatch.toml"),
        ],
    );
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("accepted: store:adhoc@baseline ("),
        "{stdout}"
    );
    assert!(dir.path().join("V5__baseline_hotfix_7.sql").is_file());
    let audit = std::fs::read_to_string(w.store.path().join("adhoc/baselines/audit.jsonl"))
        .unwrap_or_else(|e| panic!("no audit in DRIFTWATCH_STORE ({e}): {stdout}"));
    let record: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(record["by"], "dba");
    assert_eq!(record["reason"], "hotfix 7");

    // The same target checks clean ad hoc afterwards.
    let mut w2 = Watched::on(w.db.clone(), Some(dir.path().to_path_buf()));
    w2.name = "adhoc".into();
    let args: Vec<String> = w2
        .args()
        .into_iter()
        .map(|a| {
            if a == w2.store.path().display().to_string() {
                store.clone()
            } else {
                a
            }
        })
        .chain(["--format".to_string(), "json".to_string()])
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(&args)
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env("DRIFTWATCH_CONFIG", "/nonexistent/driftwatch.toml")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["expected"]["from"], "baseline", "{report}");
    assert_eq!(
        findings(&report),
        ["info pending 5 -"],
        "only the written migration, not applied yet: {report}"
    );
}

#[tokio::test]
async fn ad_hoc_baseline_bad_input_is_one_line_and_exit_2() {
    let dir = copy_dir(&demo_dir());
    let w = Watched::migrated(dir.path(), None).await;
    let store = w.store.path().display().to_string();
    let dir_s = dir.path().display().to_string();
    let empty = tempfile::tempdir().unwrap();

    // No config file and no --url.
    let out = Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["baseline", "--reason", "x", "--yes"])
        .current_dir(empty.path())
        .env_remove("DRIFTWATCH_CONFIG")
        .output()
        .unwrap();
    assert_one_line_error(&out, "or --url URL", "");

    // Ad hoc options without --url, and --url with --target: usage errors.
    let out = dw_env(
        &["baseline", "--migrations", &dir_s, "--reason", "x", "--yes"],
        &[],
    );
    assert_one_line_error(&out, "--url", "");
    let out = dw_env(
        &[
            "baseline",
            "--url",
            w.db.expose(),
            "--target",
            "t",
            "--reason",
            "x",
            "--yes",
        ],
        &[],
    );
    assert_one_line_error(&out, "--target", "");

    // A migrations directory that does not exist: named, nothing written.
    let missing = empty.path().join("nope");
    let out = dw_env(
        &[
            "baseline",
            "--url",
            w.db.expose(),
            "--migrations",
            &missing.display().to_string(),
            "--name",
            "t",
            "--store",
            &store,
            "--reason",
            "x",
            "--yes",
            "--write-migration",
        ],
        &[],
    );
    assert_one_line_error(&out, "nope", "");

    // A database that cannot be reached: one line, no password.
    let out = dw_env(
        &[
            "baseline",
            "--url",
            "postgres://scanner:adh0c-pw@127.0.0.1:1/shop",
            "--migrations",
            &dir_s,
            "--store",
            &store,
            "--reason",
            "x",
            "--yes",
        ],
        &[],
    );
    assert_one_line_error(&out, "127.0.0.1", "adh0c-pw");

    // A history with nothing applied: the one line says why nothing was
    // compared (not "see its warnings").
    let none = Watched::migrated(dir.path(), Some(0)).await;
    let out = dw_env(
        &[
            "baseline",
            "--url",
            none.db.expose(),
            "--migrations",
            &dir_s,
            "--store",
            &store,
            "--reason",
            "x",
            "--yes",
        ],
        &[],
    );
    assert_one_line_error(&out, "no migration is applied successfully yet", "");
    assert_eq!(common::files_under(dir.path()).len(), 4);
    assert!(contents(w.store.path()).is_empty(), "nothing stored");
}

/// `s` quoted for `sh -c`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test]
async fn a_baseline_answered_no_writes_nothing_and_exits_1() {
    let dir = copy_dir(&demo_dir());
    let mut w = Watched::migrated(dir.path(), None).await;
    w.name = "t".into();
    let cfg = super::baseline::config(&w, dir.path(), "flyway");
    exec(&w.db, OUT_OF_BAND).await;
    // A first scan, so the store holds something that must stay as it is.
    let out = dw_config(&cfg, &["check", "--format", "json"]);
    assert_exit(&out, 1);
    let store_before = contents(w.store.path());
    let dir_before = contents(dir.path());
    let rows = "SELECT count(*) FROM flyway_schema_history";
    assert_eq!(psql_rows(&w.db, rows), ["4"]);

    // On a terminal (a pty), answered "n".
    let command = [
        env!("CARGO_BIN_EXE_driftwatch"),
        "baseline",
        "--config",
        &cfg.display().to_string(),
        "--reason",
        "not this one",
        "--write-migration",
        "--record-history",
        "--allow-drops",
        "--shadow-url",
        shadow().admin_url().expose(),
    ]
    .iter()
    .map(|a| sh_quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"n\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("Accept? [y/N]"), "asked: {shown}");
    // The fingerprint as the README shows it: 12 hex digits.
    let shown_fp = shown
        .split("accept the live schema (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_default();
    assert!(
        shown_fp.len() == 12 && shown_fp.chars().all(|c| c.is_ascii_hexdigit()),
        "{shown}"
    );
    assert!(
        shown.contains("migration: V5__baseline_not_this_one.sql"),
        "{shown}"
    );
    assert!(shown.contains("nothing written"), "{shown}");
    assert_eq!(out.status.code(), Some(1), "exit 1 as documented: {shown}");

    assert_eq!(contents(dir.path()), dir_before, "no migration file");
    assert_eq!(contents(w.store.path()), store_before, "store unchanged");
    assert_eq!(psql_rows(&w.db, rows), ["4"], "no history row");
}
