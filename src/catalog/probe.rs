//! A cheap catalog change probe for scheduled rescans: one statement that
//! tells whether anything a capture reads may have changed since the last
//! probe, at a small fraction of a capture's cost. The `watch` daemon probes
//! first and captures only when the fingerprint differs from the one it
//! recorded with its last live snapshot.
//!
//! # What it reads
//!
//! `sql/probe.sql`, in one `REPEATABLE READ, READ ONLY` transaction on a
//! connection set up like every capture connection (the same startup
//! settings: read-only default, lock_timeout, statement_timeout,
//! application_name), sent as one message. For every catalog the capture
//! reads, directly or through a deparser or output function (pg_get_expr,
//! pg_get_viewdef, format_type, `::regproc`, aclitem output, …), it returns
//! the row count and the sum of a 64-bit hash of each row version's
//! `(ctid, xmin)`; pg_cast too, since the deparsers qualify names by what
//! name resolution, implicit casts included, would pick. Catalogs no capture
//! query reads are left out: pg_database, pg_seclabel, pg_init_privs,
//! pg_shdescription, and pg_statistic / pg_statistic_ext_data, which ANALYZE
//! rewrites. Catalogs whose system columns a plain role cannot read
//! are hashed by the values the capture prints from them: `pg_roles` by
//! (oid, name) (owners and grants are captured by role name),
//! `pg_user_mappings` by (mapping, server, role). `pg_settings` is hashed by
//! (name, value): output functions depend on settings such as
//! IntervalStyle, bytea_output or quote_all_identifiers, and a capture
//! session sees the settings this session sees. The fingerprint is a
//! SHA-256 over those sums, the server version, the probe's own SQL, the
//! driftwatch version and the capture options that shape a snapshot: a new
//! driftwatch or other options mean a capture even on an unchanged database.
//! The schema filter of the options is not applied to the catalogs: a change
//! outside the captured schemas costs one needless capture, never a miss.
//!
//! # Why it cannot miss a change
//!
//! Compare two probes whose snapshots see committed states S1 and S2. Every
//! transaction T that committed between them and wrote a catalog row did
//! one of:
//! - an INSERT or an UPDATE: DDL never overwrites a catalog row (the
//!   in-place exceptions are below); it writes a new row version whose
//!   `xmin` is T's transaction id. No row version visible in S1 can carry
//!   T's id (T was not yet visible to S1), so the multiset of
//!   `(ctid, xmin)` pairs differs;
//! - only DELETEs (DROP …, COMMENT … IS NULL, REVOKE of the last default
//!   privilege): the catalog's row count is lower. A transaction that
//!   deletes and inserts is the case above.
//!
//! Both show in (count, sum of hashes) unless the sums collide (about 2^-64
//! per change) or a removed pair comes back exactly: a new row version on
//! the very slot (ctid) of a deleted one, written by a transaction whose
//! 32-bit id equals the deleted row's `xmin`, which needs that row to be at
//! least 2^32 transactions old and both to fall between two probes. What
//! xmin alone misses (session.rs: removals leave no newer row) is covered by
//! the counts, and since PostgreSQL 9.4 freezing keeps `xmin` readable, so
//! (auto)VACUUM FREEZE changes no pair.
//!
//! The only non-transactional catalog writes are PostgreSQL's *in-place*
//! updates, which keep the row's ctid and xmin: VACUUM and ANALYZE
//! (`relpages`, `reltuples`, `relallvisible`, `relallfrozen`,
//! `relfrozenxid`, `relminmxid`, and clearing `relhasindex`,
//! `relhasrules`, `relhastriggers`), CREATE INDEX's statistics update of its
//! table (`relhasindex`, `relpages`, `reltuples`), and pg_database's
//! `datfrozenxid`. The probe does not see them, which is what keeps it equal
//! across VACUUM and ANALYZE, and no capture query reads any of those
//! columns (pg_database is not read at all), so no snapshot can change
//! through them. CREATE/DROP INDEX CONCURRENTLY flip `indisvalid` and
//! `indisready` with transactional updates on every supported major (the
//! tests check it on a concurrent build caught between its phases).
//!
//! What no catalog says is not seen: a server binary or an extension's
//! shared library swapped within one version number would print the same
//! catalogs differently.
//!
//! The fingerprint to record with a snapshot is that of a probe taken
//! *before* the capture: DDL that commits between the two then costs one
//! more capture next time. A probe taken after the capture could record a
//! state the snapshot does not show, and hide it from then on.
//!
//! False changes (a capture that finds nothing new) come from transactional
//! catalog writes that touch nothing captured: a new relfilenode (VACUUM
//! FULL, CLUSTER, TRUNCATE, REINDEX, REFRESH MATERIALIZED VIEW), temporary
//! tables that exist at probe time, a first temporary table in a backend
//! slot (its pg_temp schema), any changed setting.

use super::{runner, CaptureOptions, DatabaseUrl};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::time::{Duration, Instant};

