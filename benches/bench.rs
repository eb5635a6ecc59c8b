//! `make bench`: a synthetic 10,000-table schema in a throwaway cluster,
//! captured by `driftwatch snapshot` and dumped by `pg_dump --schema-only`
//! side by side, in one run, on the same database. Prints a Markdown table
//! of wall time (median of the runs), peak RSS and statements sent.

use driftwatch::shadow::{find_bindir, Cluster, ClusterOptions};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod check;
mod ddl_latency;
mod incremental;

/// Prints a speed target's verdict under its table: what it asks, whether
/// this run met it, and the measured figures.
pub fn target(what: &str, met: bool, measured: &str) {
    println!();
    println!(
        "Target: {what}: {} ({measured}).",
        if met { "met" } else { "NOT met" }
    );
}

mod metrics;
mod preflight;
mod probe;
mod replay;
mod schema_file;
mod soak;
mod verify_down;
mod watch;

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

/// Wall time, peak RSS (KiB), stderr and exit code of one child process.
///
/// The peak RSS comes from `/usr/bin/time -f %M`, which forks the command
/// from its own small process: a child forked straight from this one would
/// inherit this process's RSS high-water mark through exec, and every row
/// would report at least the bench's own size.
fn run_measured(cmd: &mut Command) -> (Duration, i64, String, i32) {
    let rss_file = tempfile::NamedTempFile::new().expect("temp file");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M", "-o"])
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => timed.env(key, v),
            None => timed.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    let started = Instant::now();
    let out = timed
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run /usr/bin/time (Debian package time)");
    let elapsed = started.elapsed();
    let rss = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse::<i64>().ok()))
        .unwrap_or(0);
    let code = out.status.code().unwrap_or(-1);
    (
        elapsed,
        rss,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        code,
    )
}

/// [`run_measured`] for a command that must exit with one of `ok` codes.
fn measure_ok(cmd: &mut Command, ok: &[i32]) -> (Duration, i64, String) {
    let (t, rss, text, code) = run_measured(cmd);
    assert!(
        ok.contains(&code),
        "command failed ({code}): {cmd:?}: {text}"
    );
    (t, rss, text)
}

fn measure(cmd: &mut Command) -> (Duration, i64, String) {
    measure_ok(cmd, &[0])
}

