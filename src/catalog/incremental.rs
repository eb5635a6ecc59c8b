//! Incremental live capture: a scan of a live database reads only what
//! changed since the previous capture and merges it into that capture's
//! snapshot.
//!
//! # Positions
//!
//! Every capture made for a scan (full or incremental) also reads, in the
//! same catalog snapshot as its objects ([`LiveState`]):
//! - the snapshot's xmin as a 64-bit transaction id (the *marker*): a
//!   catalog row written by any transaction that snapshot could not see has
//!   an xmin at or above it (in-progress transactions included, since their
//!   ids are at or above the snapshot's xmin);
//! - per catalog, the probe's row count and sum of `(ctid, xmin)` hashes
//!   (`probe.sql`, see [`super::probe`] for why any committed change moves
//!   them);
//! - per *keyed* catalog, every row's key and the top-level objects it is
//!   part of (`live_keys.sql`), and every top-level object's identity;
//! - which running server answered (postmaster start time, version,
//!   database oid, recovery state).
//!
//! # An incremental capture
//!
//! In one `REPEATABLE READ, READ ONLY` transaction:
//! 1. another server (restart, failover, restore, upgrade), or a marker
//!    2^31 transactions old (wraparound), means a full capture;
//! 2. the catalog sums are compared with the state's: unchanged catalogs
//!    are skipped entirely; a changed catalog the incremental path does not
//!    follow object by object (roles, settings, casts, operators,
//!    collations, …: [`super::live_state::tracking`]) means a full capture;
//! 3. the keys of the changed keyed catalogs are read again: keys gone since
//!    are deletions (DROP INDEX, DROP TRIGGER, COMMENT … IS NULL, OWNED BY
//!    NONE), and the objects they belonged to are read again;
//! 4. `changed.sql` finds the rows of the changed catalogs with an xmin at
//!    or above the marker, maps them to their top-level objects and adds
//!    every object depending on one of them (a rename changes how
//!    dependents print);
//! 5. the capture's queries run narrowed to those objects (deparse
//!    statements after the lock check, under the same guard as a full
//!    capture); the whole-read kinds (schemas, extensions, publications, …)
//!    are read whole; the result replaces those objects in the previous
//!    snapshot (by identity, old and new), and objects whose oid is gone
//!    leave it.
//!
//! # Why it cannot miss a change
//!
//! A committed change either writes a row (its xmin is at or above the
//! marker: step 4 finds it) or only deletes rows. A deletion lowers its
//! catalog's count, so the catalog is in step 2's list; if the catalog is
//! keyed, step 3 finds the key; if it is not, its rows are only deleted
//! with a row of a keyed catalog (an index's pg_index and pg_attribute rows
//! go with its pg_class row), which step 3 finds. VACUUM FULL and FREEZE
//! keep every row's xmin (since 9.4 freezing sets a flag), so they cost an
//! incremental capture that finds nothing new. What the probe cannot see,
//! the incremental path cannot either; and a full capture still runs
//! periodically, compared with the incremental state
//! (the live scan of `check` logs and counts any difference).

use super::guard::Guard;
use super::live_state::{
    self, CaptureKind, CatalogPosition, FullReason, Identity, LiveState, ServerPosition, Tracking,
    STATE_FORMAT,
};
use super::runner::{self, Job, Narrow, Phase, Rows, ScopeOids};
use super::{CaptureOptions, CaptureStats, DatabaseUrl};
use crate::error::{Error, Result};
use crate::model::{Objects, Snapshot};
use sha2::{Digest, Sha256};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const POSITIONS_SQL: &str = include_str!("sql/live_positions.sql");
const KEYS_SQL: &str = include_str!("sql/live_keys.sql");
use super::session::{CHANGED_SQL, INVENTORY_SQL};
const SERVER_SQL: &str = include_str!("sql/server.sql");

/// A live capture and the positions to record beside it.
#[derive(Debug, Clone)]
pub struct LiveCapture {
    /// The schema.
    pub snapshot: Snapshot,
    /// Where this capture stood, for the next one.
    pub state: LiveState,
    /// Full (and why) or incremental.
    pub kind: CaptureKind,
    /// What it cost.
    pub stats: CaptureStats,
}

