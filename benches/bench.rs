//! `make bench`: a synthetic 10,000-table schema in a throwaway cluster,
//! captured by `driftwatch snapshot` and dumped by `pg_dump --schema-only`
//! side by side, in one run, on the same database. Prints a Markdown table
//! of wall time (median of the runs), peak RSS and statements sent.

use driftwatch::shadow::{find_bindir, Cluster, ClusterOptions};
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TABLES: usize = 10_000;
const SCHEMAS: usize = 10;
const RUNS: usize = 3;

/// SQL for the synthetic schema, in transactions of a few hundred tables.
fn synthetic_schema() -> String {
    let mut sql = String::with_capacity(40 << 20);
    sql.push_str("SET client_min_messages = warning;\n");
    sql.push_str("DO $$ BEGIN CREATE ROLE bench_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n");
    for s in 0..SCHEMAS {
        let _ = writeln!(sql, "CREATE SCHEMA s{s};");
        for e in 0..5 {
            let _ = writeln!(
                sql,
                "CREATE TYPE s{s}.status{e} AS ENUM ('new', 'active', 'done', 'gone');"
            );
            let _ = writeln!(
                sql,
                "CREATE DOMAIN s{s}.money{e} AS numeric(12,2) CHECK (VALUE >= 0);"
            );
        }
        for q in 0..10 {
            let _ = writeln!(sql, "CREATE SEQUENCE s{s}.seq{q} START 100 INCREMENT 5;");
        }
    }
    for i in 0..TABLES {
        if i % 250 == 0 {
            if i > 0 {
                sql.push_str("COMMIT;\n");
            }
            sql.push_str("BEGIN;\n");
        }
        let s = i % SCHEMAS;
        let fk = if i >= SCHEMAS {
            format!(
                ",\n  parent_id bigint REFERENCES s{}.t{} (id)",
                (i - SCHEMAS) % SCHEMAS,
                i - SCHEMAS
            )
        } else {
            ",\n  parent_id bigint".to_string()
        };
        let fk2 = if i >= 2 * SCHEMAS && i % 2 == 0 {
            format!(
                " REFERENCES s{}.t{} (id) ON DELETE SET NULL",
                (i - 2 * SCHEMAS) % SCHEMAS,
                i - 2 * SCHEMAS
            )
        } else {
            String::new()
        };
        let unique = if i % 2 == 0 { " UNIQUE" } else { "" };
        let _ = writeln!(
            sql,
            "CREATE TABLE s{s}.t{i} (\n  id bigserial PRIMARY KEY{fk},\n  owner_id bigint{fk2},\n  code text NOT NULL{unique},\n  name varchar(100),\n  status s{s}.status{e} NOT NULL DEFAULT 'new',\n  amount s{s}.money{e} CHECK (amount < {limit}),\n  created_at timestamptz NOT NULL DEFAULT now(),\n  flags int NOT NULL DEFAULT 0,\n  note text\n);",
            e = i % 5,
            // 100 distinct CHECK expressions: teams repeat patterns, but
            // not one expression everywhere.
            limit = 1_000_000 + (i % 100) * 1000
        );
        let _ = writeln!(
            sql,
            "CREATE INDEX t{i}_parent_idx ON s{s}.t{i} (parent_id);"
        );
        let _ = writeln!(
            sql,
            "CREATE INDEX t{i}_created_idx ON s{s}.t{i} (created_at DESC, status);"
        );
        if i % 50 == 0 {
            let _ = writeln!(
                sql,
                "CREATE INDEX t{i}_lower_idx ON s{s}.t{i} (lower(code));"
            );
            let _ = writeln!(
                sql,
                "CREATE INDEX t{i}_active_idx ON s{s}.t{i} (owner_id) WHERE flags > 0;"
            );
        }
        let _ = writeln!(sql, "COMMENT ON TABLE s{s}.t{i} IS 'table {i}';");
        let _ = writeln!(sql, "COMMENT ON COLUMN s{s}.t{i}.code IS 'business key';");
        let _ = writeln!(sql, "GRANT SELECT ON s{s}.t{i} TO bench_reader;");
        if i % 20 == 0 {
            let _ = writeln!(
                sql,
                "CREATE FUNCTION s{s}.touch_{i}() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN NEW.flags := NEW.flags + {i}; RETURN NEW; END $f$;\nCREATE TRIGGER t{i}_touch BEFORE UPDATE ON s{s}.t{i} FOR EACH ROW EXECUTE FUNCTION s{s}.touch_{i}();"
            );
            let _ = writeln!(
                sql,
                "CREATE VIEW s{s}.v{i} AS SELECT id, code, status FROM s{s}.t{i} WHERE flags > 0;\nGRANT SELECT ON s{s}.v{i} TO bench_reader;"
            );
            let _ = writeln!(
                sql,
                "CREATE FUNCTION s{s}.total_{i}(since timestamptz) RETURNS numeric LANGUAGE sql STABLE AS $f$ SELECT sum(amount) FROM s{s}.t{i} WHERE created_at >= since $f$;"
            );
        }
        if i % 200 == 0 {
            let _ = writeln!(
                sql,
                "CREATE MATERIALIZED VIEW s{s}.mv{i} AS SELECT status, count(*) AS n FROM s{s}.t{i} GROUP BY status;\nCREATE UNIQUE INDEX mv{i}_status_idx ON s{s}.mv{i} (status);"
            );
        }
    }
    sql.push_str("COMMIT;\nANALYZE;\n");
    sql
}

