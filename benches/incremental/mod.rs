//! Incremental live capture (issue 26) on the 10,000-table schema: one
//! hand-made change (an index; a column; a function body; a GRANT) applied
//! with psql, then `driftwatch check` as a scheduled scan runs it (the
//! previous scan's live state in the store: an incremental capture) and
//! `driftwatch check --full-capture` on the same database state, side by
//! side with the `pg_dump --schema-only` of the same run. Beside wall time
//! and peak RSS it measures the work each scan costs the server: the shared
//! buffers its statements read, from `pg_stat_statements` (loaded on the
//! bench cluster, tracking only this section's database).
//! `DRIFTWATCH_BENCH_ONLY=incremental` runs it alone.

use super::{measure, measure_ok, median, psql, target, RUNS};
use driftwatch::shadow::Cluster;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The section's copy of the bench database: its changes must not reach
/// `bench`, which the drift section copies and compares afterwards.
const DB: &str = "bench_incremental";

/// The four kinds of hand-made change, in the table's order.
const KINDS: [&str; 4] = ["an index", "a column", "a function body", "a GRANT"];

/// Server settings the section needs on the bench cluster:
/// `pg_stat_statements` loaded, tracking nothing until the section turns
/// it on for its own database (the other sections' numbers stay as they
/// were).
pub fn server_settings() -> Vec<(String, String)> {
    vec![
        (
            "shared_preload_libraries".into(),
            "pg_stat_statements".into(),
        ),
        ("pg_stat_statements.track".into(), "none".into()),
    ]
}

/// The `r`-th change of `kind`: each on its own table, names unique.
fn change(kind: usize, r: usize) -> String {
    // A multiple of 20: the generator gives that table a function
    // `total_N`; such tables live in schema s0 (i % 10).
    let n = 20 * (100 + 37 * r + 7 * kind);
    match kind {
        0 => format!("CREATE INDEX inc{r}_note_idx ON s0.t{n} (note)"),
        1 => format!("ALTER TABLE s0.t{n} ADD COLUMN inc{r} integer"),
        2 => format!(
            "CREATE OR REPLACE FUNCTION s0.total_{n}(since timestamptz) RETURNS numeric \
             LANGUAGE sql STABLE AS $f$ SELECT sum(amount) + {r} FROM s0.t{n} WHERE created_at >= since $f$"
        ),
        _ => format!("GRANT INSERT ON s0.t{n} TO bench_reader"),
    }
}

/// One measured `check`.
struct Scan {
    wall: Duration,
    rss_kb: i64,
    /// Shared buffers (hit + read) of the scan's statements in [`DB`].
    buffers: i64,
    /// Statements the scan ran in [`DB`] (pg_stat_statements calls).
    statements: i64,
    /// How the scan captured, as its report says.
    capture: String,
    /// Its three statements that touched the most buffers (for the
    /// reader who asks where the server work goes).
    top: String,
}

/// `pg_dump --schema-only` of `bench`, `RUNS` times: its median and peak
/// RSS, for `DRIFTWATCH_BENCH_ONLY=incremental` (the full bench passes
/// its own run's figures).
pub fn dump_baseline(cluster: &Cluster, pg_dump: &Path) -> (Duration, i64) {
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..RUNS {
        let (t, r, _) = measure(
            Command::new(pg_dump)
                .args(["--schema-only", "-h"])
                .arg(cluster.socket_dir())
                .args(["-p", &cluster.port().to_string(), "-U", "postgres"])
                .args(["-d", "bench", "-f"])
                .arg(out.path()),
        );
        times.push(t);
        rss = rss.max(r);
    }
    (median(times), rss)
}

