//! Issue 9, "findings users can trust": wrong inputs are errors, replays run
//! as the migration tools run them, renames only when proven, one change is
//! one finding, readable findings and messages. One test binary (one
//! cluster), a file per concern.

#[path = "../common/mod.rs"]
mod common;

mod findings;
mod history;
mod inputs;
mod messages;
mod renames;
mod replays;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fixture path as a string.
fn fixture(rel: &str) -> String {
    repo().join("fixtures").join(rel).display().to_string()
}

/// Runs driftwatch with the shared cluster as shadow server.
fn run(args: &[&str]) -> Output {
    let admin = shadow().admin_url();
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&["--shadow-url", admin.expose()]);
    driftwatch(&all)
}

/// `diff --format json` with the shared cluster: exit code, report, stderr.
/// A run that exits 0 or 1 must have printed a JSON report (else this
/// panics: a failed command must not read as an empty report, which every
/// "nothing like this was reported" check would pass); an error (exit 2)
/// gives `Value::Null`, for the caller to assert on its code and stderr.
fn diff_json(from: &str, to: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["diff", from, to, "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code().unwrap_or(-1);
    let json = match code {
        0 | 1 => serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "diff {from} {to}: exit {code} without a JSON report ({e}): {}\n{stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        }),
        _ => Value::Null,
    };
    (code, json, stderr)
}

/// `diff --format json` that must find drift (exit 1): the report.
fn drift_json(from: &str, to: &str, extra: &[&str]) -> Value {
    let (code, report, stderr) = diff_json(from, to, extra);
    assert_eq!(code, 1, "diff {from} {to}: {stderr}");
    report
}

/// `severity code object` per change.
fn codes(report: &Value) -> Vec<String> {
    report["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "{} {} {}",
                        c["severity"].as_str().unwrap_or(""),
                        c["code"].as_str().unwrap_or(""),
                        c["object"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Replays `dir` into `store` under `target`.
fn replay(dir: &Path, store: &Path, target: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "replay",
        dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--target",
        target,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// stderr of a successful run; panics with it otherwise.
fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

/// stdout as text.
fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A copy of a fixture migration directory (flat) the test may edit.
fn copy_dir(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to.to_path_buf()
}
