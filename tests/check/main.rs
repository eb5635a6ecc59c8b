//! `driftwatch check` end to end: real PostgreSQL databases migrated by the
//! real tools (sqlx-cli, dbmate) or with the history rows their sources
//! write (Flyway, golang-migrate), out-of-band changes, and the binary's
//! reports and exit codes. One throwaway cluster for the whole binary; the
//! replays of `check` run on it too (`--shadow-url`).

#[path = "../common/mod.rs"]
mod common;

mod baseline;
mod baseline_cli;
mod faults;
mod flyway;
mod incremental;
mod prisma;
mod record_history;
mod round_trip;
mod tools;

use common::{driftwatch, repo, shadow};
use driftwatch::catalog::DatabaseUrl;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A watched database, its migration directory and its own store.
pub struct Watched {
    pub db: DatabaseUrl,
    pub dir: Option<PathBuf>,
    pub store: tempfile::TempDir,
    pub name: String,
}

impl Watched {
    /// A fresh database with `dir`'s migrations applied as their tool
    /// records them (`driftwatch::replay::migrate`), the first `count` only
    /// when given. Flyway's rows are then checked against Flyway's checksum
    /// as the tests compute it (tests/common/flyway.rs).
    pub async fn migrated(dir: &Path, count: Option<usize>) -> Watched {
        let db = common::fresh_db().await;
        let set = driftwatch::migrations::read(dir, None).expect("read migrations");
        let n = count.unwrap_or(set.migrations.len());
        driftwatch::replay::migrate(&db, &set, &set.migrations[..n])
            .await
            .expect("migrate");
        if set.format == driftwatch::migrations::Format::Flyway && n > 0 {
            // Written by driftwatch's own formula: checked against Flyway's.
            common::flyway::assert_flyway_history(&db, dir);
        }
        Watched::on(db, Some(dir.to_path_buf()))
    }

    /// `db` watched with `dir`.
    pub fn on(db: DatabaseUrl, dir: Option<PathBuf>) -> Watched {
        Watched {
            db,
            dir,
            store: tempfile::tempdir().expect("temp store"),
            name: "t".into(),
        }
    }

    /// The arguments of an ad hoc check of this target.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "check".to_string(),
            "--url".into(),
            self.db.expose().to_string(),
            "--name".into(),
            self.name.clone(),
            "--store".into(),
            self.store.path().display().to_string(),
            "--shadow-url".into(),
            shadow().admin_url().expose().to_string(),
        ];
        if let Some(dir) = &self.dir {
            args.extend(["--migrations".into(), dir.display().to_string()]);
        }
        args
    }

    /// Runs check with `extra` arguments and `--format json`: the output
    /// and the report.
    pub fn check(&self, extra: &[&str]) -> (Output, Value) {
        let mut args = self.args();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--format".into(), "json".into()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = driftwatch(&refs);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "check printed no JSON report ({e}); exit {:?}; stderr: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out, report)
    }

    /// The store's scans.jsonl records.
    pub fn scans(&self) -> Vec<Value> {
        let path = self.store.path().join(&self.name).join("scans.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a scan record"))
            .collect()
    }
}

/// Each finding as `severity code object by`, sorted: what a reader sees.
pub fn findings(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let what = f["object"]["name"]
                .as_str()
                .or(f["migration"]["version"].as_str())
                .unwrap_or("-");
            let by = match f["attribution"]["by"].as_str() {
                Some("migration") => format!(
                    "by {}",
                    f["attribution"]["migration"]["version"]
                        .as_str()
                        .unwrap_or("?")
                ),
                Some(other) => other.to_string(),
                None => "-".into(),
            };
            format!(
                "{} {} {what} {by}",
                f["severity"].as_str().unwrap(),
                f["code"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// Asserts the exit code, showing stderr when it is not the one expected.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The demo migrations (Flyway layout).
pub fn demo_dir() -> PathBuf {
    repo().join("fixtures/migrations/demo")
}

/// The out-of-band changes of the demo.
pub const OUT_OF_BAND: &str = "
DROP INDEX shop.orders_status_idx;
ALTER TABLE shop.customers ADD COLUMN nickname text;
GRANT SELECT ON shop.customers TO PUBLIC;
CREATE OR REPLACE FUNCTION shop.order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
AS $$ SELECT coalesce(sum(quantity * unit_price), 0) * 1.2 FROM shop.order_lines WHERE order_id = p_order_id $$;
";