/// Runs the section against a copy of `bench`; `dump` and `dump_rss` are
/// pg_dump's figures of the same run.
pub fn run(cluster: &Cluster, driftwatch: &str, dump: Duration, dump_rss: i64) {
    println!(
        "\nincremental: copying the {}-table database ...",
        super::TABLES
    );
    psql(
        cluster,
        "postgres",
        &["-c", &format!("CREATE DATABASE {DB} TEMPLATE bench")],
    );
    psql(
        cluster,
        "postgres",
        &[
            "-c",
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            "-c",
            &format!("ALTER DATABASE {DB} SET pg_stat_statements.track = top"),
        ],
    );
    let store = tempfile::tempdir().expect("temp store");
    let first = scan(cluster, driftwatch, store.path(), false);
    // rows[kind] = (incremental scans, full-capture scans)
    let mut rows: Vec<(Vec<Scan>, Vec<Scan>)> = KINDS.iter().map(|_| Default::default()).collect();
    for r in 0..RUNS {
        for (kind, row) in rows.iter_mut().enumerate() {
            psql(cluster, DB, &["-c", &change(kind, r)]);
            row.0.push(scan(cluster, driftwatch, store.path(), false));
            // The same database state, captured in full: it also records
            // the state the next change's incremental scan starts from.
            row.1.push(scan(cluster, driftwatch, store.path(), true));
        }
    }
    print_tables(&first, &rows, dump, dump_rss);
    psql(cluster, "postgres", &["-c", &format!("DROP DATABASE {DB}")]);
}

/// One `check` of [`DB`] with the store `store`, its server work counted
/// from a reset of `pg_stat_statements`.
fn scan(cluster: &Cluster, driftwatch: &str, store: &Path, full: bool) -> Scan {
    let url = cluster.url(DB);
    let report = tempfile::NamedTempFile::new().expect("temp file");
    psql(
        cluster,
        "postgres",
        &["-c", "SELECT pg_stat_statements_reset()"],
    );
    let mut cmd = Command::new(driftwatch);
    cmd.args(["check", "--url", url.expose(), "--name", "bench"])
        .args(["--format", "json", "-o"])
        .arg(report.path())
        .arg("--store")
        .arg(store);
    if full {
        cmd.arg("--full-capture");
    }
    // Exit 1: the changes so far are drift against the recorded state.
    let (wall, rss_kb, err) = measure_ok(&mut cmd, &[0, 1]);
    assert!(!err.contains("driftwatch:"), "check: {err}");
    let work = psql(
        cluster,
        "postgres",
        &[
            "-At",
            "-F",
            " ",
            "-c",
            &format!(
                "SELECT coalesce(sum(shared_blks_hit + shared_blks_read), 0), coalesce(sum(calls), 0) \
                 FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{DB}')"
            ),
        ],
    );
    let mut fields = work.split(' ').map(|f| f.parse::<i64>().unwrap_or(-1));
    let (buffers, statements) = (fields.next().unwrap_or(-1), fields.next().unwrap_or(-1));
    let top = psql(
        cluster,
        "postgres",
        &[
            "-At",
            "-c",
            &format!(
                "SELECT string_agg(format('%s buffers: %s', b, q), E'\\n' ORDER BY b DESC) FROM \
                 (SELECT shared_blks_hit + shared_blks_read AS b, \
                         left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS q \
                  FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{DB}') \
                  ORDER BY 1 DESC LIMIT 3) t"
            ),
        ],
    );
    Scan {
        wall,
        rss_kb,
        buffers,
        statements,
        capture: capture_kind(report.path()),
        top,
    }
}

/// How the scan captured, from its JSON report (`live_capture`):
/// `incremental (N objects)`, `full (reason)` or `reused`.
fn capture_kind(report: &Path) -> String {
    let text = std::fs::read_to_string(report).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let capture = &json["live_capture"];
    match capture["kind"].as_str() {
        Some("incremental") => format!(
            "incremental ({} objects read again)",
            capture["objects"].as_u64().unwrap_or(0)
        ),
        Some("full") => format!(
            "full ({}{})",
            capture["reason"]["reason"].as_str().unwrap_or("?"),
            capture["reason"]["detail"]
                .as_str()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ),
        Some(kind) => kind.to_string(),
        None => "not reported".into(),
    }
}