/// Captures the live schema of `url`: in full, or, given the previous
/// capture's snapshot and state, only what changed since (merged into it).
/// `force_full` reads everything even then.
pub fn capture_live<'a>(
    url: &'a DatabaseUrl,
    opts: &'a CaptureOptions,
    previous: Option<(&'a Snapshot, &'a LiveState)>,
    force_full: bool,
) -> crate::database::BoxFuture<'a, Result<LiveCapture>> {
    let full = force_full.then_some(FullReason::Forced);
    capture_live_with(url, opts, previous, full)
}

/// [`capture_live`], with the reason of a full capture the caller wants
/// (None: incremental when the previous state allows it).
pub fn capture_live_with<'a>(
    url: &'a DatabaseUrl,
    opts: &'a CaptureOptions,
    previous: Option<(&'a Snapshot, &'a LiveState)>,
    full: Option<FullReason>,
) -> crate::database::BoxFuture<'a, Result<LiveCapture>> {
    let owned = previous.map(|(s, st)| (s.clone(), st.clone()));
    capture_live_owned(url, opts, owned, full)
}

/// [`capture_live_with`], taking the previous snapshot and state (the
/// merge then moves them instead of copying a whole schema).
pub fn capture_live_owned<'a>(
    url: &'a DatabaseUrl,
    opts: &'a CaptureOptions,
    previous: Option<(Snapshot, LiveState)>,
    full: Option<FullReason>,
) -> crate::database::BoxFuture<'a, Result<LiveCapture>> {
    Box::pin(async move {
        let reason = match (&previous, full) {
            (_, Some(reason)) => Some(reason),
            (None, None) => Some(FullReason::First),
            (Some((snapshot, state)), None) => stale(snapshot, state, opts),
        };
        let reason = match (reason, previous) {
            (None, Some((snapshot, state))) => {
                match incremental(url, opts, snapshot, state).await? {
                    Step::Done(capture) => return Ok(*capture),
                    Step::Full(reason) => reason,
                }
            }
            (Some(reason), _) => reason,
            (None, None) => FullReason::First,
        };
        full_capture(url, opts, reason).await
    })
}

/// Why `state` cannot start an incremental capture of `snapshot` with
/// `opts`, if so.
fn stale(snapshot: &Snapshot, state: &LiveState, opts: &CaptureOptions) -> Option<FullReason> {
    if state.format != STATE_FORMAT {
        return Some(FullReason::Stale(format!("format {}", state.format)));
    }
    if state.driftwatch_version != env!("CARGO_PKG_VERSION") {
        return Some(FullReason::Stale(format!(
            "written by driftwatch {}",
            state.driftwatch_version
        )));
    }
    if state.options != options_digest(opts) {
        return Some(FullReason::Stale("other capture options".into()));
    }
    if state.snapshot != snapshot.fingerprint {
        return Some(FullReason::Stale(
            "it describes another snapshot than the stored one".into(),
        ));
    }
    None
}