/// The probe query; its text is part of the fingerprint (a changed probe
/// changes every fingerprint, so the first scan after an upgrade captures).
pub(crate) const PROBE_SQL: &str = include_str!("sql/probe.sql");

/// The result of one probe. Compare probes by [`Probe::fingerprint`] (the
/// other fields are for logs and timings).
#[derive(Debug, Clone)]
pub struct Probe {
    /// SHA-256 (hex) of every catalog sum, the server version, the probe
    /// SQL, the driftwatch version and the snapshot-shaping options: equal
    /// fingerprints mean an equal snapshot.
    pub fingerprint: String,
    /// The server's `server_version_num`.
    pub server_version_num: u32,
    /// Wall time, connection included.
    pub elapsed: Duration,
    /// Rows hashed, all catalogs (and pg_settings) together.
    pub rows: u64,
    /// Per catalog: what went into the fingerprint (for logs: which
    /// catalogs moved between two probes).
    pub catalogs: Vec<CatalogSum>,
}

/// One catalog's part of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSum {
    /// The catalog (or view, or `server_version_num`).
    pub catalog: String,
    /// Its rows (the version number for `server_version_num`).
    pub rows: u64,
    /// The sum of its row hashes, as PostgreSQL printed the numeric.
    pub hash_sum: String,
}

impl Probe {
    /// The catalogs whose count or sum differ from `other`'s (both
    /// directions; a catalog only one probe has counts too).
    pub fn changed_catalogs<'a>(&'a self, other: &'a Probe) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for mine in &self.catalogs {
            if !other.catalogs.contains(mine) {
                out.push(&mine.catalog);
            }
        }
        for theirs in &other.catalogs {
            let named = self.catalogs.iter().any(|m| m.catalog == theirs.catalog);
            if !named {
                out.push(&theirs.catalog);
            }
        }
        out
    }
}

/// Probes the catalogs of the database at `url`.
///
/// Boxed and `Send` like [`super::capture`], so the daemon can spawn it.
pub fn probe<'a>(
    url: &'a DatabaseUrl,
    opts: &'a CaptureOptions,
) -> crate::database::BoxFuture<'a, Result<Probe>> {
    Box::pin(probe_inner(url, opts))
}

async fn probe_inner(url: &DatabaseUrl, opts: &CaptureOptions) -> Result<Probe> {
    let started = Instant::now();
    let target = url.redacted().to_string();
    let settings = super::session_settings(opts);
    let mut conn = url.connect(&settings).await?;
    let major = runner::server_major(&conn, &target)?;
    let sql = super::versioned::render(PROBE_SQL, major);
    // BEGIN, the query and COMMIT in one simple-protocol message: one round
    // trip, one snapshot for every catalog. The settings again as SET
    // LOCAL, for a pooler that dropped the startup options (free here).
    let message = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n{}\n{};\nCOMMIT",
        crate::database::set_local_sql(&settings),
        sql.trim_end()
    );
    let fetched = sqlx::Executor::fetch_all(&mut conn, sqlx::raw_sql(&message)).await;
    let _ = sqlx::Connection::close(conn).await;
    let rows = fetched.map_err(|e| Error::Query {
        target: target.clone(),
        query: "probe.sql".into(),
        message: e.to_string(),
    })?;

    let mut catalogs = Vec::with_capacity(rows.len());
    for row in &rows {
        catalogs.push(decode(row).map_err(|message| Error::Query {
            target: target.clone(),
            query: "probe.sql".into(),
            message,
        })?);
    }
    let server_version_num = catalogs
        .iter()
        .find(|c| c.catalog == "server_version_num")
        .and_then(|c| u32::try_from(c.rows).ok())
        .ok_or_else(|| Error::Query {
            target: target.clone(),
            query: "probe.sql".into(),
            message: "no server_version_num row".into(),
        })?;
    let rows = catalogs
        .iter()
        .filter(|c| c.catalog != "server_version_num")
        .map(|c| c.rows)
        .sum();
    Ok(Probe {
        fingerprint: fingerprint(&sql, opts, &catalogs),
        server_version_num,
        elapsed: started.elapsed(),
        rows,
        catalogs,
    })
}

/// One row of probe.sql (sent as a simple query: every column is text).
fn decode(row: &sqlx::postgres::PgRow) -> std::result::Result<CatalogSum, String> {
    let text = |column: &str| -> std::result::Result<String, String> {
        row.try_get::<String, _>(column)
            .map_err(|e| format!("column {column}: {e}"))
    };
    let catalog = text("catalog")?;
    let rows = text("row_count")?
        .parse::<u64>()
        .map_err(|e| format!("row_count of {catalog}: {e}"))?;
    Ok(CatalogSum {
        rows,
        hash_sum: text("hash_sum")?,
        catalog,
    })
}