/// Runs psql on `db` of the cluster (ON_ERROR_STOP) and returns its output.
fn psql(cluster: &Cluster, db: &str, args: &[&str]) -> String {
    let out = Command::new("psql")
        .arg(cluster.url(db).expose())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// psql loading `file` into the database at `url` in one transaction,
/// stopping at the first error: the baseline driftwatch's loads are
/// measured against.
fn psql_load(url: &driftwatch::catalog::DatabaseUrl, file: &std::path::Path) -> Command {
    let mut cmd = Command::new("psql");
    cmd.arg(url.expose())
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-f",
        ])
        .arg(file);
    cmd
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
    let cluster = Cluster::start(ClusterOptions {
        settings: incremental::server_settings(),
        ..ClusterOptions::default()
    })
    .expect("cluster");
    // DRIFTWATCH_BENCH_ONLY=schema-file: `diff schema.sql URL` against psql.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("schema-file") {
        schema_file::run(&cluster, std::path::Path::new(&driftwatch));
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=soak (`make soak`): incremental live capture
    // against 500 random DDL steps, compared with full captures.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("soak") {
        soak::run(&cluster);
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=probe: the catalog probe against a capture.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("probe") {
        probe::run(&cluster);
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=metrics: the metrics endpoint's timings.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("metrics") {
        metrics::run();
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=watch runs the 200-target daemon section alone.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("watch") {
        schema_file::run(&cluster, std::path::Path::new(&driftwatch));
        watch::run(&cluster, std::path::Path::new(&driftwatch));
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=preflight runs that section alone.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("preflight") {
        preflight::run(&cluster, std::path::Path::new(&driftwatch), &pg_dump);
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=verify-down: replay --verify-down against replay.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("verify-down") {
        verify_down::run(&cluster, std::path::Path::new(&driftwatch));
        return;
    }
    // DRIFTWATCH_BENCH_ONLY=replay runs that section alone (for tuning).
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("replay") {
        replay::run(&cluster, std::path::Path::new(&driftwatch));
        watch::run(&cluster, std::path::Path::new(&driftwatch));
        return;
    }
    psql(&cluster, "postgres", &["-c", "CREATE DATABASE bench"]);
    let sql = synthetic_schema();
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &sql).expect("write schema");
    let started = Instant::now();
    println!(
        "Loading {TABLES} tables ({} MB of DDL) ...",
        sql.len() >> 20
    );
    psql(&cluster, "bench", &["-f", file.path().to_str().unwrap()]);
    println!("Loaded in {:.0} s", started.elapsed().as_secs_f64());
    let counts = psql(
        &cluster,
        "bench",
        &["-At", "-c", "SELECT (SELECT count(*) FROM pg_class WHERE relkind IN ('r','p') AND relnamespace::regnamespace::text ~ '^s[0-9]'), \
          (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relkind IN ('r','p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relnamespace::regnamespace::text ~ '^s[0-9]'), \
          (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace::regnamespace::text ~ '^s[0-9]'), \
          (SELECT count(*) FROM pg_constraint WHERE connamespace::regnamespace::text ~ '^s[0-9]')"],
    );
    println!("Schema: tables|columns|indexes|constraints = {counts}");

    // DRIFTWATCH_BENCH_ONLY=incremental: incremental `check` after one change.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("incremental") {
        let (dump, dump_rss) = incremental::dump_baseline(&cluster, &pg_dump);
        incremental::run(&cluster, &driftwatch, dump, dump_rss);
        return;
    }

    // DRIFTWATCH_BENCH_ONLY=sql runs the migration SQL round trip alone.
    if std::env::var("DRIFTWATCH_BENCH_ONLY").as_deref() == Ok("sql") {
        let b = make_drift(&cluster, &driftwatch);
        let dir = tempfile::tempdir().expect("temp dir");
        round_trip_section(&cluster, &driftwatch, &b, dir.path());
        return;
    }
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
    let ratio = dump.as_secs_f64() / dw.as_secs_f64();
    println!("| ratio | {ratio:.1}x faster | | |");
    target(
        "capture at least 10x faster than `pg_dump --schema-only`, peak RSS under 300 MB",
        ratio >= 10.0 && dw_rss < 300 * 1024,
        &format!("{ratio:.1}x, {} MB", dw_rss / 1024),
    );

    check::run(url.expose(), &driftwatch, dump, dump_rss);
    incremental::run(&cluster, &driftwatch, dump, dump_rss);
    drift_section(&cluster, &driftwatch, &pg_dump, out_file.path());
    ddl_latency::run(&cluster, &driftwatch, "bench", 4);
    replay::run(&cluster, std::path::Path::new(&driftwatch));
    preflight::run(&cluster, std::path::Path::new(&driftwatch), &pg_dump);
    verify_down::run(&cluster, std::path::Path::new(&driftwatch));
    schema_file::run(&cluster, std::path::Path::new(&driftwatch));
    probe::run(&cluster);
    metrics::run();
    watch::run(&cluster, std::path::Path::new(&driftwatch));
}