/// A digest of the options that shape a snapshot.
fn options_digest(opts: &CaptureOptions) -> String {
    let mut hash = Sha256::new();
    for part in [
        opts.schemas.join("\n"),
        opts.exclude_schemas.join("\n"),
        format!("{:?}", opts.history_tables),
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    crate::util::hex(&hash.finalize())
}

/// A full capture that records its positions.
async fn full_capture(
    url: &DatabaseUrl,
    opts: &CaptureOptions,
    reason: FullReason,
) -> Result<LiveCapture> {
    let (snapshot, stats, rows) = super::capture_full(url, opts, true).await?;
    let rows = rows.ok_or_else(|| Error::Query {
        target: url.redacted().to_string(),
        query: "live_positions.sql".into(),
        message: "the capture read no positions".into(),
    })?;
    let state = rows.into_state(url, opts, &snapshot)?;
    Ok(LiveCapture {
        snapshot,
        state,
        kind: CaptureKind::Full { reason },
        stats,
    })
}

/// The extra queries of a full capture that records positions: catalog
/// phase, so they read the capture's own snapshot.
pub(crate) fn state_jobs() -> Vec<Job> {
    let job = |name, sql| Job {
        name,
        sql,
        phase: Phase::Catalog,
        narrow: Narrow::Global,
        since: super::versioned::OLDEST_MAJOR,
    };
    vec![
        job("live_positions.sql", POSITIONS_SQL),
        job("probe.sql", super::probe::PROBE_SQL),
        job("live_keys.sql", KEYS_SQL),
        job("inventory.sql", INVENTORY_SQL),
    ]
}

/// Row of live_positions.sql.
#[derive(sqlx::FromRow)]
struct PositionRow {
    marker: String,
    started: String,
    version_num: i32,
    database_oid: i64,
    frozen_xid: String,
    in_recovery: bool,
}

/// Row of probe.sql (every column text).
#[derive(sqlx::FromRow)]
struct SumRow {
    catalog: String,
    row_count: String,
    hash_sum: String,
}

/// Row of live_keys.sql.
#[derive(sqlx::FromRow)]
struct KeyRow {
    catalog: String,
    key: i64,
    top: i64,
}

/// Row of inventory.sql.
#[derive(sqlx::FromRow)]
struct IdentityRow {
    oid: i64,
    list: String,
    schema: String,
    name: String,
    args: String,
}

/// The positions a full capture read.
pub(crate) struct StateRows {
    position: PositionRow,
    sums: Vec<SumRow>,
    keys: Vec<KeyRow>,
    identities: Vec<IdentityRow>,
}

impl StateRows {
    /// Takes the rows of [`state_jobs`] out of a capture's rows.
    pub(crate) fn decode(rows: &Rows) -> Result<StateRows> {
        Ok(StateRows {
            position: rows.one("live_positions.sql")?,
            sums: rows.decode("probe.sql")?,
            keys: rows.decode("live_keys.sql")?,
            identities: rows.decode("inventory.sql")?,
        })
    }

    fn into_state(
        self,
        url: &DatabaseUrl,
        opts: &CaptureOptions,
        snapshot: &Snapshot,
    ) -> Result<LiveState> {
        let (marker, server) = position(url, self.position)?;
        Ok(LiveState {
            format: STATE_FORMAT.to_string(),
            driftwatch_version: env!("CARGO_PKG_VERSION").to_string(),
            options: options_digest(opts),
            server,
            marker,
            snapshot: snapshot.fingerprint.clone(),
            full_at: crate::util::now_rfc3339(),
            sums: sums(url, self.sums)?,
            keys: keys(self.keys),
            identities: identities(self.identities),
        })
    }
}

fn position(url: &DatabaseUrl, row: PositionRow) -> Result<(u64, ServerPosition)> {
    let marker = row.marker.parse::<u64>().map_err(|e| Error::Query {
        target: url.redacted().to_string(),
        query: "live_positions.sql".into(),
        message: format!("marker {:?}: {e}", row.marker),
    })?;
    Ok((
        marker,
        ServerPosition {
            started: row.started,
            version_num: row.version_num,
            database_oid: row.database_oid,
            in_recovery: row.in_recovery,
            frozen_xid: row.frozen_xid,
        },
    ))
}

fn sums(url: &DatabaseUrl, rows: Vec<SumRow>) -> Result<BTreeMap<String, CatalogPosition>> {
    rows.into_iter()
        .map(|r| {
            let count = r.row_count.parse::<u64>().map_err(|e| Error::Query {
                target: url.redacted().to_string(),
                query: "probe.sql".into(),
                message: format!("row_count of {}: {e}", r.catalog),
            })?;
            Ok((
                r.catalog,
                CatalogPosition {
                    rows: count,
                    hash_sum: r.hash_sum,
                },
            ))
        })
        .collect()
}

fn keys(rows: Vec<KeyRow>) -> BTreeMap<String, Vec<(i64, i64)>> {
    let mut out: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for r in rows {
        out.entry(r.catalog).or_default().push((r.key, r.top));
    }
    for pairs in out.values_mut() {
        pairs.sort_unstable();
        pairs.dedup();
        pairs.shrink_to_fit();
    }
    out
}

fn identities(rows: Vec<IdentityRow>) -> BTreeMap<i64, Identity> {
    rows.into_iter()
        .map(|r| (r.oid, (r.list, r.schema, r.name, r.args)))
        .collect()
}

/// How an incremental attempt ended.
enum Step {
    /// Captured.
    Done(Box<LiveCapture>),
    /// A full capture is needed, for this reason.
    Full(FullReason),
}

/// The incremental capture: opens its two connections, runs in one
/// read-only transaction, and always ends it.
async fn incremental(
    url: &DatabaseUrl,
    opts: &CaptureOptions,
    previous: Snapshot,
    state: LiveState,
) -> Result<Step> {
    let started = Instant::now();
    let target = url.redacted().to_string();
    let settings = super::session_settings(opts);
    let mut guard = Guard::new(&settings, opts);
    let counter = AtomicUsize::new(0);
    let mut catalog = url.connect(&settings).await?;
    let major = runner::server_major(&catalog, &target)?;
    runner::begin_snapshot(&mut catalog, &counter, &target, &mut guard).await?;
    let run = Incremental {
        url,
        opts,
        target: target.clone(),
        major,
        guard,
        counter,
    };
    let result = run.in_transaction(&mut catalog, previous, state).await;
    run.counter.fetch_add(1, Ordering::Relaxed);
    let _ = sqlx::Executor::execute(&mut catalog, sqlx::raw_sql("COMMIT")).await;
    let _ = sqlx::Connection::close(catalog).await;
    let step = result?;
    Ok(match step {
        Step::Done(mut capture) => {
            capture.stats = CaptureStats {
                statements: run.counter.load(Ordering::Relaxed),
                connections: 1 + usize::from(capture.stats.connections > 1),
                elapsed: started.elapsed(),
                queries: Vec::new(),
                settings_set_locally: run.guard.pooled,
            };
            Step::Done(capture)
        }
        full => full,
    })
}

/// One incremental capture's connections and settings.
struct Incremental<'a> {
    url: &'a DatabaseUrl,
    opts: &'a CaptureOptions,
    target: String,
    major: u32,
    guard: Guard,
    counter: AtomicUsize,
}