/// "kind xN; ..." of the scans' capture kinds.
fn tally<'a>(scans: impl Iterator<Item = &'a Scan>) -> String {
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in scans {
        *kinds.entry(&s.capture).or_default() += 1;
    }
    let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} x{n}")).collect();
    list.join("; ")
}

/// Median of a field over scans.
fn med(scans: &[Scan], f: impl Fn(&Scan) -> i64) -> i64 {
    let mut v: Vec<i64> = scans.iter().map(f).collect();
    v.sort();
    v[v.len() / 2]
}

fn print_tables(first: &Scan, rows: &[(Vec<Scan>, Vec<Scan>)], dump: Duration, dump_rss: i64) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let wall = |s: &[Scan]| median(s.iter().map(|s| s.wall).collect());
    let rss = |s: &[Scan]| s.iter().map(|s| s.rss_kb).max().unwrap_or(0) / 1024;
    println!();
    println!(
        "One hand-made change, then `driftwatch check` (store holds the previous scan's live state), median of {RUNS} changes each:"
    );
    println!();
    println!("| change | incremental `check` | peak RSS | `check --full-capture` | peak RSS | `pg_dump -s` (same run) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (kind, (inc, full)) in KINDS.iter().zip(rows) {
        println!(
            "| {kind} | {:.0} ms | {} MB | {:.2} s | {} MB | {:.2} s, {} MB |",
            ms(wall(inc)),
            rss(inc),
            wall(full).as_secs_f64(),
            rss(full),
            dump.as_secs_f64(),
            dump_rss / 1024
        );
    }
    println!(
        "| (first scan, records the state) | | | {:.2} s | {} MB | |",
        first.wall.as_secs_f64(),
        first.rss_kb / 1024
    );
    println!();
    println!(
        "The scans after a change reported: {}; the `--full-capture` scans: {}.",
        tally(rows.iter().flat_map(|(inc, _)| inc)),
        tally(rows.iter().flat_map(|(_, full)| full))
    );
    let worst_wall = rows
        .iter()
        .map(|(inc, _)| wall(inc))
        .max()
        .unwrap_or_default();
    let worst_rss = rows.iter().map(|(inc, _)| rss(inc)).max().unwrap_or(0);
    target(
        "incremental `check` after one change within 150 ms wall and 60 MB peak RSS",
        ms(worst_wall) <= 150.0 && worst_rss <= 60,
        &format!("slowest kind {:.0} ms, {worst_rss} MB", ms(worst_wall)),
    );

    println!();
    println!(
        "Server work of the same scans: shared buffers (hit + read) of their statements in the database, pg_stat_statements, median of {RUNS}:"
    );
    println!();
    println!("| change | incremental: statements | shared buffers | full capture: statements | shared buffers | incremental / full |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut worst = 0.0f64;
    for (kind, (inc, full)) in KINDS.iter().zip(rows) {
        let (ib, fb) = (med(inc, |s| s.buffers), med(full, |s| s.buffers));
        let pct = 100.0 * ib as f64 / fb.max(1) as f64;
        worst = worst.max(pct);
        println!(
            "| {kind} | {} | {ib} | {} | {fb} | {pct:.1} % |",
            med(inc, |s| s.statements),
            med(full, |s| s.statements)
        );
    }
    println!();
    println!(
        "Where the incremental scans' buffers go (first change of each kind, top 3 statements):"
    );
    for (kind, (inc, _)) in KINDS.iter().zip(rows) {
        println!();
        println!("{kind}:");
        for line in inc[0].top.lines() {
            println!("    {line}");
        }
    }
    target(
        "server work of an incremental scan at most 5% of a full capture's shared buffers",
        worst <= 5.0,
        &format!("highest {worst:.1} %"),
    );
}