/// ~30 scattered drifts, each with the (code, object) it must produce.
const DRIFTS: &[(&str, &[(&str, &str)])] = &[
    ("ALTER TABLE s0.t100 ADD COLUMN extra int", &[("column-added", "s0.t100.extra")]),
    ("DROP INDEX s1.t201_parent_idx", &[("index-removed", "s1.t201.t201_parent_idx")]),
    ("CREATE OR REPLACE FUNCTION s0.total_0(since timestamptz) RETURNS numeric LANGUAGE sql STABLE AS $f$ SELECT sum(amount) + 1 FROM s0.t0 WHERE created_at >= since $f$",
        &[("function-body-changed", "s0.total_0(since timestamp with time zone)")]),
    ("GRANT SELECT ON s2.t302 TO PUBLIC", &[("privilege-granted", "s2.t302")]),
    ("ALTER TABLE s3.t403 ALTER COLUMN flags SET DEFAULT 1", &[("column-default-changed", "s3.t403.flags")]),
    ("ALTER TABLE s4.t504 ALTER COLUMN name TYPE varchar(200)", &[("column-type-changed", "s4.t504.name")]),
    ("COMMENT ON TABLE s5.t605 IS 'changed by hand'", &[("comment-changed", "s5.t605")]),
    ("ALTER TABLE s6.t706 DROP CONSTRAINT t706_amount_check", &[("constraint-removed", "s6.t706.t706_amount_check")]),
    ("CREATE INDEX t807_note_idx ON s7.t807 (note)", &[("index-added", "s7.t807.t807_note_idx")]),
    ("ALTER TABLE s8.t908 ALTER COLUMN note SET NOT NULL", &[("column-not-null-changed", "s8.t908.note")]),
    ("CREATE OR REPLACE VIEW s0.v1000 AS SELECT id, code, status FROM s0.t1000 WHERE flags > 1", &[("view-definition-changed", "s0.v1000")]),
    // The serial sequence follows its table's owner.
    ("ALTER TABLE s1.t1101 OWNER TO bench_reader", &[("owner-changed", "s1.t1101"), ("owner-changed", "s1.t1101_id_seq")]),
    ("ALTER TABLE s2.t1202 ENABLE ROW LEVEL SECURITY", &[("table-row-security-changed", "s2.t1202")]),
    ("CREATE TRIGGER t1303_touch BEFORE UPDATE ON s3.t1303 FOR EACH ROW EXECUTE FUNCTION s0.touch_1300()", &[("trigger-added", "s3.t1303.t1303_touch")]),
    ("ALTER TABLE s0.t1400 DISABLE TRIGGER t1400_touch", &[("trigger-enabled-changed", "s0.t1400.t1400_touch")]),
    ("ALTER SEQUENCE s5.seq3 INCREMENT BY 7", &[("sequence-increment-changed", "s5.seq3")]),
    ("ALTER TYPE s6.status1 ADD VALUE 'archived'", &[("type-labels-changed", "s6.status1")]),
    ("ALTER DOMAIN s7.money2 DROP CONSTRAINT money2_check", &[("type-constraints-changed", "s7.money2")]),
    ("CREATE TABLE s8.rogue (id int)", &[("table-added", "s8.rogue")]),
    ("DROP VIEW s0.v1980", &[("view-removed", "s0.v1980")]),
    // `note` is the table's last column: a live diff cannot tell its rename
    // from a drop plus an added column (which goes last), so it proves none.
    ("ALTER TABLE s0.t2000 RENAME COLUMN note TO remark", &[("column-removed", "s0.t2000.note"), ("column-added", "s0.t2000.remark")]),
    ("ALTER FUNCTION s0.total_2100(timestamptz) SECURITY DEFINER", &[("function-security-definer-changed", "s0.total_2100(since timestamp with time zone)")]),
    ("ALTER TABLE s2.t2202 ALTER COLUMN code SET STATISTICS 500", &[("column-statistics-target-changed", "s2.t2202.code")]),
    ("CREATE POLICY open_rows ON s3.t2303 USING (true)", &[("policy-added", "s3.t2303.open_rows")]),
    ("ALTER TABLE s4.t2404 ADD CONSTRAINT t2404_flags_check CHECK (flags >= 0)", &[("constraint-added", "s4.t2404.t2404_flags_check")]),
    ("ALTER TABLE s5.t2505 ALTER COLUMN created_at DROP DEFAULT", &[("column-default-changed", "s5.t2505.created_at")]),
    ("REVOKE SELECT ON s6.t2606 FROM bench_reader", &[("privilege-revoked", "s6.t2606")]),
    ("ALTER INDEX s7.t2707_created_idx RENAME TO t2707_created_at_idx", &[("index-renamed", "s7.t2707.t2707_created_at_idx")]),
    ("ALTER TABLE s8.t2808 SET (fillfactor = 80)", &[("table-options-changed", "s8.t2808")]),
    ("DROP TABLE s9.t9999", &[("table-removed", "s9.t9999"), ("sequence-removed", "s9.t9999_id_seq")]),
];