/// SHA-256 over everything a snapshot of this database depends on.
fn fingerprint(sql: &str, opts: &CaptureOptions, catalogs: &[CatalogSum]) -> String {
    let mut hash = Sha256::new();
    // Length-prefixed parts, so no two inputs concatenate alike.
    let mut part = |s: &str| {
        hash.update((s.len() as u64).to_le_bytes());
        hash.update(s.as_bytes());
    };
    part(env!("CARGO_PKG_VERSION"));
    part(sql);
    part(&opts.schemas.join("\n"));
    part(&opts.exclude_schemas.join("\n"));
    part(&format!("{:?}", opts.history_tables));
    for c in catalogs {
        part(&c.catalog);
        part(&c.rows.to_string());
        part(&c.hash_sum);
    }
    let digest = hash.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a probe costs next to a full capture of the same database.
#[derive(Debug, Clone)]
pub struct ProbeCost {
    /// The fastest probe of the runs.
    pub probe: Duration,
    /// The fastest capture of the runs.
    pub capture: Duration,
    /// The sum of the capture's query times in that run (its connections
    /// run queries side by side): about what it costs the server.
    pub capture_queries: Duration,
    /// Catalog rows one probe hashes.
    pub probe_rows: u64,
    /// Statements one capture sends.
    pub capture_statements: usize,
}

impl ProbeCost {
    /// How many times faster the probe is than the capture.
    pub fn ratio(&self) -> f64 {
        self.capture.as_secs_f64() / self.probe.as_secs_f64().max(1e-9)
    }
}

/// Times `runs` probes and `runs` captures of `url`, alternating, and keeps
/// the fastest of each: on a shared machine the minimum is the least noisy
/// measure of what the work itself costs (for the benchmark and the tests).
pub async fn probe_cost(
    url: &DatabaseUrl,
    opts: &CaptureOptions,
    runs: usize,
) -> Result<ProbeCost> {
    let mut cost = ProbeCost {
        probe: Duration::MAX,
        capture: Duration::MAX,
        capture_queries: Duration::ZERO,
        probe_rows: 0,
        capture_statements: 0,
    };
    for _ in 0..runs.max(1) {
        let p = probe(url, opts).await?;
        cost.probe = cost.probe.min(p.elapsed);
        cost.probe_rows = p.rows;
        let (_, stats) = super::capture(url, opts).await?;
        if stats.elapsed < cost.capture {
            cost.capture = stats.elapsed;
            cost.capture_queries = stats.queries.iter().map(|q| q.1).sum();
        }
        cost.capture_statements = stats.statements;
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(catalog: &str, rows: u64, hash_sum: &str) -> CatalogSum {
        CatalogSum {
            catalog: catalog.into(),
            rows,
            hash_sum: hash_sum.into(),
        }
    }

    #[test]
    fn fingerprint_follows_sums_and_options() {
        let opts = CaptureOptions::default();
        let a = vec![sum("pg_class", 10, "123"), sum("pg_proc", 5, "-7")];
        let base = fingerprint("q", &opts, &a);
        assert_eq!(base, fingerprint("q", &opts, &a));
        assert_eq!(base.len(), 64);
        let mut b = a.clone();
        b[1].hash_sum = "-8".into();
        assert_ne!(base, fingerprint("q", &opts, &b));
        let mut c = a.clone();
        c[0].rows = 9;
        assert_ne!(base, fingerprint("q", &opts, &c));
        assert_ne!(base, fingerprint("q2", &opts, &a));
        let narrowed = CaptureOptions {
            schemas: vec!["app".into()],
            ..CaptureOptions::default()
        };
        assert_ne!(base, fingerprint("q", &narrowed, &a));
        // Timeouts and connections do not shape a snapshot.
        let slower = CaptureOptions {
            connections: 1,
            ..CaptureOptions::default()
        };
        assert_eq!(base, fingerprint("q", &slower, &a));
    }

    #[test]
    fn changed_catalogs_names_both_sides() {
        let p = |catalogs| Probe {
            fingerprint: String::new(),
            server_version_num: 150000,
            elapsed: Duration::ZERO,
            rows: 0,
            catalogs,
        };
        let a = p(vec![sum("pg_class", 1, "1"), sum("pg_proc", 1, "1")]);
        let b = p(vec![sum("pg_class", 1, "2"), sum("pg_type", 1, "1")]);
        assert_eq!(
            a.changed_catalogs(&b),
            vec!["pg_class", "pg_proc", "pg_type"]
        );
        assert!(a.changed_catalogs(&a).is_empty());
    }

    #[test]
    fn probe_sql_renders_and_parses_for_every_major() {
        use crate::catalog::versioned::{render, NEWEST_MAJOR, OLDEST_MAJOR};
        for major in OLDEST_MAJOR..=NEWEST_MAJOR {
            let sql = render(PROBE_SQL, major);
            assert!(!sql.contains("/*if") && !sql.contains("/*end*/"));
            assert_eq!(
                sql.contains("pg_publication_namespace"),
                major >= 15,
                "{major}"
            );
            if let Err(e) = pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT) {
                panic!("probe.sql on {major} does not parse: {e}");
            }
        }
    }
}
