//! `make soak` (`DRIFTWATCH_BENCH_ONLY=soak`): incremental live capture
//! against a seeded random sequence of DDL steps (`gen.rs`) on one
//! database. After every step an incremental capture, chained from the
//! previous one as the daemon chains them; every [`EVERY`] steps (and
//! after the last) a full capture, whose objects must be byte-identical.
//! A mismatch prints the seed, the step and the differences, and the chain
//! goes on from the full capture (as a scan's periodic full capture wins);
//! the run then ends listing every step so far, and exits 1.
//!
//! `SEED=n` repeats a run (default: the clock, printed first);
//! `SOAK_STEPS=n` changes its length (default [`STEPS`]).

mod gen;

#[allow(dead_code)]
#[path = "../../tests/common/equiv.rs"]
mod equiv;

use driftwatch::catalog::{capture_live, CaptureKind, CaptureOptions, DatabaseUrl, LiveCapture};
use driftwatch::shadow::Cluster;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Steps of a run.
const STEPS: usize = 500;
/// Steps between two comparisons with a full capture.
const EVERY: usize = 25;

/// Runs the soak on a database of `cluster`.
pub fn run(cluster: &Cluster) {
    let seed = std::env::var("SEED")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>().expect("SEED: a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    let steps = std::env::var("SOAK_STEPS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(STEPS);
    println!();
    println!("soak: seed {seed}, {steps} steps, a full capture compared every {EVERY}");
    super::psql(cluster, "postgres", &["-c", "CREATE DATABASE soak"]);
    let url = cluster.url("soak");
    super::psql(cluster, "soak", &["-c", gen::SETUP]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let outcome = rt.block_on(soak(&url, seed, steps));
    outcome.print(seed);
    if !outcome.mismatches.is_empty() {
        println!();
        println!("Steps of seed {seed} (repeat: make soak SEED={seed}):");
        for (n, step) in outcome.log.iter().enumerate() {
            println!("{:4} {step}", n + 1);
        }
        std::process::exit(1);
    }
}

/// What a run found.
#[derive(Default)]
struct Outcome {
    /// Every step, with `-- rejected: …` when the server refused it.
    log: Vec<String>,
    rejected: usize,
    incremental: Vec<Duration>,
    full: Vec<Duration>,
    /// Full captures where an incremental one was asked for, by reason.
    fallbacks: BTreeMap<String, usize>,
    compared: usize,
    mismatches: Vec<String>,
}

impl Outcome {
    fn print(&self, seed: u64) {
        let p50 = |v: &[Duration]| {
            let mut v = v.to_vec();
            v.sort();
            v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!();
        println!("| seed {seed} | |");
        println!("|---|---:|");
        println!(
            "| steps (rejected by the server) | {} ({}) |",
            self.log.len(),
            self.rejected
        );
        println!(
            "| incremental captures, p50 | {} ({:.1} ms) |",
            self.incremental.len(),
            p50(&self.incremental)
        );
        let fallbacks: usize = self.fallbacks.values().sum();
        println!("| full instead of incremental | {fallbacks} |");
        for (reason, n) in &self.fallbacks {
            println!("| &nbsp; {reason} | {n} |");
        }
        println!(
            "| full captures compared, p50 | {} ({:.1} ms) |",
            self.compared,
            p50(&self.full)
        );
        println!("| mismatches | {} |", self.mismatches.len());
        for step in self
            .log
            .iter()
            .filter(|s| s.contains(" -- rejected: "))
            .take(10)
        {
            println!();
            println!("rejected: {step}");
        }
        for m in &self.mismatches {
            println!();
            println!("{m}");
        }
    }
}

/// A capture with default options, from `previous` when given.
async fn capture(url: &DatabaseUrl, previous: Option<&LiveCapture>) -> (LiveCapture, Duration) {
    let opts = CaptureOptions::default();
    let started = Instant::now();
    let c = capture_live(url, &opts, previous.map(|p| (&p.snapshot, &p.state)), false)
        .await
        .unwrap_or_else(|e| panic!("capture: {e}"));
    (c, started.elapsed())
}

async fn soak(url: &DatabaseUrl, seed: u64, steps: usize) -> Outcome {
    let mut gen = gen::Gen::new(seed);
    let mut out = Outcome::default();
    let mut conn = url.connect(&[]).await.expect("connect");
    let (mut last, _) = capture(url, None).await;
    for n in 1..=steps {
        let sql = gen.step();
        // One simple-query message: its statements are one implicit
        // transaction, so a refused step leaves nothing behind.
        match sqlx::raw_sql(&sql).execute(&mut conn).await {
            Ok(_) => out.log.push(sql),
            Err(e) => {
                out.rejected += 1;
                let why = e.to_string().replace('\n', " ");
                out.log.push(format!("{sql} -- rejected: {why}"));
            }
        }
        let (inc, took) = capture(url, Some(&last)).await;
        match &inc.kind {
            CaptureKind::Incremental { .. } | CaptureKind::Reused => out.incremental.push(took),
            CaptureKind::Full { reason } => {
                *out.fallbacks.entry(format!("{reason:?}")).or_default() += 1;
            }
        }
        last = inc;
        if n % EVERY == 0 || n == steps {
            let (full, took) = capture(url, None).await;
            out.full.push(took);
            out.compared += 1;
            let (a, b) = (
                serde_json::to_string(&last.snapshot.objects).expect("json"),
                serde_json::to_string(&full.snapshot.objects).expect("json"),
            );
            if a != b {
                out.mismatches.push(format!(
                    "MISMATCH at step {n} (seed {seed}), last step {:?}:\n  {}",
                    out.log.last().map(String::as_str).unwrap_or(""),
                    equiv::json_differences(&a, &b).join("\n  ")
                ));
                last = full;
            }
        }
    }
    out
}