/// The diff half: a drifted copy of the database, every drift found and
/// nothing else, in-memory diff time, and end to end against pg_dump + diff
/// and migra on the same two databases.
fn drift_section(
    cluster: &Cluster,
    driftwatch: &str,
    pg_dump: &std::path::Path,
    base_snapshot: &std::path::Path,
) {
    let b = make_drift(cluster, driftwatch);
    let a = driftwatch::source::read_snapshot(base_snapshot).expect("base snapshot");
    let mut times = Vec::new();
    let mut changes = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        changes = driftwatch::diff::diff(&a, &b);
        times.push(started.elapsed());
    }
    let diff_time = median(times);
    let found: BTreeSet<(String, String)> = changes
        .iter()
        .map(|c| (c.code.to_string(), c.object.name.replace('"', "")))
        .collect();
    let expected: BTreeSet<(String, String)> = DRIFTS
        .iter()
        .flat_map(|(_, e)| e.iter().map(|(c, o)| (c.to_string(), o.to_string())))
        .collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    println!(
        "Drift check: {} of {} expected changes found, {} unexpected",
        expected.len() - missing.len(),
        expected.len(),
        extra.len()
    );
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );

    let (url_a, url_b) = (cluster.url("bench"), cluster.url("bench_drift"));
    let mut dw = Vec::new();
    let mut dw_rss = 0;
    for _ in 0..RUNS {
        let (t, rss, _) = measure_ok(
            Command::new(driftwatch).args([
                "diff",
                url_a.expose(),
                url_b.expose(),
                "--format",
                "json",
            ]),
            &[1],
        );
        dw.push(t);
        dw_rss = dw_rss.max(rss);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = |db: &str| {
        format!(
            "{} --schema-only --restrict-key=driftwatchbench -h '{}' -p {} -U postgres -d {db} -f '{}/{db}.sql'",
            pg_dump.display(),
            cluster.socket_dir().display(),
            cluster.port(),
            dir.path().display()
        )
    };
    let script = format!(
        "{} && {} && diff -u '{d}/bench.sql' '{d}/bench_drift.sql' > '{d}/dump.diff'; test $? -le 1",
        dump("bench"),
        dump("bench_drift"),
        d = dir.path().display()
    );
    let mut pd = Vec::new();
    let mut pd_rss = 0;
    for _ in 0..RUNS {
        let (t, rss, _) = measure(Command::new("sh").args(["-c", &script]));
        pd.push(t);
        pd_rss = pd_rss.max(rss);
    }
    round_trip_section(cluster, driftwatch, &b, dir.path());
    let migra = migra_row(cluster);
    let (dw, pd) = (median(dw), median(pd));
    println!();
    println!(
        "Diff of two {TABLES}-table databases ({} drifts), median of {RUNS} runs:",
        DRIFTS.len()
    );
    println!();
    println!("| command | wall time | peak RSS | vs driftwatch |");
    println!("|---|---:|---:|---:|");
    println!(
        "| in-memory `diff` of the two snapshots | {:.0} ms | | |",
        diff_time.as_secs_f64() * 1000.0
    );
    println!(
        "| `driftwatch diff URL URL` | {:.2} s | {} MB | 1x |",
        dw.as_secs_f64(),
        dw_rss / 1024
    );
    println!(
        "| `pg_dump -s` x2 + `diff -u` | {:.2} s | {} MB | {:.1}x slower |",
        pd.as_secs_f64(),
        pd_rss / 1024,
        pd.as_secs_f64() / dw.as_secs_f64()
    );
    match migra {
        Some((t, rss)) => println!(
            "| `migra --unsafe` | {:.2} s | {} MB | {:.1}x slower |",
            t.as_secs_f64(),
            rss / 1024,
            t.as_secs_f64() / dw.as_secs_f64()
        ),
        None => println!("| `migra --unsafe` | did not finish in {MIGRA_TIMEOUT} s | | |"),
    }
    let ratio = pd.as_secs_f64() / dw.as_secs_f64();
    target(
        "`diff URL URL` at least 10x faster than `pg_dump -s` x2 + `diff`, peak RSS under 400 MB",
        ratio >= 10.0 && dw_rss < 400 * 1024,
        &format!("{ratio:.1}x, {} MB", dw_rss / 1024),
    );
}

/// bench_drift: a copy of bench with the drifts applied; its snapshot.
fn make_drift(cluster: &Cluster, driftwatch: &str) -> driftwatch::model::Snapshot {
    println!(
        "\nCopying the database and applying {} drifts ...",
        DRIFTS.len()
    );
    psql(
        cluster,
        "postgres",
        &["-c", "CREATE DATABASE bench_drift TEMPLATE bench"],
    );
    for (sql, _) in DRIFTS {
        psql(cluster, "bench_drift", &["-c", sql]);
    }
    let drift_file = tempfile::NamedTempFile::new().expect("temp file");
    measure(
        Command::new(driftwatch)
            .args(["snapshot", cluster.url("bench_drift").expose(), "-o"])
            .arg(drift_file.path()),
    );
    driftwatch::source::read_snapshot(drift_file.path()).expect("drift snapshot")
}

