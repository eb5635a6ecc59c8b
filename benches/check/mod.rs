//! `driftwatch check` of the 10,000-table database whose expected state is
//! in the store (an accepted snapshot, recorded by a first scan), side by
//! side with the `pg_dump --schema-only` of the same run: a scheduled scan
//! costs this much.

use super::{measure_ok, median, RUNS};
use std::process::Command;
use std::time::Duration;

/// Records the expected state with a first scan, then times `RUNS` scans
/// (each: history probe, capture, reading the stored state, diff, record)
/// and prints the row against pg_dump's median and peak RSS.
pub fn run(url: &str, driftwatch: &str, dump: Duration, dump_rss: i64) {
    let store = tempfile::tempdir().expect("temp store");
    let check = || {
        let mut cmd = Command::new(driftwatch);
        cmd.args([
            "check",
            "--url",
            url,
            "--name",
            "bench",
            "--format",
            "json",
            "-o",
            "/dev/null",
            "--store",
        ])
        .arg(store.path());
        cmd
    };
    let (first, _, err) = measure_ok(&mut check(), &[0]);
    assert!(
        err.is_empty() || !err.contains("driftwatch:"),
        "first scan: {err}"
    );
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..RUNS {
        let (t, r, _) = measure_ok(&mut check(), &[0]);
        times.push(t);
        rss = rss.max(r);
    }
    let scan = median(times);
    println!();
    println!(
        "Drift scan of the same database, its expected state in the store, median of {RUNS} runs:"
    );
    println!();
    println!("| command | wall time | peak RSS | vs pg_dump |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `driftwatch check` (expected state in the store; clean) | {:.2} s | {} MB | {:.1}x faster |",
        scan.as_secs_f64(),
        rss / 1024,
        dump.as_secs_f64() / scan.as_secs_f64()
    );
    println!(
        "| `driftwatch check`, first scan (records the state) | {:.2} s | | |",
        first.as_secs_f64()
    );
    println!(
        "| `pg_dump --schema-only` (same run) | {:.2} s | {} MB | 1.0x |",
        dump.as_secs_f64(),
        dump_rss / 1024
    );
}
