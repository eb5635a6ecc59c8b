//! The fleet store: a PostgreSQL database several `watch` processes share
//! (one of the two [`super::Backend`]s).
//!
//! It holds the same records as the file store (`[store] path`), as files:
//! `driftwatch.files(target, path, content)` is each target's folder. A
//! process scanning a target pulls the folder into a private working copy,
//! runs the very scan and alerting code of the file store there, and pushes
//! back what changed, in one transaction that also proves it still holds
//! the tick. So every record format, lock and crash rule of the file store
//! holds here too, and one codebase is tested.
//!
//! Ticks are the unit of work: `driftwatch.ticks(target, tick)` has one row
//! per scheduled run, and the primary key lets one replica claim it. Every
//! replica schedules every target; the first to insert a tick's row scans
//! it, the others see it taken. A claim lives while its holder renews its
//! heartbeat; a replica that dies stops renewing, and after one lease
//! period any other replica re-claims the tick (a sweep looks for them) and
//! scans it. A claim is refused while another replica's scan of the same
//! target is still alive (the tick is skipped as overran), so one target
//! is never scanned twice at once.
//!
//! The tables are created and migrated at start, under an advisory lock,
//! with `driftwatch.store_version` saying how far.

mod files;
mod scans;

pub use files::Stage;

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use jiff::Timestamp;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The schema steps, in order; `store_version` is how many have run.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE driftwatch.files (
        target text NOT NULL,
        path text NOT NULL,
        content bytea NOT NULL,
        sha256 text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (target, path))",
    "CREATE TABLE driftwatch.ticks (
        target text NOT NULL,
        tick timestamptz NOT NULL,
        holder text NOT NULL,
        claimed_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL,
        claims integer NOT NULL DEFAULT 1,
        finished_at timestamptz,
        result text,
        PRIMARY KEY (target, tick))",
    // Version 3: scans.jsonl as rows (a scan is an INSERT, not a rewrite of
    // a growing bytea); existing logs are split into rows.
    "CREATE TABLE driftwatch.scans (
        target text NOT NULL,
        seq bigint NOT NULL,
        line text NOT NULL,
        PRIMARY KEY (target, seq));
     INSERT INTO driftwatch.scans (target, seq, line)
     SELECT f.target, l.n, l.line
       FROM driftwatch.files f,
            regexp_split_to_table(rtrim(convert_from(f.content, 'UTF8'), E'\\n'), E'\\n')
              WITH ORDINALITY AS l(line, n)
      WHERE f.path = 'scans.jsonl' AND l.line <> '';
     DELETE FROM driftwatch.files WHERE path = 'scans.jsonl';",
];

/// How a claim on a tick went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This process scans it.
    Ours,
    /// This process re-claimed a tick whose scan results a stopped replica
    /// had already stored (with this result): only its alerts are left to
    /// deliver, so it is not scanned again.
    Stored(String),
    /// Another replica has it (alive), or it is done.
    Taken,
    /// Another tick of the target is still being scanned.
    Overrun,
}

/// A connection pool to the fleet store and this replica's name.
pub struct Fleet {
    pool: PgPool,
    holder: String,
    lease: Duration,
    /// What this process last pulled or pushed, per target: path → sha256.
    synced: Mutex<HashMap<String, files::Files>>,
    /// What this process last synced of each target's scan rows.
    scan_rows: Mutex<HashMap<String, scans::Synced>>,
    redacted: String,
}

