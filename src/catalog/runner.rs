//! Runs the capture's queries over several connections: catalog queries on
//! connections that share one exported REPEATABLE READ snapshot, deparse
//! queries as autocommit statements on their own connections.

use super::guard::Guard;
use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Connection, Row};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which phase a query belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Inside the shared read-only snapshot; takes no user-table lock.
    Catalog,
    /// Autocommit, after the lock check; may lock a table for one statement.
    Deparse,
}

/// How a query can be narrowed to some objects (incremental captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Narrow {
    /// Database-wide kinds (schemas, extensions, …) and name lookups:
    /// always read whole.
    Global,
    /// To the objects being captured, by this oid expression.
    Objects(&'static str),
    /// To those objects and the relations whose names they print.
    Lookups(&'static str),
}

/// One query of the capture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    /// Its file name, used as key and in messages.
    pub name: &'static str,
    /// The SQL text, with version gates (see [`super::versioned`]).
    pub sql: &'static str,
    /// Its phase.
    pub phase: Phase,
    /// How it is narrowed in an incremental capture.
    pub narrow: Narrow,
    /// The oldest major whose catalogs have what it reads; older servers
    /// skip it (its rows are then none).
    pub since: u32,
}

/// A job with its SQL rendered for one server.
pub(crate) type Rendered = (Job, String);

impl Job {
    /// The query for `major`, or None when that major has nothing to read.
    pub fn render(&self, major: u32) -> Option<Rendered> {
        (major >= self.since).then(|| (*self, super::versioned::render(self.sql, major)))
    }

    /// The query for `major` narrowed by `$1` (an `oid[]`): the condition
    /// goes where the file marks `/*scope*/`, else at the end of its WHERE
    /// clause.
    pub fn render_narrowed(&self, major: u32) -> Option<Rendered> {
        let (job, sql) = self.render(major)?;
        let key = match self.narrow {
            Narrow::Global => return Some((job, sql)),
            Narrow::Objects(k) | Narrow::Lookups(k) => k,
        };
        let condition = format!("AND {key} = ANY ($1)");
        let sql = if sql.contains("/*scope*/") {
            sql.replace("/*scope*/", &condition)
        } else {
            format!("{}\n  {condition}", sql.trim_end())
        };
        Some((job, sql))
    }
}

/// The major of the server `conn` talks to (from the startup parameters,
/// no statement). Majors older than the oldest supported are refused.
pub(crate) fn server_major(conn: &PgConnection, target: &str) -> Result<u32> {
    crate::database::supported_major(conn, target)
}

/// The rows of every query, by file name.
///
/// Each query's raw rows are freed as they are decoded (on 10,000 tables
/// they are 120 MB, and freeing them as assembly goes lets the objects
/// reuse that memory): a query is decoded once, with [`Rows::decode`], or
/// first read with [`Rows::peek`] and then decoded. A second thread may
/// decode a query ahead ([`Rows::decode_ahead`]) while assembly works on
/// others; [`Rows::decode`] then waits for it and takes its result.
pub(crate) struct Rows {
    slots: Mutex<HashMap<&'static str, Slot>>,
    decoded_ahead: std::sync::Condvar,
    target: String,
}

/// Where a query's rows are.
enum Slot {
    /// As the server sent them.
    Raw(Vec<PgRow>),
    /// Being decoded ahead by another thread.
    Decoding,
    /// Decoded ahead: a boxed `Result<Vec<T>>`.
    Ready(Box<dyn std::any::Any + Send>),
    /// Handed to assembly.
    Taken,
}

impl Rows {
    /// No rows yet, for the capture of `target`.
    pub fn new(target: String) -> Rows {
        Rows::of(HashMap::new(), target)
    }

    fn of(by_query: HashMap<&'static str, Vec<PgRow>>, target: String) -> Rows {
        Rows {
            slots: Mutex::new(
                by_query
                    .into_iter()
                    .map(|(q, rows)| (q, Slot::Raw(rows)))
                    .collect(),
            ),
            decoded_ahead: std::sync::Condvar::new(),
            target,
        }
    }