/// Wall time, peak RSS (KiB) and stderr of one child process.
// The child is reaped by libc::wait4 (which also reports its peak RSS),
// not by Child::wait, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> (Duration, i64, String) {
    let started = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let text = reader.join().unwrap_or_default();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "command failed: {cmd:?}: {text}"
    );
    (elapsed, usage.ru_maxrss, text)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` builds and
    // runs this binary too, where it must not load 10,000 tables.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // For profiling by hand: write the schema's SQL to a file and stop.
    if let Ok(path) = std::env::var("DRIFTWATCH_BENCH_SQL") {
        std::fs::write(&path, synthetic_schema()).expect("write SQL");
        println!("wrote {path}");
        return;
    }
    let driftwatch =
        std::env::var("DRIFTWATCH_BIN").unwrap_or_else(|_| "target/release/driftwatch".into());
    let bindir = find_bindir().expect("PostgreSQL binaries");
    let pg_dump = ["/usr/bin/pg_dump".into(), bindir.join("pg_dump")]
        .into_iter()
        .find(|p: &std::path::PathBuf| p.exists())
        .expect("pg_dump");
    println!("Starting a throwaway cluster ...");
    let cluster = Cluster::start(ClusterOptions::default()).expect("cluster");
    let psql = |db: &str, args: &[&str]| {
        let out = Command::new("psql")
            .arg(cluster.url(db).expose())
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
            .args(args)
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    psql("postgres", &["-c", "CREATE DATABASE bench"]);
    let sql = synthetic_schema();
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &sql).expect("write schema");
    let started = Instant::now();
    println!(
        "Loading {TABLES} tables ({} MB of DDL) ...",
        sql.len() >> 20
    );
    psql("bench", &["-f", file.path().to_str().unwrap()]);
    println!("Loaded in {:.0} s", started.elapsed().as_secs_f64());
    let counts = psql(
        "bench",
        &["-At", "-c", "SELECT (SELECT count(*) FROM pg_class WHERE relkind IN ('r','p') AND relnamespace::regnamespace::text ~ '^s[0-9]'), \
          (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relkind IN ('r','p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relnamespace::regnamespace::text ~ '^s[0-9]'), \
          (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace::regnamespace::text ~ '^s[0-9]'), \
          (SELECT count(*) FROM pg_constraint WHERE connamespace::regnamespace::text ~ '^s[0-9]')"],
    );
    println!("Schema: tables|columns|indexes|constraints = {counts}");

    let url = cluster.url("bench");
    let out_file = tempfile::NamedTempFile::new().expect("temp file");
    let dump_file = tempfile::NamedTempFile::new().expect("temp file");
    let mut dw_times = Vec::new();
    let mut dump_times = Vec::new();
    let (mut dw_rss, mut dump_rss) = (0, 0);
    let mut statements = String::new();
    for _ in 0..RUNS {
        let (t, rss, err) = measure(
            Command::new(&driftwatch)
                .args(["snapshot", url.expose(), "--stats", "-o"])
                .arg(out_file.path()),
        );
        dw_times.push(t);
        dw_rss = dw_rss.max(rss);
        if let Some(line) = err.lines().find(|l| l.starts_with("captured")) {
            statements = line
                .split(": ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .unwrap_or("?")
                .to_string();
        }
        let (t, rss, _) = measure(
            Command::new(&pg_dump)
                .args(["--schema-only", "-h"])
                .arg(cluster.socket_dir())
                .args([
                    "-p",
                    &cluster.port().to_string(),
                    "-U",
                    "postgres",
                    "-d",
                    "bench",
                    "-f",
                ])
                .arg(dump_file.path()),
        );
        dump_times.push(t);
        dump_rss = dump_rss.max(rss);
    }
    let (dw, dump) = (median(dw_times), median(dump_times));
    let snapshot_mb = std::fs::metadata(out_file.path())
        .map(|m| m.len() >> 20)
        .unwrap_or(0);
    println!();
    println!("Capture of the {TABLES}-table schema ({counts}), median of {RUNS} runs:");
    println!();
    println!("| command | wall time | peak RSS | SQL statements |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `driftwatch snapshot` ({snapshot_mb} MB JSON) | {:.2} s | {} MB | {statements} |",
        dw.as_secs_f64(),
        dw_rss / 1024
    );
    println!(
        "| `pg_dump --schema-only` | {:.2} s | {} MB | (per object) |",
        dump.as_secs_f64(),
        dump_rss / 1024
    );
    println!(
        "| ratio | {:.1}x faster | | |",
        dump.as_secs_f64() / dw.as_secs_f64()
    );
}