impl Fleet {
    /// Connects (`postgres://…` or `env:VAR`) and creates or migrates the
    /// tables.
    pub async fn open(url: &str, lease: Duration) -> Result<Fleet> {
        let url = DatabaseUrl::resolve(url)?;
        let redacted = url.redacted().to_string();
        let fail = |e: sqlx::Error| Error::Input {
            path: redacted.clone(),
            message: format!(
                "the fleet store cannot be used ({})",
                url.scrub(&e.to_string())
            ),
            hint: "check [store] url, that the server runs and the role may create a schema".into(),
        };
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(url.options(&[])?)
            .await
            .map_err(fail)?;
        url.warn_without_sslmode();
        migrate(&pool).await.map_err(|e| match e {
            Error::Usage(m) => Error::Input {
                path: redacted.clone(),
                message: m,
                hint: "run the newest driftwatch on every replica".into(),
            },
            other => other,
        })?;
        let host = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "host".into());
        let holder = format!("{host}:{}:{:08x}", std::process::id(), rand_u32());
        Ok(Fleet {
            pool,
            holder,
            lease,
            synced: Mutex::new(HashMap::new()),
            scan_rows: Mutex::new(HashMap::new()),
            redacted,
        })
    }

    /// This replica's name in `ticks.holder`.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How long a claim lives without a renewal.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// How often a holder renews its claim: three times per lease, so a
    /// late renewal or two never loses it.
    pub fn heartbeat_every(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(500))
    }

    /// The store's URL, password hidden.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Claims `tick` of `target`.
    pub async fn claim(&self, target: &str, tick: Timestamp) -> Result<Claim> {
        let lease = self.lease.as_secs_f64();
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('driftwatch.tick:' || $1, 0))")
            .bind(target)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        let busy: Option<i64> = sqlx::query_scalar(
            "SELECT 1::bigint FROM driftwatch.ticks
              WHERE target = $1 AND tick <> to_timestamp($2::bigint) AND finished_at IS NULL
                AND heartbeat_at > now() - make_interval(secs => $3)
              LIMIT 1",
        )
        .bind(target)
        .bind(tick.as_second())
        .bind(lease)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        if busy.is_some() {
            tx.rollback().await.map_err(|e| self.err(e))?;
            return Ok(Claim::Overrun);
        }
        let won: Option<Option<String>> = sqlx::query_scalar(
            "INSERT INTO driftwatch.ticks AS t (target, tick, holder, claimed_at, heartbeat_at)
             VALUES ($1, to_timestamp($2::bigint), $3, now(), now())
             ON CONFLICT (target, tick) DO UPDATE
                SET holder = excluded.holder, claimed_at = now(), heartbeat_at = now(),
                    claims = t.claims + 1
              WHERE t.finished_at IS NULL
                AND t.heartbeat_at <= now() - make_interval(secs => $4)
             RETURNING t.result",
        )
        .bind(target)
        .bind(tick.as_second())
        .bind(&self.holder)
        .bind(lease)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(match won {
            Some(None) => Claim::Ours,
            Some(Some(result)) => Claim::Stored(result),
            None => Claim::Taken,
        })
    }

    /// Renews this replica's claim; false when it was lost (another
    /// replica took it over after the lease ran out).
    pub async fn heartbeat(&self, target: &str, tick: Timestamp) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE driftwatch.ticks SET heartbeat_at = now()
              WHERE target = $1 AND tick = to_timestamp($2::bigint) AND holder = $3 AND finished_at IS NULL",
        )
        .bind(target)
        .bind(tick.as_second())
        .bind(&self.holder)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Ticks whose holder stopped renewing its claim, oldest first.
    pub async fn orphaned(&self) -> Result<Vec<(String, Timestamp)>> {
        let rows = sqlx::query(
            "SELECT target, extract(epoch FROM tick)::float8 AS at FROM driftwatch.ticks
              WHERE finished_at IS NULL AND heartbeat_at <= now() - make_interval(secs => $1)
              ORDER BY tick LIMIT 100",
        )
        .bind(self.lease.as_secs_f64())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let at: f64 = r.get("at");
                let ts = Timestamp::from_millisecond((at * 1000.0).round() as i64).ok()?;
                Some((r.get::<String, _>("target"), ts))
            })
            .collect())
    }

    /// Gives up this replica's unfinished claims at shutdown, so others
    /// re-claim them at once instead of after a lease.
    pub async fn release(&self) -> Result<()> {
        sqlx::query(
            "UPDATE driftwatch.ticks SET heartbeat_at = '-infinity'
              WHERE holder = $1 AND finished_at IS NULL",
        )
        .bind(&self.holder)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Removes finished ticks older than `keep` (the table would otherwise
    /// grow by one row per target per tick).
    pub async fn prune(&self, keep: Duration) -> Result<u64> {
        let n = sqlx::query(
            "DELETE FROM driftwatch.ticks
              WHERE finished_at IS NOT NULL AND tick < now() - make_interval(secs => $1)",
        )
        .bind(keep.as_secs_f64())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?
        .rows_affected();
        Ok(n)
    }

    fn err(&self, e: sqlx::Error) -> Error {
        Error::Input {
            path: self.redacted.clone(),
            message: format!("fleet store: {e}"),
            hint: "check that the store's server is reachable".into(),
        }
    }
}

/// Creates the schema and runs the steps `store_version` has not seen.
async fn migrate(pool: &PgPool) -> Result<()> {
    let db = |e: sqlx::Error| Error::Usage(format!("fleet store: {e}"));
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('driftwatch.store', 0))")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    sqlx::raw_sql(
        "CREATE SCHEMA IF NOT EXISTS driftwatch;
         CREATE TABLE IF NOT EXISTS driftwatch.store_version (version integer NOT NULL);",
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let version: Option<i32> =
        sqlx::query_scalar("SELECT max(version) FROM driftwatch.store_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
    let version = version.unwrap_or(0).max(0) as usize;
    if version > MIGRATIONS.len() {
        return Err(Error::Usage(format!(
            "the fleet store is at version {version}, newer than this driftwatch knows ({})",
            MIGRATIONS.len()
        )));
    }
    for step in &MIGRATIONS[version..] {
        sqlx::raw_sql(step).execute(&mut *tx).await.map_err(db)?;
    }
    if version < MIGRATIONS.len() {
        sqlx::query("DELETE FROM driftwatch.store_version")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("INSERT INTO driftwatch.store_version VALUES ($1)")
            .bind(MIGRATIONS.len() as i32)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(())
}

/// Some randomness for the replica's name (two processes of one pid on
/// one host after a restart stay apart).
fn rand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos ^ std::process::id().rotate_left(16)
}
