//! The `watch` daemon at fleet size: 200 small databases in the bench's
//! cluster, one `driftwatch watch` process scanning every one each minute.
//! Prints scans per second, p95 scan latency, peak RSS, whether every
//! minute's 200 scans finished within the minute, and what an unchanged
//! rescan (catalog probe, stored live snapshot reused) costs the server
//! against a full capture. `DRIFTWATCH_BENCH_ONLY=watch` runs it alone.

use driftwatch::shadow::Cluster;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGETS: usize = 200;
/// Minutes of the second phase, each with one change per database.
const CHANGED_MINUTES: usize = 3;

/// A small application schema: 8 tables with keys, defaults, indexes, a
/// view and a function.
const SCHEMA: &str = "
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE products (id bigserial PRIMARY KEY, sku text NOT NULL UNIQUE, price numeric(10,2) NOT NULL CHECK (price >= 0));
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, status text NOT NULL DEFAULT 'new', placed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer ON orders (customer_id, placed_at);
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders ON DELETE CASCADE, product_id bigint NOT NULL REFERENCES products, qty int NOT NULL CHECK (qty > 0), PRIMARY KEY (order_id, product_id));
CREATE TABLE payments (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, amount numeric(10,2) NOT NULL, paid_at timestamptz);
CREATE TABLE shipments (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, carrier text, shipped_at timestamptz);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), actor text, action text NOT NULL);
CREATE TABLE settings (key text PRIMARY KEY, value jsonb NOT NULL DEFAULT '{}');
CREATE VIEW open_orders AS SELECT o.id, c.email, o.placed_at FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'done';
CREATE FUNCTION order_total(bigint) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(l.qty * p.price), 0) FROM order_lines l JOIN products p ON p.id = l.product_id WHERE l.order_id = $1 $$;
";

/// One `scan finished` or `scan failed` log event.
struct Scan {
    at: jiff::Timestamp,
    millis: u64,
    /// The scan reported drift (the second phase's changes are drift).
    drift: bool,
}

/// The `p` quantile of sorted `ms` (0 when empty).
fn percentile(ms: &[u64], p: f64) -> u64 {
    if ms.is_empty() {
        return 0;
    }
    ms[((ms.len() as f64 - 1.0) * p).round() as usize]
}

