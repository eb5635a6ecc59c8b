//! `make bench`, replay section: a generated history of 300 Flyway
//! migrations (1,500 tables at the end, see [`generate`]) applied by psql
//! alone, one process per file, then by `driftwatch replay` into a fresh
//! store, again on the same store (everything reused), and with
//! `--full-capture` when the binary has it (a full capture after every
//! migration: the quadratic baseline). One run of each: replay takes
//! minutes. Skipped when the binary has no `replay` command.

pub mod generate;

use super::{measure, psql};
use driftwatch::shadow::Cluster;
use generate::{generate, Stats};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Counts the tables the way the generator does (partitions included).
const TABLES_SQL: &str = "SELECT count(*) FROM pg_class WHERE relkind IN ('r','p') \
    AND relnamespace::regnamespace::text NOT IN ('pg_catalog','information_schema')";

/// Runs the replay section against `cluster` with the driftwatch binary
/// `driftwatch`, printing a Markdown table.
pub fn run(cluster: &Cluster, driftwatch: &Path) {
    let help = match Command::new(driftwatch).args(["replay", "--help"]).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            println!("\nreplay: skipped (driftwatch has no replay command)");
            return;
        }
    };
    let full_capture = help.contains("--full-capture");

    let migrations = tempfile::tempdir().expect("temp dir");
    let stats = generate(migrations.path());
    println!(
        "\nGenerated {} migrations ({} statements, {} tables at the end) ...",
        stats.files, stats.statements, stats.tables
    );

    println!("Applying them with psql, one process per file ...");
    psql(cluster, "postgres", &["-c", "CREATE DATABASE replay_psql"]);
    let url = cluster.url("replay_psql");
    let started = Instant::now();
    let mut psql_rss = 0;
    for path in &stats.paths {
        let (_, rss, _) = measure(&mut super::psql_load(&url, path));
        psql_rss = psql_rss.max(rss);
    }
    let psql_time = started.elapsed();
    let tables = psql(cluster, "replay_psql", &["-At", "-c", TABLES_SQL]);
    assert_eq!(
        tables,
        stats.tables.to_string(),
        "the generated migrations made {tables} tables, not {}",
        stats.tables
    );
    psql(cluster, "postgres", &["-c", "DROP DATABASE replay_psql"]);

    let admin = cluster.url("postgres");
    let replay_with = |store: &Path, extra: &[&str], what: &str, layout: &str| -> (Duration, i64) {
        println!("Running driftwatch replay ({what}) ...");
        let (t, rss, _) = measure(
            Command::new(driftwatch)
                .arg("replay")
                .arg(migrations.path())
                .arg("--store")
                .arg(store)
                .args(["--target", "bench", "--shadow-url", admin.expose()])
                .args(extra)
                .env("DRIFTWATCH_STORE_LAYOUT", layout),
        );
        (t, rss)
    };
    let replay = |store: &Path, extra: &[&str], what: &str| replay_with(store, extra, what, "2");
    let store = tempfile::tempdir().expect("temp dir");
    let first = replay(store.path(), &[], "fresh store");
    let (store_bytes, store_files) = dir_size(store.path());
    let rerun = replay(store.path(), &[], "rerun on the same store");
    let (rerun_bytes, rerun_files) = dir_size(store.path());
    let full = full_capture.then(|| {
        let store = tempfile::tempdir().expect("temp dir");
        replay(store.path(), &["--full-capture"], "--full-capture")
    });
    // The old layout (a whole snapshot per file, identical ones hard
    // linked), same history, same run.
    let old_store = tempfile::tempdir().expect("temp dir");
    let old = replay_with(old_store.path(), &[], "layout 1: whole snapshot files", "1");
    let (old_bytes, old_files) = dir_size(old_store.path());
    drop(old_store);
    // Reading snapshots back: the last and the middle migration's.
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.path().join("bench/migrations/index.json")).expect("index"),
    )
    .expect("index JSON");
    let versions: Vec<String> = index["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .filter_map(|m| m["version"].as_str().map(String::from))
        .collect();
    let read_back = |version: &str| {
        let source = format!("store:{}/bench@{version}", store.path().display());
        measure(Command::new(driftwatch).args(["snapshot", &source, "-o", "/dev/null"])).0
    };
    let last = read_back(&versions[versions.len() - 1]);
    let middle = read_back(&versions[versions.len() / 2]);

    let row = |name: &str, (t, rss): (Duration, i64)| {
        println!(
            "| {name} | {:.1} s | {} MB | {:.1}x |",
            t.as_secs_f64(),
            rss / 1024,
            t.as_secs_f64() / psql_time.as_secs_f64()
        );
    };
    println!();
    println!(
        "Replay of {} migrations ({} tables at the end), one run each (replay takes minutes):",
        stats.files, stats.tables
    );
    println!();
    println!("| command | wall time | peak RSS | vs psql |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `psql --single-transaction`, one process per file | {:.1} s | {} MB | 1x |",
        psql_time.as_secs_f64(),
        psql_rss / 1024
    );
    row("`driftwatch replay` (before/after snapshots)", first);
    let ratio = first.0.as_secs_f64() / psql_time.as_secs_f64();
    row("`driftwatch replay`, rerun on an unchanged store", rerun);
    if let Some(full) = full {
        row("`driftwatch replay --full-capture`", full);
    }
    super::target(
        "replay within 1.5x of plain psql",
        ratio <= 1.5,
        &format!("{ratio:.2}x"),
    );
    println!();
    println!("{}", summary(&stats));
    let rerun_note = if (rerun_bytes, rerun_files) == (store_bytes, store_files) {
        "unchanged by the rerun".to_string()
    } else {
        format!(
            "{:.1} MB in {rerun_files} files after the rerun",
            rerun_bytes as f64 / (1 << 20) as f64
        )
    };
    println!(
        "Store after replay: {:.1} MB on disk in {store_files} files ({rerun_note}).",
        store_bytes as f64 / (1 << 20) as f64
    );
    let mb = |b: u64| b as f64 / (1 << 20) as f64;
    println!();
    println!(
        "The store of this replay, side by side with the old layout (same history, same run):"
    );
    println!();
    println!("| store layout | on disk | files | vs old | replay time |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| 1: a whole snapshot per file (identical ones hard-linked) | {:.1} MB | {old_files} | 100 % | {:.1} s |",
        mb(old_bytes),
        old.0.as_secs_f64()
    );
    println!(
        "| 2: content-addressed objects + manifests | {:.1} MB | {store_files} | {:.1} % | {:.1} s |",
        mb(store_bytes),
        100.0 * store_bytes as f64 / old_bytes.max(1) as f64,
        first.0.as_secs_f64()
    );
    println!();
    println!(
        "Reading one stored snapshot back (`driftwatch snapshot store:bench@V -o /dev/null`, whole command): last migration's {:.2} s, middle one's {:.2} s.",
        last.as_secs_f64(),
        middle.as_secs_f64()
    );
}

fn summary(stats: &Stats) -> String {
    format!(
        "Migrations: {} files, {:.1} MB, {} statements, {} of them data migrations; at the end {} tables, {} views, {} materialized views, {} functions, {} indexes from CREATE INDEX.",
        stats.files,
        stats.bytes as f64 / (1 << 20) as f64,
        stats.statements,
        stats.data_migrations,
        stats.tables,
        stats.views,
        stats.materialized_views,
        stats.functions,
        stats.indexes
    )
}

/// Bytes on disk (allocated blocks) and number of files under `dir`.
fn dir_size(dir: &Path) -> (u64, usize) {
    use std::os::unix::fs::MetadataExt;
    let mut bytes = 0;
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                bytes += meta.blocks() * 512;
                files += 1;
            }
        }
    }
    (bytes, files)
}