    /// Adds (or replaces) the rows of `query`.
    pub fn insert(&mut self, query: &'static str, rows: Vec<PgRow>) {
        if let Ok(map) = self.slots.get_mut() {
            map.insert(query, Slot::Raw(rows));
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Slot>> {
        // A panic while holding the lock leaves plain data behind.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decodes the rows of `query` and frees them: a second decode of the
    /// same query is an error (a bug), never an empty answer.
    pub fn decode<T>(&self, query: &str) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + 'static,
    {
        let mut slots = self.slots();
        loop {
            let Some(slot) = slots.get_mut(query) else {
                return Ok(Vec::new());
            };
            match std::mem::replace(slot, Slot::Taken) {
                Slot::Raw(raw) => {
                    drop(slots);
                    return self.decode_slice(query, &raw);
                }
                Slot::Decoding => {
                    *slot = Slot::Decoding;
                    slots = self
                        .decoded_ahead
                        .wait(slots)
                        .unwrap_or_else(|p| p.into_inner());
                }
                Slot::Ready(done) => {
                    return match done.downcast::<Result<Vec<T>>>() {
                        Ok(result) => *result,
                        Err(_) => {
                            Err(self.shape_error(query, "decoded ahead as another row type".into()))
                        }
                    };
                }
                Slot::Taken => return Err(self.shape_error(query, "decoded twice".into())),
            }
        }
    }

    /// Decodes `query` as `T` now, on the calling thread, for a later
    /// [`Rows::decode`] of it (which may already be waiting); does nothing
    /// when it was taken already.
    pub fn decode_ahead<T>(&self, query: &'static str)
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + 'static,
    {
        let raw = {
            let mut slots = self.slots();
            match slots.get_mut(query) {
                Some(slot @ Slot::Raw(_)) => match std::mem::replace(slot, Slot::Decoding) {
                    Slot::Raw(raw) => raw,
                    _ => return,
                },
                _ => return,
            }
        };
        let result: Result<Vec<T>> = self.decode_slice(query, &raw);
        drop(raw);
        self.slots().insert(query, Slot::Ready(Box::new(result)));
        self.decoded_ahead.notify_all();
    }

    /// Decodes the rows of `query` and keeps them for a later decode.
    pub fn peek<T>(&self, query: &str) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow>,
    {
        match self.slots().get(query) {
            None => Ok(Vec::new()),
            Some(Slot::Raw(raw)) => self.decode_slice(query, raw),
            Some(_) => Err(self.shape_error(query, "read after it was decoded".into())),
        }
    }

    fn decode_slice<T>(&self, query: &str, rows: &[PgRow]) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow>,
    {
        rows.iter()
            .map(|row| T::from_row(row))
            .collect::<Result<Vec<T>, sqlx::Error>>()
            .map_err(|e| self.shape_error(query, format!("unexpected result shape: {e}")))
    }

    fn shape_error(&self, query: &str, message: String) -> Error {
        Error::Query {
            target: self.target.clone(),
            query: query.to_string(),
            message,
        }
    }

    /// Decodes the single row of `query`.
    pub fn one<T>(&self, query: &str) -> Result<T>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + 'static,
    {
        self.decode::<T>(query)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Query {
                target: self.target.clone(),
                query: query.to_string(),
                message: "returned no row".into(),
            })
    }
}

/// What [`run`] returns.
pub(crate) struct Outcome {
    /// The server's major version.
    pub major: u32,
    /// All rows.
    pub rows: Rows,
    /// Statements sent.
    pub statements: usize,
    /// Connections opened.
    pub connections: usize,
    /// Per query: file, wall time, rows; slowest first.
    pub timings: Vec<(&'static str, Duration, usize)>,
    /// A deparse-phase connection kept open for [`Outcome::follow_up`].
    spare: Option<PgConnection>,
    /// How its statements keep their settings.
    pub guard: Arc<Guard>,
}

/// The parameters of a follow-up statement.
pub(crate) enum Params {
    /// `$1 int8[]`: object oids.
    Oids(Vec<i64>),
    /// `$1 int8[]`, `$2 int4[]`: type oids and typmods, pairwise.
    TypePairs(Vec<i64>, Vec<i32>),
}

/// A statement that needs the catalog phase's results.
pub(crate) struct FollowUp {
    /// Its file name (where its rows are stored).
    pub name: &'static str,
    /// Its text.
    pub sql: &'static str,
    /// Its parameters.
    pub params: Params,
}

impl Outcome {
    /// Runs the follow-up statements on the spare deparse connection, one
    /// after another, stores their rows, and closes the connection.
    pub async fn follow_up(&mut self, statements: Vec<FollowUp>) -> Result<()> {
        let Some(mut conn) = self.spare.take() else {
            return Ok(());
        };
        for f in statements {
            self.statements += 1;
            let started = Instant::now();
            let name = f.name;
            let target = self.rows.target.clone();
            self.statements += usize::from(self.guard.pooled) * 2;
            self.guard
                .before_statement(&mut conn, &target, name)
                .await?;
            let count = follow_up_on(&mut conn, &mut self.rows, f, false).await;
            self.guard
                .after_statement(&mut conn, count.is_ok(), &target, name)
                .await?;
            let count = count?;
            self.timings.push((name, started.elapsed(), count));
        }
        self.timings.sort_by_key(|t| std::cmp::Reverse(t.1));
        let _ = conn.close().await;
        Ok(())
    }
}

/// Runs one follow-up statement on `conn` and stores its rows under its
/// name; returns how many.
pub(crate) async fn follow_up_on(
    conn: &mut PgConnection,
    rows: &mut Rows,
    statement: FollowUp,
    persistent: bool,
) -> Result<usize> {
    let query = sqlx::query(statement.sql).persistent(persistent);
    let query = match statement.params {
        Params::Oids(oids) => query.bind(oids),
        Params::TypePairs(types, typmods) => query.bind(types).bind(typmods),
    };
    let fetched = query
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(&rows.target, statement.name, &e))?;
    let count = fetched.len();
    rows.insert(statement.name, fetched);
    Ok(count)
}

/// The oids an incremental capture is narrowed to.
pub(crate) struct ScopeOids {
    /// Objects to capture.
    pub objects: Vec<sqlx::postgres::types::Oid>,
    /// Those and the relations whose names they print.
    pub lookups: Vec<sqlx::postgres::types::Oid>,
}

/// Runs one phase's jobs in order on one connection, as prepared statements.
/// With `guard`, each statement runs as the guard says autocommit
/// statements run (a live database's deparse phase); statements are
/// then not kept prepared (a pooler may hand the next one to another
/// server connection).
async fn run_phase(
    conn: &mut PgConnection,
    jobs: &[Rendered],
    phase: Phase,
    scope: Option<&ScopeOids>,
    target: &str,
    guard: Option<&Guard>,
) -> Result<Vec<(&'static str, Vec<PgRow>)>> {
    let mut out = Vec::new();
    for (job, sql) in jobs.iter().filter(|(j, _)| j.phase == phase) {
        let query = sqlx::query(sql).persistent(guard.is_none());
        let query = match (scope, job.narrow) {
            (None, _) | (_, Narrow::Global) => query,
            (Some(s), Narrow::Objects(_)) => query.bind(&s.objects),
            (Some(s), Narrow::Lookups(_)) => query.bind(&s.lookups),
        };
        if let Some(guard) = guard {
            guard.before_statement(conn, target, job.name).await?;
        }
        let fetched = query
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| query_error(target, job.name, &e));
        if let Some(guard) = guard {
            guard
                .after_statement(conn, fetched.is_ok(), target, job.name)
                .await?;
        }
        out.push((job.name, fetched?));
    }
    Ok(out)
}

/// Runs `jobs` (with their SQL) on two open connections of a capture
/// session: catalog queries on `catalog` (inside the caller's transaction),
/// deparse queries on `deparse`, both at once. Statements are prepared once
/// per connection and reused. With `scope`, narrowed queries get its oids.
/// With `guard` (a live database), deparse statements run under it.
pub(crate) async fn run_on(
    catalog: &mut PgConnection,
    deparse: &mut PgConnection,
    jobs: &[Rendered],
    scope: Option<&ScopeOids>,
    rows: &mut Rows,
    guard: Option<&Guard>,
) -> Result<usize> {
    let target = rows.target.clone();
    let (a, b) = tokio::join!(
        run_phase(catalog, jobs, Phase::Catalog, scope, &target, None),
        run_phase(deparse, jobs, Phase::Deparse, scope, &target, guard)
    );
    let mut statements = 0;
    for (name, fetched) in a?.into_iter().chain(b?) {
        statements += 1;
        rows.insert(name, fetched);
    }
    Ok(statements)
}

/// Opens `connections` connections and runs every job.
pub(crate) async fn run(
    url: &DatabaseUrl,
    settings: &[(&str, String)],
    connections: usize,
    lock_wait: Duration,
    jobs: Vec<Job>,
    mut guard: Guard,
) -> Result<Outcome> {
    let counter = Arc::new(AtomicUsize::new(0));
    let target = url.redacted().to_string();
    // One connection per phase at least; the rest go to the catalog phase,
    // which reads far more rows.
    let deparse_conns = if connections >= 6 { 2 } else { 1 };
    let catalog_conns = connections.saturating_sub(deparse_conns).max(1);

    let mut first = url.connect(settings).await?;
    let major = server_major(&first, &target)?;
    let snapshot_id = begin_snapshot(&mut first, &counter, &target, &mut guard).await?;
    let guard = Arc::new(guard);

    let mut catalog = vec![first];
    let mut deparse = Vec::new();
    for _ in 1..catalog_conns {
        if snapshot_id.is_none() {
            break;
        }
        let mut conn = url.connect(settings).await?;
        join_snapshot(&mut conn, snapshot_id.as_deref(), &counter, &target, &guard).await?;
        catalog.push(conn);
    }
    for _ in 0..deparse_conns {
        let mut conn = url.connect(settings).await?;
        if !guard.pooled {
            // The session's own settings, read back once.
            counter.fetch_add(1, Ordering::Relaxed);
            guard
                .begin(&mut conn, "", false, &target, "settings")
                .await?;
        }
        deparse.push(conn);
    }
    let opened = catalog.len() + deparse.len();

    // Refuse to deparse while DDL holds or awaits ACCESS EXCLUSIVE.
    check_locks(&mut deparse[0], &counter, &target, lock_wait, &guard).await?;

    let (catalog_jobs, deparse_jobs): (Vec<Rendered>, Vec<Rendered>) = jobs
        .iter()
        .filter_map(|j| j.render(major))
        .partition(|(j, _)| j.phase == Phase::Catalog);
    // Catalog connections are inside their transaction already.
    let catalog_run = run_queue(catalog, catalog_jobs, None, counter.clone(), target.clone());
    let deparse_run = run_queue(
        deparse,
        deparse_jobs,
        Some(guard.clone()),
        counter.clone(),
        target.clone(),
    );
    let (catalog_result, deparse_result) = tokio::join!(catalog_run, deparse_run);
    let (catalog_conns, mut by_query) = catalog_result?;
    let (deparse_conns, deparse_rows) = deparse_result?;
    by_query.extend(deparse_rows);

    for mut conn in catalog_conns {
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = sqlx::Executor::execute(&mut conn, sqlx::raw_sql("COMMIT")).await;
        let _ = conn.close().await;
    }
    let mut deparse_conns = deparse_conns.into_iter();
    let spare = deparse_conns.next();
    for conn in deparse_conns {
        let _ = conn.close().await;
    }
    let mut timings: Vec<(&'static str, Duration, usize)> = by_query
        .iter()
        .map(|(name, (elapsed, rows))| (*name, *elapsed, rows.len()))
        .collect();
    timings.sort_by_key(|t| std::cmp::Reverse(t.1));
    let by_query = by_query
        .into_iter()
        .map(|(k, (_, rows))| (k, rows))
        .collect();
    Ok(Outcome {
        major,
        spare,
        guard,
        timings,
        rows: Rows::of(by_query, target),
        statements: counter.load(Ordering::Relaxed),
        connections: opened,
    })
}

/// Starts the shared transaction and exports its snapshot (None when the
/// server cannot export one, e.g. a standby of an old version: then the
/// capture runs on this one connection). The same statement reads the
/// settings back: when the startup options did not reach the server, the
/// guard turns `pooled` and sets them in this and every later transaction.
pub(crate) async fn begin_snapshot(
    conn: &mut PgConnection,
    counter: &AtomicUsize,
    target: &str,
    guard: &mut Guard,
) -> Result<Option<String>> {
    const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    counter.fetch_add(1, Ordering::Relaxed);
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(BEGIN))
        .await
        .map_err(|e| query_error(target, "BEGIN", &e))?;
    counter.fetch_add(1, Ordering::Relaxed);
    let export = format!(
        "SELECT pg_export_snapshot() AS id, {}",
        guard.read_back_columns(true)
    );
    let (id, found) = match sqlx::query(&export)
        .persistent(false)
        .fetch_one(&mut *conn)
        .await
    {
        Ok(row) => (
            row.try_get::<String, _>("id").ok(),
            super::guard::in_force(&row).ok(),
        ),
        Err(_) => {
            // The failed statement aborted the transaction: start again.
            counter.fetch_add(2, Ordering::Relaxed);
            let _ = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql("ROLLBACK")).await;
            let check = format!("{BEGIN}; SELECT {}", guard.read_back_columns(true));
            let rows = sqlx::Executor::fetch_all(&mut *conn, sqlx::raw_sql(&check))
                .await
                .map_err(|e| query_error(target, "BEGIN", &e))?;
            (
                None,
                rows.last().and_then(|r| super::guard::in_force(r).ok()),
            )
        }
    };
    if found.as_ref().is_some_and(|f| f.ok) {
        return Ok(id);
    }
    guard.pooled = true;
    counter.fetch_add(1, Ordering::Relaxed);
    let rows = sqlx::Executor::fetch_all(&mut *conn, sqlx::raw_sql(&guard.set_local_sql(true)))
        .await
        .map_err(|e| query_error(target, "SET LOCAL", &e))?;
    let found = rows.last().and_then(|r| super::guard::in_force(r).ok());
    guard.require(found, target)?;
    Ok(id)
}

async fn join_snapshot(
    conn: &mut PgConnection,
    id: Option<&str>,
    counter: &AtomicUsize,
    target: &str,
    guard: &Guard,
) -> Result<()> {
    let id = id.unwrap_or_default().replace('\'', "");

    counter.fetch_add(1, Ordering::Relaxed);
    let begin = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '{id}'"
    );
    guard
        .begin(conn, &begin, true, target, "SET TRANSACTION SNAPSHOT")
        .await
}

