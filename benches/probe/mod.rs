//! The catalog change probe against a full capture on a schema of 2,000
//! tables (defaults, checks, two indexes and a comment each, a view per five
//! tables): the probe is what an unchanged rescan of `watch` costs, the
//! capture what it would cost without it. Wall time is the fastest of the
//! alternating runs (`driftwatch::catalog::probe_cost`). The tests check
//! what the probe reads (tests/probe.rs); how fast it is belongs here, where
//! a slow run is reported instead of failing on two shared cores.
//! `DRIFTWATCH_BENCH_ONLY=probe` runs it alone.

use driftwatch::shadow::Cluster;
use std::fmt::Write as _;

const TABLES: usize = 2_000;
const RUNS: usize = 5;

/// The schema: 10 schemas, an enum each, [`TABLES`] tables.
fn schema() -> String {
    let mut sql = String::from("SET client_min_messages = warning;\n");
    for s in 0..10 {
        let _ = writeln!(sql, "CREATE SCHEMA g{s};");
        let _ = writeln!(
            sql,
            "CREATE TYPE g{s}.state AS ENUM ('new', 'active', 'done');"
        );
    }
    for i in 0..TABLES {
        if i % 200 == 0 {
            sql.push_str(if i == 0 {
                "BEGIN;\n"
            } else {
                "COMMIT;\nBEGIN;\n"
            });
        }
        let s = i % 10;
        let _ = writeln!(
            sql,
            "CREATE TABLE g{s}.t{i} (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, \
             name varchar(100), state g{s}.state NOT NULL DEFAULT 'new', \
             amount numeric(12,2) CHECK (amount >= 0), created_at timestamptz NOT NULL DEFAULT now(), \
             flags int NOT NULL DEFAULT 0, note text);\n\
             CREATE INDEX t{i}_created_idx ON g{s}.t{i} (created_at);\n\
             CREATE INDEX t{i}_lower_idx ON g{s}.t{i} (lower(name)) WHERE flags > 0;\n\
             COMMENT ON TABLE g{s}.t{i} IS 'table {i}';"
        );
        if i % 5 == 0 {
            let _ = writeln!(
                sql,
                "CREATE VIEW g{s}.v{i} AS SELECT id, code, amount * 2 AS doubled FROM g{s}.t{i} WHERE state <> 'done';"
            );
        }
    }
    sql.push_str("COMMIT;\nVACUUM ANALYZE;\n");
    sql
}

/// Runs the section.
pub fn run(cluster: &Cluster) {
    println!();
    println!("probe: loading {TABLES} tables ...");
    super::psql(cluster, "postgres", &["-c", "CREATE DATABASE probe_bench"]);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), schema()).expect("write schema");
    super::psql(
        cluster,
        "probe_bench",
        &["-f", file.path().to_str().unwrap()],
    );
    let url = cluster.url("probe_bench");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = driftwatch::catalog::CaptureOptions::default();
    let cost = rt
        .block_on(driftwatch::catalog::probe_cost(&url, &opts, RUNS))
        .expect("probe and capture");
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!(
        "An unchanged rescan against a full capture, {TABLES} tables (fastest of {RUNS}, alternating):"
    );
    println!();
    println!("| | wall time | statements | catalog rows |");
    println!("|---|---:|---:|---:|");
    println!(
        "| full capture | {:.1} ms ({:.1} ms of queries) | {} | |",
        ms(cost.capture),
        ms(cost.capture_queries),
        cost.capture_statements
    );
    println!(
        "| catalog probe | {:.1} ms | 1 | {} hashed |",
        ms(cost.probe),
        cost.probe_rows
    );
    println!("| ratio | {:.1}x faster | | |", cost.ratio());
    super::target(
        "the probe at least 5x faster than a capture",
        cost.ratio() >= 5.0,
        &format!("{:.1}x", cost.ratio()),
    );
}
