//! `make bench`, verify-down section (`DRIFTWATCH_BENCH_ONLY=verify-down`):
//! the replay section's 300 generated Flyway migrations, each given a
//! Flyway undo file (`U<version>__<desc>.sql`) that inverts it: the
//! planner's SQL from the migration's stored `after` to its `before`, as
//! `rollback --write` writes them (issue 25). Data migrations, which
//! change no schema, get none. Three undo files are then broken on
//! purpose (a statement left out twice, a failing statement once).
//! `driftwatch replay` and `driftwatch replay --verify-down` of the same
//! files run side by side, each into a fresh store, then `--verify-down`
//! again on its store (every verdict reused). One run of each.

use super::measure_ok;
use super::replay::generate::generate;
use driftwatch::ddl::plan::{plan, PlanOptions};
use driftwatch::shadow::Cluster;
use driftwatch::store::TargetStore;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The versions whose undo files are broken, and how.
const BROKEN: [(usize, Break); 3] = [
    (60, Break::LeaveOut),
    (150, Break::Fail),
    (240, Break::LeaveOut),
];

#[derive(Clone, Copy)]
enum Break {
    /// The undo file's last statement is left out.
    LeaveOut,
    /// A statement on a table that does not exist is added at the end.
    Fail,
}

/// Runs the section against `cluster` with the binary `driftwatch`.
pub fn run(cluster: &Cluster, driftwatch: &Path) {
    let help = Command::new(driftwatch)
        .args(["replay", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !help.contains("--verify-down") {
        println!("\nverify-down: skipped (driftwatch replay has no --verify-down)");
        return;
    }
    let migrations = tempfile::tempdir().expect("temp dir");
    let stats = generate(migrations.path());
    let admin = cluster.url("postgres");
    let replay = |store: &Path, extra: &[&str], what: &str| -> (Duration, i64) {
        println!("Running driftwatch replay ({what}) ...");
        let (t, rss, _) = measure_ok(
            Command::new(driftwatch)
                .arg("replay")
                .arg(migrations.path())
                .arg("--store")
                .arg(store)
                .args(["--target", "bench", "--shadow-url", admin.expose()])
                .args(extra),
            &[0, 1],
        );
        (t, rss)
    };

    // The undo files, from a first replay's snapshots.
    let seed = tempfile::tempdir().expect("temp dir");
    replay(seed.path(), &[], "snapshots to write the undo files from");
    let store = TargetStore::new(seed.path(), "bench").expect("store");
    let index = store.read_index().expect("index").expect("an index");
    let mut written = 0;
    for m in &index.migrations {
        if m.before_fingerprint == m.after_fingerprint {
            continue;
        }
        let before = store.read_snapshot(&m.before).expect("before");
        let after = store.read_snapshot(&m.after).expect("after");
        let opts = PlanOptions {
            allow_drops: true,
            ..PlanOptions::default()
        };
        let mut sql = plan(&after, &before, &opts).to_migration_sql();
        let version = m.version.clone().expect("versioned");
        for (at, how) in BROKEN {
            if at.to_string() == version {
                sql = match how {
                    Break::LeaveOut => leave_out_last(&sql),
                    Break::Fail => format!("{sql}\nDROP TABLE public.no_such_table;\n"),
                };
            }
        }
        let file = Path::new(&m.file)
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_prefix('V'))
            .expect("a Flyway file name");
        std::fs::write(migrations.path().join(format!("U{file}")), sql).expect("write undo");
        written += 1;
    }
    drop(seed);

    let plain_store = tempfile::tempdir().expect("temp dir");
    let plain = replay(plain_store.path(), &[], "the same files");
    let verify_store = tempfile::tempdir().expect("temp dir");
    let verify = replay(verify_store.path(), &["--verify-down"], "--verify-down");
    let rerun = replay(
        verify_store.path(),
        &["--verify-down"],
        "--verify-down, rerun on its store",
    );
    let counts = verdicts(verify_store.path());
    // Every stored snapshot of the verifying replay is the plain replay's:
    // the down files and the captures between them left nothing behind.
    let same = fingerprints(verify_store.path()) == fingerprints(plain_store.path());
    let wrong = wrong_verdicts(verify_store.path());

    let row = |name: &str, (t, rss): (Duration, i64)| {
        println!(
            "| {name} | {:.1} s | {} MB | {:.2}x |",
            t.as_secs_f64(),
            rss / 1024,
            t.as_secs_f64() / plain.0.as_secs_f64()
        );
    };
    println!();
    println!(
        "Down files checked: {} migrations, {written} with an undo file (the planner's after → before SQL), {} of them broken on purpose; one run each:",
        stats.files,
        BROKEN.len()
    );
    println!();
    println!("| command | wall time | peak RSS | vs replay |");
    println!("|---|---:|---:|---:|");
    row("`driftwatch replay` (same files)", plain);
    row("`driftwatch replay --verify-down`", verify);
    row(
        "`driftwatch replay --verify-down`, rerun (verdicts reused)",
        rerun,
    );
    let ratio = verify.0.as_secs_f64() / plain.0.as_secs_f64();
    super::target(
        "replay --verify-down within 2.5x of replay",
        ratio <= 2.5,
        &format!("{ratio:.2}x"),
    );
    println!();
    println!(
        "Verdicts: {counts}. Stored snapshots identical to the plain replay's: {}.",
        if same { "yes" } else { "NO" }
    );
    for line in wrong {
        println!("- {line}");
    }
}

/// The before and after fingerprints of every migration in the index
/// under `store`.
fn fingerprints(store: &Path) -> Vec<(String, String)> {
    let index = read_index(store);
    index["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| {
            (
                m["before_fingerprint"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                m["after_fingerprint"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// One line per wrong verdict: version, verdict, first difference or the
/// failure.
fn wrong_verdicts(store: &Path) -> Vec<String> {
    let index = read_index(store);
    index["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .filter(|m| {
            !matches!(
                m["down"]["verdict"].as_str(),
                Some("restores" | "no-down-file") | None
            )
        })
        .map(|m| {
            let down = &m["down"];
            let first = down["failure"]
                .as_str()
                .or_else(|| down["differences"][0].as_str())
                .unwrap_or_default();
            let more = down["differences"].as_array().map_or(0, Vec::len);
            format!(
                "V{}: {} ({more} difference(s)) {}",
                m["version"].as_str().unwrap_or("R"),
                down["verdict"].as_str().unwrap_or_default(),
                first.chars().take(160).collect::<String>()
            )
        })
        .collect()
}

fn read_index(store: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(store.join("bench/migrations/index.json")).expect("index"),
    )
    .expect("index JSON")
}

/// The SQL without its last statement (the planner writes one statement
/// per paragraph).
fn leave_out_last(sql: &str) -> String {
    let trimmed = sql.trim_end();
    match trimmed.rfind("\n\n") {
        Some(at) => format!("{}\n", &trimmed[..at]),
        None => String::new(),
    }
}

/// The verdicts stored in the index under `store`, counted.
fn verdicts(store: &Path) -> String {
    let index = read_index(store);
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for m in index["migrations"].as_array().expect("migrations") {
        let verdict = m["down"]["verdict"].as_str().unwrap_or("not verified");
        *counts.entry(verdict.to_string()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