/// Waits up to `lock_wait` for no session to hold or await ACCESS EXCLUSIVE
/// on a user relation: short DDL passes, long DDL stops the capture before
/// it asks for any lock.
pub(crate) async fn check_locks(
    conn: &mut PgConnection,
    counter: &AtomicUsize,
    target: &str,
    lock_wait: Duration,
    guard: &Guard,
) -> Result<()> {
    let deadline = Instant::now() + lock_wait;
    loop {
        counter.fetch_add(1 + usize::from(guard.pooled) * 2, Ordering::Relaxed);
        guard.before_statement(conn, target, "locks.sql").await?;
        let rows = sqlx::query(super::LOCKS_SQL)
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| query_error(target, "locks.sql", &e));
        guard
            .after_statement(conn, rows.is_ok(), target, "locks.sql")
            .await?;
        let rows = rows?;
        let Some(row) = rows.first() else {
            return Ok(());
        };
        if Instant::now() >= deadline {
            return Err(Error::Locked {
                target: target.to_string(),
                relation: row.try_get("relation").unwrap_or_default(),
                pid: row.try_get("pid").unwrap_or_default(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

type QueueResult = Result<(
    Vec<PgConnection>,
    HashMap<&'static str, (Duration, Vec<PgRow>)>,
)>;

/// Runs `jobs` over `conns`, each connection taking the next job when free.
async fn run_queue(
    conns: Vec<PgConnection>,
    jobs: Vec<Rendered>,
    guard: Option<Arc<Guard>>,
    counter: Arc<AtomicUsize>,
    target: String,
) -> QueueResult {
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut workers = tokio::task::JoinSet::new();
    for mut conn in conns {
        let queue = queue.clone();
        let counter = counter.clone();
        let target = target.clone();
        let guard = guard.clone();
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let job = match queue.lock() {
                    Ok(mut q) => q.pop_front(),
                    Err(_) => None,
                };
                let Some((job, sql)) = job else { break };
                counter.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                if let Some(guard) = &guard {
                    guard.before_statement(&mut conn, &target, job.name).await?;
                }
                let rows = sqlx::query(&sql)
                    .persistent(false)
                    .fetch_all(&mut conn)
                    .await
                    .map_err(|e| query_error(&target, job.name, &e));
                if let Some(guard) = &guard {
                    counter.fetch_add(usize::from(guard.pooled) * 2, Ordering::Relaxed);
                    guard
                        .after_statement(&mut conn, rows.is_ok(), &target, job.name)
                        .await?;
                }
                let rows = rows?;
                done.push((job.name, (started.elapsed(), rows)));
            }
            Ok::<_, Error>((conn, done))
        });
    }
    let mut conns = Vec::new();
    let mut by_query = HashMap::new();
    let mut first_error = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok((conn, done))) => {
                conns.push(conn);
                by_query.extend(done);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(Error::Query {
                    target: target.clone(),
                    query: "worker".into(),
                    message: e.to_string(),
                });
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok((conns, by_query)),
    }
}

pub(crate) fn query_error(target: &str, query: &str, err: &sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = err {
        match db.code().as_deref() {
            Some("55P03") => {
                return Error::Locked {
                    target: target.to_string(),
                    relation: format!("a table read by {query}"),
                    pid: 0,
                }
            }
            Some("57014") => {
                return Error::Query {
                    target: target.to_string(),
                    query: query.to_string(),
                    message: "cancelled by statement_timeout; raise --statement-timeout".into(),
                }
            }
            Some("42501") => {
                return Error::Query {
                    target: target.to_string(),
                    query: query.to_string(),
                    message: format!(
                        "{} (the capture reads catalogs only; a role with CONNECT suffices)",
                        db.message()
                    ),
                }
            }
            _ => {}
        }
    }
    Error::Query {
        target: target.to_string(),
        query: query.to_string(),
        message: err.to_string(),
    }
}