/// Waits until the log holds `count` scans or `limit_s` seconds passed,
/// keeping the process's peak RSS.
fn wait_for_scans(log: &Path, pid: u32, count: usize, limit_s: u64, peak_rss_kb: &mut u64) {
    let started = Instant::now();
    loop {
        *peak_rss_kb = (*peak_rss_kb).max(vm_hwm(pid));
        if read_scans(log).len() >= count || started.elapsed() > Duration::from_secs(limit_s) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    *peak_rss_kb = (*peak_rss_kb).max(vm_hwm(pid));
}

/// For [`CHANGED_MINUTES`] minutes, at second 30 (between two ticks'
/// scans), one change in each target database through one psql session
/// (`\connect` from one to the next): a new index and a comment in turn,
/// names unique. Returns (Unix minute, what, how long the round took).
fn change_every_minute(admin_url: &str) -> Vec<(i64, &'static str, Duration)> {
    let mut done = Vec::new();
    for k in 0..CHANGED_MINUTES {
        let now = jiff::Timestamp::now().as_millisecond();
        let next = (now / 60_000) * 60_000 + 30_000;
        let at = if next > now { next } else { next + 60_000 };
        std::thread::sleep(Duration::from_millis((at - now) as u64));
        let (what, sql) = if k % 2 == 0 {
            (
                "CREATE INDEX",
                format!("CREATE INDEX audit_actor_{k} ON audit_log (actor, at)"),
            )
        } else {
            (
                "COMMENT ON TABLE",
                format!("COMMENT ON TABLE settings IS 'changed by hand, round {k}'"),
            )
        };
        let mut script = String::new();
        for i in 0..TARGETS {
            script.push_str(&format!("\\connect watch_{i}\n{sql};\n"));
        }
        let started = Instant::now();
        let mut psql = Command::new("psql")
            .arg(admin_url)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("psql");
        {
            use std::io::Write as _;
            let mut stdin = psql.stdin.take().expect("psql stdin");
            stdin.write_all(script.as_bytes()).expect("write to psql");
        }
        assert!(psql.wait().expect("psql").success(), "changes failed");
        done.push((at / 60_000, what, started.elapsed()));
    }
    done
}

/// Runs the section.
pub fn run(cluster: &Cluster, driftwatch: &Path) {
    println!();
    println!("watch: creating {TARGETS} databases ...");
    super::psql(cluster, "postgres", &["-c", "CREATE DATABASE watch_tpl"]);
    super::psql(cluster, "watch_tpl", &["-c", SCHEMA]);
    for i in 0..TARGETS {
        super::psql(
            cluster,
            "postgres",
            &[
                "-c",
                &format!("CREATE DATABASE watch_{i} TEMPLATE watch_tpl"),
            ],
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // The metrics endpoint says how each scan read the live schema.
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let mut config = format!(
        "[store]\npath = \"store\"\n\n[watch]\nschedule = \"* * * * *\"\nmax_concurrent_scans = 4\nlisten = \"{listen}\"\n\n",
    );
    for i in 0..TARGETS {
        config.push_str(&format!(
            "[[target]]\nname = \"db{i}\"\nurl = \"{}\"\n\n",
            cluster.url(&format!("watch_{i}")).expose()
        ));
    }
    let config_path = dir.path().join("driftwatch.toml");
    std::fs::write(&config_path, config).expect("write config");
    let log = dir.path().join("watch.log");
    let mut child = Command::new(driftwatch)
        .args(["watch", "--config"])
        .arg(&config_path)
        .args(["--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start driftwatch watch");
    // Three minutes' ticks: the first records each target's accepted state
    // (a full capture), the next ones are unchanged rescans.
    println!("watch: {TARGETS} targets every minute; waiting for three minutes' scans ...");
    let mut peak_rss_kb = 0;
    wait_for_scans(&log, child.id(), 3 * TARGETS, 300, &mut peak_rss_kb);
    let reads_before = live_reads(listen);
    // Second phase, same process and targets: a change in every database
    // half a minute after each tick, so each of the next ticks' scans
    // meets one (an incremental capture where the store allows it).
    println!("watch: one change per database every minute, {CHANGED_MINUTES} minutes ...");
    let admin = cluster.url("postgres").expose().to_string();
    let changer = std::thread::spawn(move || change_every_minute(&admin));
    wait_for_scans(
        &log,
        child.id(),
        (3 + CHANGED_MINUTES) * TARGETS,
        60 * (CHANGED_MINUTES as u64 + 2),
        &mut peak_rss_kb,
    );
    let changes = changer.join().expect("change thread");
    let reads_after = live_reads(listen);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait for watch");
    let scans = read_scans(&log);
    // Group by the minute the scan finished in (ticks are on the minute;
    // jitter spreads starts over 6 s).
    let mut minutes: BTreeMap<i64, Vec<&Scan>> = BTreeMap::new();
    for s in &scans {
        minutes.entry(s.at.as_second() / 60).or_default().push(s);
    }
    println!();
    println!("`driftwatch watch`, {TARGETS} targets (8 tables, a view, a function each) on `* * * * *`, max_concurrent_scans = 4, exit {status}:");
    println!();
    println!(
        "| minute | scans | all done after the tick | scans per second | p50 scan | p95 scan | reporting drift |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let (mut unchanged, mut changed) = (Vec::new(), Vec::new());
    let mut within = 0;
    for (i, (minute, list)) in minutes.iter().enumerate() {
        let tick = minute * 60;
        let last = list
            .iter()
            .map(|s| s.at.as_millisecond())
            .max()
            .unwrap_or(0);
        let first = list
            .iter()
            .map(|s| s.at.as_millisecond())
            .min()
            .unwrap_or(0);
        let span = (last - first).max(1) as f64 / 1000.0;
        let mut ms: Vec<u64> = list.iter().map(|s| s.millis).collect();
        ms.sort();
        let done_after = (last - tick * 1000) as f64 / 1000.0;
        let label = if i == 0 {
            "1 (first scans: full capture, state recorded)".to_string()
        } else if let Some((_, what, _)) = changes.iter().find(|c| c.0 + 1 == *minute) {
            changed.extend(ms.iter().copied());
            within += usize::from(list.len() == TARGETS && done_after < 60.0);
            format!("changed ({what} in each database half a minute before)")
        } else {
            unchanged.extend(ms.iter().copied());
            "rescan (catalog probe)".to_string()
        };
        println!(
            "| {label} | {} | {done_after:.1} s | {:.0} | {} ms | {} ms | {} |",
            list.len(),
            list.len() as f64 / span,
            percentile(&ms, 0.5),
            percentile(&ms, 0.95),
            list.iter().filter(|s| s.drift).count()
        );
    }
    println!(
        "| peak RSS of the process | {} MB | | | | | |",
        peak_rss_kb / 1024
    );
    let phase2: Vec<String> = reads_after
        .iter()
        .map(|(k, n)| format!("{k} {}", n - reads_before.get(k).copied().unwrap_or(0)))
        .collect();
    let phase1: Vec<String> = reads_before
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "(live schema reads, from /metrics: first phase {}; second phase {})",
        phase1.join(", "),
        phase2.join(", ")
    );
    for (minute, what, took) in &changes {
        println!(
            "(changes: {what} in {TARGETS} databases at {:02}:{:02}:30 UTC took {:.1} s)",
            minute / 60 % 24,
            minute % 60,
            took.as_secs_f64()
        );
    }
    unchanged.sort();
    changed.sort();
    let (p_unchanged, p_changed) = (percentile(&unchanged, 0.95), percentile(&changed, 0.95));
    super::target(
        "one change per database per minute: every minute's scans within the minute, p95 scan at most 2x the unchanged rescan's",
        within == CHANGED_MINUTES && p_changed <= 2 * p_unchanged.max(1),
        &format!(
            "{within} of {CHANGED_MINUTES} changed minutes complete within the minute; p95 {p_changed} ms against {p_unchanged} ms, {:.1}x",
            p_changed as f64 / p_unchanged.max(1) as f64
        ),
    );
    probe_cost(cluster);
}

/// Server work of an unchanged rescan against a full capture, on one of
/// the databases: wall time and shared buffers touched (pg_stat_database).
fn probe_cost(cluster: &Cluster) {
    let url = cluster.url("watch_0");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = driftwatch::catalog::CaptureOptions::default();
    let buffers = || {
        super::psql(
            cluster,
            "postgres",
            &["-At", "-c", "SELECT pg_stat_clear_snapshot(); SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = 'watch_0'"],
        )
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<i64>().ok())
        .unwrap_or(0)
    };
    let measure = |probe: bool| {
        let mut times = Vec::new();
        let before = buffers();
        for _ in 0..20 {
            let t = Instant::now();
            if probe {
                rt.block_on(driftwatch::catalog::probe(&url, &opts))
                    .expect("probe");
            } else {
                rt.block_on(driftwatch::catalog::capture(&url, &opts))
                    .expect("capture");
            }
            times.push(t.elapsed());
        }
        // Backends report their statistics when they end.
        std::thread::sleep(Duration::from_millis(1500));
        let touched = (buffers() - before) / 20;
        (super::median(times), touched)
    };
    let (capture_time, capture_buffers) = measure(false);
    let (probe_time, probe_buffers) = measure(true);
    println!();
    println!("An unchanged rescan against a full capture (one database, median of 20):");
    println!();
    println!("| | wall time | shared buffers read on the server |");
    println!("|---|---:|---:|");
    println!(
        "| full capture | {:.1} ms | {capture_buffers} |",
        capture_time.as_secs_f64() * 1000.0
    );
    println!(
        "| catalog probe (unchanged) | {:.1} ms | {probe_buffers} |",
        probe_time.as_secs_f64() * 1000.0
    );
    println!(
        "| ratio | {:.1}x less | {:.1}x less |",
        capture_time.as_secs_f64() / probe_time.as_secs_f64().max(1e-9),
        capture_buffers as f64 / (probe_buffers.max(1)) as f64
    );
}

/// `driftwatch_live_captures_total` summed over targets by kind, and
/// `driftwatch_incremental_mismatches_total` as `mismatches`, from the
/// daemon's `/metrics` (empty when it cannot be read).
fn live_reads(addr: std::net::SocketAddr) -> BTreeMap<String, u64> {
    use std::io::{Read as _, Write as _};
    let mut text = String::new();
    if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
        let _ = s.read_to_string(&mut text);
    }
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(n) = value.trim().parse::<u64>() else {
            continue;
        };
        let key = if name.starts_with("driftwatch_incremental_mismatches_total") {
            "mismatches".to_string()
        } else if name.starts_with("driftwatch_live_captures_total") {
            match name
                .split("kind=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
            {
                Some(kind) => kind.to_string(),
                None => continue,
            }
        } else {
            continue;
        };
        *out.entry(key).or_default() += n;
    }
    out
}

/// Peak resident set (VmHWM) of `pid`, in kB.
fn vm_hwm(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The scans the log reports.
fn read_scans(log: &Path) -> Vec<Scan> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["message"] == "scan finished" || e["message"] == "scan failed")
        .filter_map(|e| {
            Some(Scan {
                at: e["timestamp"].as_str()?.parse().ok()?,
                millis: e["duration_ms"].as_u64()?,
                drift: e["result"] == "drift",
            })
        })
        .collect()
}
