//! Live introspection: reads the catalogs of a PostgreSQL database into a
//! [`Snapshot`](crate::model::Snapshot).
//!
//! Two phases, both safe for a production database:
//! 1. the *catalog phase*: every query in `sql/*.sql` runs inside one
//!    `REPEATABLE READ, READ ONLY` transaction whose snapshot is exported to
//!    the other worker connections, so all of them see one consistent state.
//!    These queries read catalogs only and call no deparser that opens a user
//!    relation, so they take no lock on any user table;
//! 2. the *deparse phase*: expressions that refer to columns (view queries,
//!    CHECK constraints, index expressions, policy predicates, …) can only be
//!    printed by the server with the table as context, and PostgreSQL takes
//!    an ACCESS SHARE lock on it to do so. Those run as short autocommit
//!    statements (`sql/deparse_*.sql`), after a check that no session holds
//!    or awaits ACCESS EXCLUSIVE on a user table, with a short lock_timeout:
//!    a lock is held for one statement at most, never for the whole capture,
//!    and DDL in progress makes the capture stop instead of queueing.

mod build;
mod build_parts;
mod build_text_search;
mod build_types;
mod checks;
mod guard;
mod incremental;
pub mod live_state;
mod probe;
mod runner;
mod session;
pub mod versioned;

pub use crate::database::{redact_url, DatabaseUrl};
pub use incremental::{
    capture_live, capture_live_owned, capture_live_with, differing_objects, LiveCapture,
};
pub use live_state::{CaptureKind, FullReason, LiveState};
pub use probe::{probe, probe_cost, CatalogSum, Probe, ProbeCost};
pub use session::{CaptureMode, CaptureSession};

use crate::error::{Error, Result};
use crate::model::{Meta, Snapshot};
use runner::{Job, Narrow, Phase};
use std::time::{Duration, Instant};

/// Settings of one capture.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Only these schemas (empty: all).
    pub schemas: Vec<String>,
    /// Leave these schemas out.
    pub exclude_schemas: Vec<String>,
    /// Connections to use (at least 1); the catalog phase shares an exported
    /// snapshot between them.
    pub connections: usize,
    /// lock_timeout for every statement (deparse is the only phase that
    /// asks for locks).
    pub lock_timeout: Duration,
    /// statement_timeout for every statement.
    pub statement_timeout: Duration,
    /// Which migration-history tables to leave out (default: the tables a
    /// known tool would read as its history).
    pub history_tables: crate::history::HistoryTables,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            schemas: Vec::new(),
            exclude_schemas: Vec::new(),
            connections: 4,
            lock_timeout: Duration::from_millis(1000),
            statement_timeout: Duration::from_secs(60),
            history_tables: crate::history::HistoryTables::default(),
        }
    }
}

/// What a capture cost, for `--stats` and the benchmark.
#[derive(Debug, Clone, Default)]
pub struct CaptureStats {
    /// SQL statements sent, session setup included.
    pub statements: usize,
    /// Connections opened.
    pub connections: usize,
    /// Wall time of the whole capture.
    pub elapsed: Duration,
    /// Per query: its file, wall time and rows, slowest first.
    pub queries: Vec<(&'static str, Duration, usize)>,
    /// The startup options did not reach the server (a pooler dropped
    /// them): every transaction set the safety settings with `SET LOCAL`
    /// and read them back.
    pub settings_set_locally: bool,
}

/// Captures the schema of the database at `url`.
///
/// The future is boxed and `Send` so callers (the daemon, tests) can spawn
/// it: proving `Send` here, with concrete lifetimes, sidesteps rustc's
/// higher-ranked lifetime limits on the sqlx futures inside.
pub fn capture<'a>(
    url: &'a DatabaseUrl,
    opts: &'a CaptureOptions,
) -> crate::database::BoxFuture<'a, Result<(Snapshot, CaptureStats)>> {
    Box::pin(capture_inner(url, opts))
}

async fn capture_inner(
    url: &DatabaseUrl,
    opts: &CaptureOptions,
) -> Result<(Snapshot, CaptureStats)> {
    let (snapshot, stats, _) = capture_full(url, opts, false).await?;
    Ok((snapshot, stats))
}

