//! DDL latency while captures run: the figure `tests/safety.rs` used to
//! assert with a stopwatch (every ALTER TABLE under 1.5 s), measured here
//! instead, on the 10,000-table schema.

use driftwatch::shadow::Cluster;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

/// Runs `captures` snapshots of `db` one after another in a thread while
/// psql issues ALTER TABLE statements (50 ms apart) on the same database,
/// and prints how long those statements took.
pub fn run(cluster: &Cluster, driftwatch: &str, db: &str, captures: usize) {
    println!("\nDDL while {captures} captures run ...");
    let url = cluster.url(db).expose().to_string();
    let dw = driftwatch.to_string();
    let capturing = std::thread::spawn(move || {
        (0..captures)
            .filter(|_| {
                Command::new(&dw)
                    .args(["snapshot", &url, "-o", "/dev/null"])
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .count()
    });
    let mut script = String::from("\\timing on\n");
    for _ in 0..100 {
        let _ = writeln!(
            script,
            "ALTER TABLE s0.t10 ADD COLUMN flicker int;\nSELECT pg_sleep(0.05);\nALTER TABLE s0.t10 DROP COLUMN flicker;\nSELECT pg_sleep(0.05);"
        );
    }
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), script).expect("write DDL script");
    let out = Command::new("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(cluster.socket_dir())
        .args([
            "-p",
            &cluster.port().to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-f",
        ])
        .arg(file.path())
        .output()
        .expect("run psql");
    let ok = capturing.join().unwrap_or(0);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut times: Vec<Duration> = Vec::new();
    let mut after_alter = false;
    for line in text.lines() {
        if line == "ALTER TABLE" {
            after_alter = true;
        } else if let Some(ms) = line.strip_prefix("Time: ") {
            if after_alter {
                if let Some(ms) = ms.split(' ').next().and_then(|m| m.parse::<f64>().ok()) {
                    times.push(Duration::from_secs_f64(ms / 1000.0));
                }
            }
            after_alter = false;
        }
    }
    times.sort();
    if times.is_empty() {
        println!(
            "no ALTER TABLE timings read: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{} ALTER TABLE statements beside {ok}/{captures} successful captures: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
}
