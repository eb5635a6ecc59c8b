//! `make bench`, preflight section: the replay benchmark's 300-migration
//! history with the last 5 pending. "Prod" holds the first 295 with
//! Flyway's history rows; a `check` stores their replay (not timed). Then,
//! side by side on the same data: `driftwatch preflight` (a shadow built
//! from the live schema, the 5 pending applied with locks and rewrites
//! read, the end state against the replay of all 300), and what a team
//! does by hand to "test it locally": `pg_dump --schema-only` of prod
//! restored into a scratch database with psql, then the 5 files with psql
//! (no end-state comparison, no hazards).

use super::{measure, psql, psql_load};
use driftwatch::shadow::Cluster;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Pending migrations at the end of the history.
const PENDING: usize = 5;

/// Runs the section, printing a Markdown table.
pub fn run(cluster: &Cluster, driftwatch: &Path, pg_dump: &Path) {
    match Command::new(driftwatch)
        .args(["preflight", "--help"])
        .output()
    {
        Ok(out) if out.status.success() => {}
        _ => {
            println!("\npreflight: skipped (driftwatch has no preflight command)");
            return;
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = super::replay::generate::generate(dir.path());
    let applied = stats.files - PENDING;
    println!(
        "\nPreflight: {} migrations, the last {PENDING} pending; migrating prod to {applied} ...",
        stats.files
    );
    psql(
        cluster,
        "postgres",
        &["-c", "CREATE DATABASE preflight_prod"],
    );
    let prod = cluster.url("preflight_prod");
    let set = driftwatch::migrations::read(dir.path(), None).expect("read migrations");
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    runtime
        .block_on(driftwatch::replay::migrate(
            &prod,
            &set,
            &set.migrations[..applied],
        ))
        .expect("migrate prod");
    psql(cluster, "preflight_prod", &["-c", "ANALYZE"]);
    let store = tempfile::tempdir().expect("temp dir");
    let admin = cluster.url("postgres");
    let common = |cmd: &mut Command| {
        cmd.args(["--url", prod.expose(), "--name", "prod", "--migrations"])
            .arg(dir.path())
            .arg("--store")
            .arg(store.path())
            .args(["--shadow-url", admin.expose()]);
    };
    println!("Storing the applied history's replay (driftwatch check, not timed) ...");
    let mut check = Command::new(driftwatch);
    check.arg("check");
    common(&mut check);
    measure(&mut check);

    println!("Running driftwatch preflight ...");
    let report_file = tempfile::NamedTempFile::new().expect("temp file");
    let mut preflight = Command::new(driftwatch);
    preflight.args(["preflight", "--format", "json", "-o"]);
    preflight.arg(report_file.path());
    common(&mut preflight);
    let (dw, dw_rss, _) = measure(&mut preflight);
    let out = std::fs::read_to_string(report_file.path()).unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    let applies = report["migrations"].as_array().map_or(0, |m| {
        m.iter().filter(|m| m["outcome"] == "applies").count()
    });
    assert_eq!(
        (report["result"].as_str(), applies),
        (Some("ok"), PENDING),
        "preflight: {out}"
    );

    println!("By hand: pg_dump --schema-only | psql, then the pending files ...");
    psql(
        cluster,
        "postgres",
        &["-c", "CREATE DATABASE preflight_hand"],
    );
    let scratch = cluster.url("preflight_hand");
    let dump = tempfile::NamedTempFile::new().expect("temp file");
    let started = Instant::now();
    measure(
        Command::new(pg_dump)
            .arg("--schema-only")
            .arg("-f")
            .arg(dump.path())
            .arg(prod.expose()),
    );
    measure(&mut psql_load(&scratch, dump.path()));
    for path in &stats.paths[applied..] {
        measure(&mut psql_load(&scratch, path));
    }
    let by_hand = started.elapsed();
    psql(cluster, "postgres", &["-c", "DROP DATABASE preflight_hand"]);
    psql(cluster, "postgres", &["-c", "DROP DATABASE preflight_prod"]);

    println!();
    println!(
        "Preflight of {PENDING} pending migrations against a {}-table live schema ({applied} applied), one run:",
        stats.tables
    );
    println!();
    println!("| command | wall time | peak RSS | what it answers |");
    println!("|---|---:|---:|---|");
    println!(
        "| `driftwatch preflight` | {:.1} s | {} MB | each file applies or fails with the drift that explains it, locks, rewrites, sizes, end state against the replay of all {} files |",
        dw.as_secs_f64(),
        dw_rss / 1024,
        stats.files
    );
    println!(
        "| `pg_dump --schema-only` \\| `psql`, then `psql -f` each pending file | {:.1} s | | the files apply to a copy of the schema |",
        by_hand.as_secs_f64()
    );
    let ratio = dw.as_secs_f64() / by_hand.as_secs_f64();
    super::target(
        "preflight within 3x of restoring a schema dump and applying the files by hand",
        ratio <= 3.0,
        &format!("{ratio:.2}x"),
    );
}