/// A full capture; `with_state` also reads, in the same catalog snapshot,
/// the positions an incremental capture starts from.
pub(crate) async fn capture_full(
    url: &DatabaseUrl,
    opts: &CaptureOptions,
    with_state: bool,
) -> Result<(Snapshot, CaptureStats, Option<incremental::StateRows>)> {
    let started = Instant::now();
    let settings = session_settings(opts);
    let mut jobs = jobs();
    if with_state {
        jobs.extend(incremental::state_jobs());
    }
    let guard = guard::Guard::new(&settings, opts);
    let mut outcome = runner::run(
        url,
        &settings,
        opts.connections.max(1),
        opts.lock_timeout,
        jobs,
        guard,
    )
    .await?;
    let state = if with_state {
        Some(incremental::StateRows::decode(&outcome.rows)?)
    } else {
        None
    };
    // Decoding and assembly are CPU work of a few hundred ms on big
    // schemas: on a blocking thread, so that the task running this capture
    // beside another (`diff URL URL`) keeps reading the other's rows.
    let rows = std::mem::replace(&mut outcome.rows, runner::Rows::new(String::new()));
    let u = url.clone();
    let (rows, prepared) = off_task(move || {
        // Columns are decoded beside the relations.
        let prepared = std::thread::scope(|scope| {
            scope.spawn(|| rows.decode_ahead::<build::ColumnRow>("columns.sql"));
            prepare(&rows, &u)
        })?;
        Ok((rows, prepared))
    })
    .await?;
    outcome.rows = rows;
    outcome.follow_up(prepared.follow_ups()).await?;
    let rows = std::mem::replace(&mut outcome.rows, runner::Rows::new(String::new()));
    let (u, o, major) = (url.clone(), opts.clone(), outcome.major);
    let snapshot = off_task(move || {
        let server = rows.one::<build::ServerRow>("server.sql")?;
        let mut objects = std::thread::scope(|scope| {
            scope.spawn(|| build::decode_ahead(&rows));
            prepared.assemble(&rows, &u, None)
        })?;
        drop(rows);
        crate::util::release_free_memory();
        objects.retain_schemas(&o.schemas, &o.exclude_schemas);
        objects.align_to_newest(major);
        crate::history::exclude_history_tables(&mut objects, &o.history_tables);
        let meta = capture_meta(&u, &o, server);
        Ok(Snapshot::new(meta, objects))
    })
    .await?;
    let stats = CaptureStats {
        settings_set_locally: outcome.guard.pooled,
        statements: outcome.statements,
        connections: outcome.connections,
        elapsed: started.elapsed(),
        queries: outcome.timings,
    };
    Ok((snapshot, stats, state))
}

/// Runs CPU-bound capture work on tokio's blocking pool.
async fn off_task<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| crate::error::Error::Usage(format!("capture task failed: {e}")))?
}

/// Session settings of every capture connection (startup options, so no
/// statements): schema-qualified output, timeouts, read-only.
pub(crate) fn session_settings(opts: &CaptureOptions) -> Vec<(&'static str, String)> {
    vec![
        ("search_path", "pg_catalog".to_string()),
        (
            "lock_timeout",
            format!("{}ms", opts.lock_timeout.as_millis()),
        ),
        (
            "statement_timeout",
            format!("{}ms", opts.statement_timeout.as_millis()),
        ),
        ("default_transaction_read_only", "on".to_string()),
        // Catalog queries are estimated expensive on big schemas and JIT
        // compilation then costs more than the query (900 ms vs 30 ms for
        // types.sql on 10k tables).
        ("jit", "off".to_string()),
        // Parallel workers are new processes that fill their catalog
        // caches from scratch: on catalog queries they cost more than they
        // save, and the capture already runs its queries side by side.
        ("max_parallel_workers_per_gather", "0".to_string()),
        ("work_mem", "64MB".to_string()),
        ("idle_in_transaction_session_timeout", "300s".to_string()),
    ]
}

/// The metadata of a snapshot captured from `url`.
pub(crate) fn capture_meta(
    url: &DatabaseUrl,
    opts: &CaptureOptions,
    server: build::ServerRow,
) -> Meta {
    Meta {
        captured_at: crate::util::now_rfc3339(),
        driftwatch_version: env!("CARGO_PKG_VERSION").to_string(),
        source: url.redacted().to_string(),
        database: Some(server.database),
        server_version: Some(server.server_version),
        server_version_num: u32::try_from(server.server_version_num).ok(),
        schemas: opts.schemas.clone(),
        excluded_schemas: opts.exclude_schemas.clone(),
        migration: None,
    }
}

/// Follow-up query: one deparse per group of equal CHECK constraints.
const DEPARSE_CHECKS_SQL: &str = include_str!("sql/deparse_checks.sql");
const COLUMN_TYPES_SQL: &str = include_str!("sql/column_types.sql");

/// What assembly needs from the rows before the CHECK follow-up query runs.
pub(crate) struct Prepared {
    lookups: build::Lookups,
    decoded: build::Decoded,
    checks: checks::CheckGroups,
}

/// Decodes relations and columns, builds the lookups and groups CHECKs.
pub(crate) fn prepare(rows: &runner::Rows, url: &DatabaseUrl) -> Result<Prepared> {
    let (lookups, decoded) = build::lookups(rows).map_err(|e| e.into_error(url))?;
    let checks = checks::groups(rows, &lookups)?;
    Ok(Prepared {
        lookups,
        decoded,
        checks,
    })
}

impl Prepared {
    /// The constraints whose CHECK text the follow-up query prints.
    fn representatives(&self) -> Vec<i64> {
        self.checks.representative.values().copied().collect()
    }

