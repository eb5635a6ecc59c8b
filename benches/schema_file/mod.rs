//! `driftwatch diff schema.sql URL` against psql loading the same file: a
//! generated schema of about 1,000 lines (tables with keys, defaults,
//! checks and indexes, views, functions), loaded into a fresh database
//! with psql, then diffed against that database by driftwatch, which loads
//! the file into a shadow cluster of its own. With and without the initdb
//! cache (`DRIFTWATCH_INITDB_CACHE=off`). `DRIFTWATCH_BENCH_ONLY=schema-file`
//! runs it alone.

use driftwatch::shadow::Cluster;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TABLES: usize = 70;

/// About 1,000 lines of DDL.
fn schema() -> String {
    let mut sql = String::from("CREATE SCHEMA app;\n");
    for t in 0..TABLES {
        sql.push_str(&format!(
            "CREATE TABLE app.t{t} (\n  id bigserial PRIMARY KEY,\n  code text NOT NULL UNIQUE,\n  \
             status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')),\n  \
             amount numeric(12,2) NOT NULL DEFAULT 0,\n  parent_id bigint{},\n  \
             created_at timestamptz NOT NULL DEFAULT now(),\n  note text\n);\n\
             CREATE INDEX t{t}_created ON app.t{t} (created_at);\n\
             COMMENT ON TABLE app.t{t} IS 'table {t}';\n",
            if t > 0 {
                format!(" REFERENCES app.t{}", t - 1)
            } else {
                String::new()
            }
        ));
        if t % 5 == 0 {
            sql.push_str(&format!(
                "CREATE VIEW app.v{t} AS\n  SELECT id, code, amount\n  FROM app.t{t}\n  WHERE status = 'new';\n\
                 CREATE FUNCTION app.total_{t}() RETURNS numeric\n  LANGUAGE sql STABLE\n  AS $$ SELECT coalesce(sum(amount), 0) FROM app.t{t} $$;\n"
            ));
        }
    }
    sql
}

/// Runs the section.
pub fn run(cluster: &Cluster, driftwatch: &Path) {
    let sql = schema();
    let file = tempfile::Builder::new()
        .suffix(".sql")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), &sql).expect("write schema");
    let lines = sql.lines().count();
    let mut psql_times = Vec::new();
    for i in 0..super::RUNS {
        let db = format!("schema_file_{i}");
        super::psql(
            cluster,
            "postgres",
            &["-c", &format!("CREATE DATABASE {db}")],
        );
        let (t, _, _) = super::measure(&mut super::psql_load(&cluster.url(&db), file.path()));
        psql_times.push(t);
    }
    let url = cluster.url("schema_file_0");
    let diff = |cache: &str| -> (Duration, i64) {
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..super::RUNS {
            // Exit 1 would be a difference: reported by the check below.
            let (t, r, _) = super::measure_ok(
                Command::new(driftwatch)
                    .arg("diff")
                    .arg(file.path())
                    .arg(url.expose())
                    .env("DRIFTWATCH_INITDB_CACHE", cache)
                    .env_remove("DRIFTWATCH_SHADOW_URL"),
                &[0, 1],
            );
            times.push(t);
            rss = rss.max(r);
        }
        (super::median(times), rss)
    };
    let (cold, _) = diff("off");
    let (warm, rss) = diff("on");
    let psql = super::median(psql_times);
    println!();
    println!(
        "`diff schema.sql URL`, a {lines}-line schema file ({TABLES} tables), median of {}:",
        super::RUNS
    );
    println!();
    println!("| command | wall time | peak RSS | vs psql |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `psql --single-transaction -f schema.sql` (into a fresh database) | {:.2} s | | 1x |",
        psql.as_secs_f64()
    );
    println!(
        "| `driftwatch diff schema.sql URL` (initdb cached) | {:.2} s | {} MB | {:.1}x |",
        warm.as_secs_f64(),
        rss / 1024,
        warm.as_secs_f64() / psql.as_secs_f64()
    );
    println!(
        "| same, `DRIFTWATCH_INITDB_CACHE=off` (initdb each time) | {:.2} s | | {:.1}x |",
        cold.as_secs_f64(),
        cold.as_secs_f64() / psql.as_secs_f64()
    );
    let ratio = warm.as_secs_f64() / psql.as_secs_f64();
    super::target(
        "`diff schema.sql URL` within 1.5x of psql loading the file",
        ratio <= 1.5,
        &format!("{ratio:.1}x"),
    );
}