/// `diff --sql` on the same pair: the migration bench → bench_drift, timed,
/// applied to a copy of bench, and judged as the round-trip tests judge:
/// the copy's snapshot must equal bench_drift's, and so must pg_dump.
fn round_trip_section(
    cluster: &Cluster,
    driftwatch: &str,
    target: &driftwatch::model::Snapshot,
    dumps: &std::path::Path,
) {
    let (url_a, url_b) = (cluster.url("bench"), cluster.url("bench_drift"));
    let sql_file = dumps.join("migration.sql");
    let mut times = Vec::new();
    let mut rss_max = 0;
    let mut sql = String::new();
    for _ in 0..RUNS {
        let (t, rss, _) = measure_ok(
            Command::new("sh").args([
                "-c",
                &format!(
                    "'{driftwatch}' diff '{}' '{}' --sql --allow-drops --reorder-columns > '{}'; test $? -eq 1",
                    url_a.expose(),
                    url_b.expose(),
                    sql_file.display()
                ),
            ]),
            &[0],
        );
        times.push(t);
        rss_max = rss_max.max(rss);
        sql = std::fs::read_to_string(&sql_file).unwrap_or_default();
    }
    let statements = sql.matches(";\n").count();
    psql(
        cluster,
        "postgres",
        &["-c", "CREATE DATABASE bench_round TEMPLATE bench"],
    );
    let started = Instant::now();
    psql(
        cluster,
        "bench_round",
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-f",
            sql_file.to_str().unwrap(),
        ],
    );
    let apply = started.elapsed();
    let round_file = tempfile::NamedTempFile::new().expect("temp file");
    measure(
        Command::new(driftwatch)
            .args(["snapshot", cluster.url("bench_round").expose(), "-o"])
            .arg(round_file.path()),
    );
    let round = driftwatch::source::read_snapshot(round_file.path()).expect("round snapshot");
    let left = driftwatch::diff::diff(&round, target);
    let dump = |db: &str| {
        let out = Command::new("pg_dump")
            .args(["--schema-only", "--restrict-key=driftwatchbench", "-h"])
            .arg(cluster.socket_dir())
            .args([
                "-p",
                &cluster.port().to_string(),
                "-U",
                "postgres",
                "-d",
                db,
            ])
            .output()
            .expect("pg_dump");
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        // Grant lines in the order they were made: history, not schema.
        lines.sort();
        lines
    };
    let (x, y) = (dump("bench_round"), dump("bench_drift"));
    let mut counts: std::collections::HashMap<&str, i64> = Default::default();
    for l in &x {
        *counts.entry(l).or_default() += 1;
    }
    for l in &y {
        *counts.entry(l).or_default() -= 1;
    }
    let dump_diff: i64 = counts.values().map(|n| n.abs()).sum();
    println!();
    println!("Migration SQL for the same pair (bench -> bench_drift), median of {RUNS} runs:");
    println!();
    println!("| step | wall time | peak RSS |");
    println!("|---|---:|---:|");
    println!(
        "| `driftwatch diff URL URL --sql --allow-drops --reorder-columns` ({statements} statements) | {:.2} s | {} MB |",
        median(times).as_secs_f64(),
        rss_max / 1024
    );
    println!(
        "| applying it to a copy of bench with psql | {:.2} s | |",
        apply.as_secs_f64()
    );
    println!(
        "Round trip: {} (snapshot differences left: {}; pg_dump lines differing, sorted: {dump_diff})",
        if left.is_empty() && dump_diff == 0 {
            "converges"
        } else {
            "DIVERGES"
        },
        left.len()
    );
    for c in left.iter().take(10) {
        println!("  left: {} {}", c.code, c.summary());
    }
}

const MIGRA_TIMEOUT: u64 = 900;

/// Installs migra into a cached virtualenv (PyPI) and times one run; None
/// when it does not finish within MIGRA_TIMEOUT.
fn migra_row(cluster: &Cluster) -> Option<(Duration, i64)> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let venv = std::path::PathBuf::from(home).join(".cache/driftwatch/migra-venv");
    let migra = venv.join("bin/migra");
    if !migra.exists() {
        println!("Installing migra into {} ...", venv.display());
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "migra", "psycopg2-binary"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
        assert!(ok, "could not install migra from PyPI");
    }
    let url = |db: &str| {
        format!(
            "postgresql+psycopg2://postgres@/{db}?host={}&port={}",
            cluster.socket_dir().display(),
            cluster.port()
        )
    };
    println!("Running migra (up to {MIGRA_TIMEOUT} s) ...");
    let (t, rss, err, code) = run_measured(
        Command::new("timeout")
            .arg(MIGRA_TIMEOUT.to_string())
            .arg(&migra)
            .args(["--unsafe", &url("bench"), &url("bench_drift")]),
    );
    match code {
        2 => Some((t, rss)),
        124 => None,
        other => panic!("migra failed ({other}): {err}"),
    }
}