    /// The statements that need what the catalog phase read: the CHECK
    /// representatives' text, and `format_type` once per distinct (type,
    /// typmod) pair of the columns read (reading those pairs again from
    /// `pg_attribute` on the server cost a second scan of it: 120 ms of the
    /// server's time on 10,000 tables).
    pub(crate) fn follow_ups(&self) -> Vec<runner::FollowUp> {
        let (types, typmods) = self.decoded.type_pairs();
        vec![
            runner::FollowUp {
                name: "deparse_checks.sql",
                sql: DEPARSE_CHECKS_SQL,
                params: runner::Params::Oids(self.representatives()),
            },
            runner::FollowUp {
                name: "column_types.sql",
                sql: COLUMN_TYPES_SQL,
                params: runner::Params::TypePairs(types, typmods),
            },
        ]
    }

    /// Every object, from the rows (follow-up included).
    pub(crate) fn assemble(
        self,
        rows: &runner::Rows,
        url: &DatabaseUrl,
        keep: Option<&std::collections::HashSet<i64>>,
    ) -> Result<crate::model::Objects> {
        build::assemble(rows, &self.lookups, self.decoded, &self.checks, keep)
            .map_err(|e| e.into_error(url))
    }
}

macro_rules! sql {
    ($phase:expr, $file:literal) => {
        sql!($phase, $file, Narrow::Global)
    };
    ($phase:expr, $file:literal, $narrow:expr) => {
        sql!($phase, $file, $narrow, versioned::OLDEST_MAJOR)
    };
    ($phase:expr, $file:literal, $narrow:expr, $since:expr) => {
        Job {
            name: $file,
            sql: include_str!(concat!("sql/", $file)),
            phase: $phase,
            narrow: $narrow,
            since: $since,
        }
    };
}

/// Every query of a capture, the heaviest first so they start early.
pub(crate) fn jobs() -> Vec<Job> {
    use Narrow::{Lookups as L, Objects as O};
    use Phase::{Catalog as C, Deparse as D};
    vec![
        sql!(C, "columns.sql", L("a.attrelid")),
        sql!(C, "column_defaults.sql", O("ad.adrelid")),
        sql!(C, "column_comments.sql", O("d.objoid")),
        sql!(C, "indexes.sql", O("i.indrelid")),
        sql!(C, "constraints.sql", O("k.conrelid")),
        sql!(C, "relations.sql", L("c.oid")),
        sql!(C, "functions.sql", O("p.oid")),
        sql!(C, "triggers.sql", O("t.tgrelid")),
        sql!(C, "sequences.sql", O("c.oid")),
        sql!(C, "types.sql", O("t.oid")),
        sql!(C, "collation_names.sql"),
        sql!(C, "opclasses.sql"),
        sql!(C, "policies.sql", O("p.polrelid")),
        sql!(C, "rules.sql", O("r.ev_class")),
        sql!(C, "statistics.sql", O("s.oid")),
        // 18 keeps NOT NULL constraints (names, NOT VALID, NO INHERIT)
        sql!(C, "not_nulls.sql", O("k.conrelid"), 18),
        sql!(C, "schemas.sql"),
        sql!(C, "extensions.sql"),
        sql!(C, "collations.sql"),
        sql!(C, "event_triggers.sql"),
        sql!(C, "publications.sql"),
        sql!(C, "foreign_data_wrappers.sql"),
        sql!(C, "foreign_servers.sql"),
        sql!(C, "default_privileges.sql"),
        sql!(C, "text_search_configurations.sql"),
        sql!(C, "text_search_dictionaries.sql"),
        sql!(C, "server.sql"),
        sql!(D, "deparse_exclusions.sql", O("k.conrelid")),
        sql!(D, "deparse_views.sql", L("c.oid")),
        sql!(D, "deparse_indexes.sql", O("i.indrelid")),
        sql!(D, "deparse_defaults.sql", O("ad.adrelid")),
        sql!(D, "deparse_triggers.sql", O("t.tgrelid")),
        sql!(D, "deparse_policies.sql", O("p.polrelid")),
        sql!(D, "deparse_rules.sql", O("r.ev_class")),
        sql!(D, "deparse_partitions.sql", L("c.oid")),
        // expressions in statistics and SQL-standard bodies came with 14,
        // row filters with 15
        sql!(D, "deparse_statistics.sql", O("s.oid"), 14),
        sql!(D, "deparse_functions.sql", O("p.oid"), 14),
        sql!(D, "deparse_publications.sql", Narrow::Global, 15),
    ]
}

/// The SQL text of the lock check run before the deparse phase.
pub(crate) const LOCKS_SQL: &str = include_str!("sql/locks.sql");

/// An inconsistency found while assembling: the deparse phase (which sees
/// the newest catalog state) lacks an object the catalog phase saw.
#[derive(Debug)]
pub(crate) struct Moved(pub String);

impl Moved {
    fn into_error(self, url: &DatabaseUrl) -> Error {
        Error::ChangedDuringCapture {
            target: url.redacted().to_string(),
            detail: self.0,
        }
    }
}