impl Incremental<'_> {
    fn error(&self, query: &str, e: sqlx::Error) -> Error {
        runner::query_error(&self.target, query, &e)
    }

    async fn in_transaction(
        &self,
        catalog: &mut PgConnection,
        previous: Snapshot,
        state: LiveState,
    ) -> Result<Step> {
        // 1. The same running server, not too far on.
        self.counter.fetch_add(1, Ordering::Relaxed);
        let row: PositionRow = sqlx::query_as(POSITIONS_SQL)
            .persistent(false)
            .fetch_one(&mut *catalog)
            .await
            .map_err(|e| self.error("live_positions.sql", e))?;
        let (marker, server) = position(self.url, row)?;
        if let Some(why) = live_state::server_moved(&state.server, &server) {
            return Ok(Step::Full(FullReason::Server(why)));
        }
        if live_state::wrapped(state.marker, marker) {
            return Ok(Step::Full(FullReason::Wraparound));
        }

        // 2. Which catalogs moved.
        self.counter.fetch_add(1, Ordering::Relaxed);
        let probe = super::versioned::render(super::probe::PROBE_SQL, self.major);
        let rows: Vec<SumRow> = sqlx::query_as(&probe)
            .persistent(false)
            .fetch_all(&mut *catalog)
            .await
            .map_err(|e| self.error("probe.sql", e))?;
        let sums = sums(self.url, rows)?;
        let changed = live_state::changed_catalogs(&state.sums, &sums);
        let untracked: Vec<&str> = changed
            .iter()
            .filter(|c| live_state::tracking(c).is_none())
            .map(String::as_str)
            .collect();
        if !untracked.is_empty() {
            return Ok(Step::Full(FullReason::Catalog(untracked.join(", "))));
        }
        let previous_marker = state.marker;
        let mut next = LiveState {
            marker,
            server,
            sums,
            ..state
        };
        if changed.is_empty() {
            // Nothing to read again: only the server row, which the
            // narrowed jobs below would otherwise bring.
            self.counter.fetch_add(1, Ordering::Relaxed);
            let server_row: super::build::ServerRow = sqlx::query_as(SERVER_SQL)
                .persistent(false)
                .fetch_one(&mut *catalog)
                .await
                .map_err(|e| self.error("server.sql", e))?;
            let meta = super::capture_meta(self.url, self.opts, server_row);
            let snapshot = Snapshot { meta, ..previous };
            return Ok(Step::Done(Box::new(LiveCapture {
                snapshot,
                state: next,
                kind: CaptureKind::Incremental { objects: 0 },
                stats: CaptureStats::default(),
            })));
        }

        // 3. Deleted rows, from the keys of the keyed catalogs that moved.
        let keyed: Vec<String> = changed
            .iter()
            .filter(|c| live_state::tracking(c) == Some(Tracking::Keyed))
            .cloned()
            .collect();
        let mut vanished = Vec::new();
        if !keyed.is_empty() {
            self.counter.fetch_add(1, Ordering::Relaxed);
            let sql = KEYS_SQL.replace("/*scope*/", "AND k.catalog = ANY ($1)");
            let rows: Vec<KeyRow> = sqlx::query_as(&sql)
                .bind(&keyed)
                .persistent(false)
                .fetch_all(&mut *catalog)
                .await
                .map_err(|e| self.error("live_keys.sql", e))?;
            let mut now = keys(rows);
            for c in &keyed {
                let fresh = now.remove(c).unwrap_or_default();
                if let Some(before) = next.keys.get(c) {
                    vanished.extend(live_state::vanished_tops(before, &fresh));
                }
                next.keys.insert(c.clone(), fresh);
            }
        }

        // 4. New rows and what depends on them.
        self.counter.fetch_add(1, Ordering::Relaxed);
        let short_marker = (previous_marker % (1 << 32)).to_string();
        let rows = sqlx::query(CHANGED_SQL)
            .bind(&short_marker)
            .bind(&vanished)
            .bind(&changed)
            .persistent(false)
            .fetch_all(&mut *catalog)
            .await
            .map_err(|e| self.error("changed.sql", e))?;
        let mut scope = ScopeOids {
            objects: Vec::new(),
            lookups: Vec::new(),
        };
        for row in &rows {
            let oid = Oid(row.get::<i64, _>("oid") as u32);
            if row.get::<bool, _>("dirty") {
                scope.objects.push(oid);
            }
            scope.lookups.push(oid);
        }
        let dirty: HashSet<i64> = scope.objects.iter().map(|o| i64::from(o.0)).collect();
        let dirty_list: Vec<i64> = dirty.iter().copied().collect();
        self.counter.fetch_add(1, Ordering::Relaxed);
        let inventory = format!(
            "SELECT * FROM ({}) i WHERE i.oid = ANY ($1)",
            super::versioned::render(INVENTORY_SQL, self.major).trim_end()
        );
        let found: Vec<IdentityRow> = sqlx::query_as(&inventory)
            .bind(&dirty_list)
            .persistent(false)
            .fetch_all(&mut *catalog)
            .await
            .map_err(|e| self.error("inventory.sql", e))?;
        let found = identities(found);

        // 5. The objects, narrowed.
        let mut conn = self.deparse_connection().await?;
        let deparse = &mut conn;
        let jobs: Vec<runner::Rendered> = super::jobs()
            .iter()
            .filter_map(|j| j.render_narrowed(self.major))
            .collect();
        let mut rows = Rows::new(self.target.clone());
        let statements = runner::run_on(
            catalog,
            deparse,
            &jobs,
            Some(&scope),
            &mut rows,
            Some(&self.guard),
        )
        .await?;
        self.counter.fetch_add(statements, Ordering::Relaxed);
        let prepared = super::prepare(&rows, self.url)?;
        for statement in prepared.follow_ups() {
            let name = statement.name;
            self.counter
                .fetch_add(1 + usize::from(self.guard.pooled) * 2, Ordering::Relaxed);
            self.guard
                .before_statement(deparse, &self.target, name)
                .await?;
            let done = runner::follow_up_on(deparse, &mut rows, statement, false).await;
            self.guard
                .after_statement(deparse, done.is_ok(), &self.target, name)
                .await?;
            done?;
        }
        let server_row = rows.one::<super::build::ServerRow>("server.sql")?;
        let fresh = prepared.assemble(&rows, self.url, Some(&dirty))?;
        drop(rows);
        let _ = sqlx::Connection::close(conn).await;

        // The previous objects minus the dirty ones (old and new
        // identities), plus their fresh captures.
        let mut stale_ids: HashSet<Identity> = HashSet::new();
        for oid in &dirty {
            stale_ids.extend(next.identities.get(oid).cloned());
            stale_ids.extend(found.get(oid).cloned());
        }
        let stale: HashSet<(&str, &str, &str, &str)> =
            stale_ids.iter().map(super::session::as_refs).collect();
        let mut objects = super::session::merge_objects(previous.objects, fresh, &stale);
        objects.retain_schemas(&self.opts.schemas, &self.opts.exclude_schemas);
        objects.align_to_newest(self.major);
        crate::history::exclude_history_tables(&mut objects, &self.opts.history_tables);
        for oid in &dirty {
            next.identities.remove(oid);
        }
        next.identities.extend(found);
        let meta = super::capture_meta(self.url, self.opts, server_row);
        let snapshot = Snapshot::new(meta, objects);
        next.snapshot = snapshot.fingerprint.clone();
        Ok(Step::Done(Box::new(LiveCapture {
            snapshot,
            state: next,
            kind: CaptureKind::Incremental {
                objects: dirty.len(),
            },
            stats: CaptureStats {
                connections: 2,
                ..CaptureStats::default()
            },
        })))
    }

    /// The deparse connection: settings checked, and the lock check
    /// passed (no DDL holds or awaits ACCESS EXCLUSIVE on a user table).
    async fn deparse_connection(&self) -> Result<PgConnection> {
        let settings = super::session_settings(self.opts);
        let mut conn = self.url.connect(&settings).await?;
        if !self.guard.pooled {
            self.counter.fetch_add(1, Ordering::Relaxed);
            self.guard
                .begin(&mut conn, "", false, &self.target, "settings")
                .await?;
        }
        runner::check_locks(
            &mut conn,
            &self.counter,
            &self.target,
            self.opts.lock_timeout,
            &self.guard,
        )
        .await?;
        Ok(conn)
    }
}

/// The objects whose JSON differs between `a` and `b` (present in one
/// only, or different), as `list schema.name(args)`: what a full capture
/// and an incremental state disagree on.
pub fn differing_objects(a: &Objects, b: &Objects) -> Vec<String> {
    use crate::model::{Keyed, Listed};
    let mut out = Vec::new();
    fn by_key<T: Listed + serde::Serialize>(list: &[T]) -> BTreeMap<String, String> {
        list.iter()
            .map(|o| {
                let (schema, name, args) = o.sort_key();
                (
                    format!("{} {schema}.{name}{args}", T::LIST),
                    serde_json::to_string(o).unwrap_or_default(),
                )
            })
            .collect()
    }
    macro_rules! compare {
        ($list:ident, $kind:ident) => {{
            let (x, y) = (by_key(&a.$list), by_key(&b.$list));
            for (k, v) in &x {
                if y.get(k) != Some(v) {
                    out.push(k.clone());
                }
            }
            out.extend(y.keys().filter(|k| !x.contains_key(*k)).cloned());
        }};
    }
    crate::each_kind!(compare);
    let _ = <crate::model::Table as Keyed>::sort_key;
    out
}
