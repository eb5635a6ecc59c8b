//! Keeps a capture's safety settings in force on every statement, also
//! behind a connection pooler.
//!
//! A capture asks for its settings (timeouts, read-only, `search_path`) as
//! startup `options`, so that a direct connection needs no statement for
//! them. A pooler may drop that parameter: PgBouncer with
//! `ignore_startup_parameters = …,options` does so silently, and in
//! transaction pooling successive transactions of one client may run on
//! different server connections, where a session `SET` would leak to other
//! clients. So the capture reads its settings back inside its first
//! transaction (in the same statement that exports the snapshot: nothing
//! more on a direct connection); when they are missing, every later
//! transaction sets them with `SET LOCAL` and reads them back, and the
//! statements that ran as autocommit run each in a short read-only
//! transaction of their own. A statement never runs without its timeouts.

use crate::database::BoxFuture;
use crate::error::{Error, Result};
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::time::Duration;

/// The settings a capture connection must have, and how to check them.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    settings: Vec<(&'static str, String)>,
    lock_timeout: Duration,
    statement_timeout: Duration,
    /// The startup options did not reach the server: set them in every
    /// transaction.
    pub pooled: bool,
}

/// What one read-back found, for the message when it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InForce {
    /// `current_setting('lock_timeout')`.
    pub lock_timeout: String,
    /// `current_setting('statement_timeout')`.
    pub statement_timeout: String,
    /// `current_setting('transaction_read_only')`.
    pub read_only: String,
    /// `current_setting('transaction_isolation')`.
    pub isolation: String,
    /// Whether all of them are what the capture asked for.
    pub ok: bool,
}

impl Guard {
    /// The guard of a capture with `settings` (see
    /// [`super::session_settings`]).
    pub fn new(settings: &[(&'static str, String)], opts: &super::CaptureOptions) -> Guard {
        Guard {
            settings: settings.to_vec(),
            lock_timeout: opts.lock_timeout,
            statement_timeout: opts.statement_timeout,
            pooled: false,
        }
    }

    /// Columns that read the settings back in the current transaction;
    /// `in_force` is true when all are as asked (`repeatable`: the
    /// transaction must also be REPEATABLE READ). The values are ours
    /// (durations in ms), never database text.
    pub fn read_back_columns(&self, repeatable: bool) -> String {
        let isolation = if repeatable {
            "AND current_setting('transaction_isolation') = 'repeatable read'"
        } else {
            ""
        };
        format!(
            "current_setting('lock_timeout') AS lock_timeout, \
             current_setting('statement_timeout') AS statement_timeout, \
             current_setting('transaction_read_only') AS read_only, \
             current_setting('transaction_isolation') AS isolation, \
             (current_setting('lock_timeout')::interval = '{lock}ms'::interval \
              AND current_setting('statement_timeout')::interval = '{statement}ms'::interval \
              AND current_setting('transaction_read_only') = 'on' \
              AND current_setting('search_path') = 'pg_catalog' {isolation}) AS in_force",
            lock = self.lock_timeout.as_millis(),
            statement = self.statement_timeout.as_millis(),
        )
    }

    /// `SET LOCAL` of every setting, then the read-back: one batch for the
    /// start of a transaction, ending in one row.
    pub fn set_local_sql(&self, repeatable: bool) -> String {
        let mut sql = crate::database::set_local_sql(&self.settings);
        sql.push_str(&format!("SELECT {}", self.read_back_columns(repeatable)));
        sql
    }

    /// The start of a transaction on `conn` as the capture needs it:
    /// `begin` (BEGIN …, SET TRANSACTION SNAPSHOT …), then the settings set
    /// locally when the startup options were dropped, then the read-back;
    /// one round trip. Errors when the settings are not in force.
    ///
    /// Boxed so that futures holding it stay provably `Send` (see
    /// [`crate::database::DatabaseUrl::connect`]).
    pub fn begin<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        begin: &'a str,
        repeatable: bool,
        target: &'a str,
        what: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        let check = if self.pooled {
            self.set_local_sql(repeatable)
        } else {
            format!("SELECT {}", self.read_back_columns(repeatable))
        };
        let sql = if begin.is_empty() {
            check
        } else {
            format!("{begin}; {check}")
        };
        Box::pin(async move {
            let rows = sqlx::Executor::fetch_all(&mut *conn, sqlx::raw_sql(&sql))
                .await
                .map_err(|e| super::runner::query_error(target, what, &e))?;
            let found = rows
                .last()
                .map(in_force)
                .transpose()
                .map_err(|e| super::runner::query_error(target, what, &e))?;
            self.require(found, target)
        })
    }

    /// Errors unless `found` says the settings are in force.
    pub fn require(&self, found: Option<InForce>, target: &str) -> Result<()> {
        match found {
            Some(f) if f.ok => Ok(()),
            found => Err(Error::Connect {
                target: target.to_string(),
                message: format!(
                    "the capture's safety settings are not in force (asked lock_timeout {} ms, statement_timeout {} ms, read-only; found {})",
                    self.lock_timeout.as_millis(),
                    self.statement_timeout.as_millis(),
                    found.map_or("nothing".into(), |f| format!(
                        "lock_timeout {}, statement_timeout {}, read-only {}, {}",
                        f.lock_timeout, f.statement_timeout, f.read_only, f.isolation
                    ))
                ),
                hint: "a proxy between driftwatch and the server changes session settings; connect to the server directly".into(),
            }),
        }
    }

    /// Before a statement that would run as autocommit: nothing on a
    /// direct connection (its session has the settings); when pooled, a
    /// read-only transaction with the settings set locally, which
    /// [`Guard::after_statement`] ends.
    pub fn before_statement<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        target: &'a str,
        what: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if self.pooled {
                self.begin(conn, "BEGIN READ ONLY", false, target, what)
                    .await?;
            }
            Ok(())
        })
    }

    /// Ends what [`Guard::before_statement`] began, committing when the
    /// statement went well (`ok`).
    pub fn after_statement<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        ok: bool,
        target: &'a str,
        what: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if !self.pooled {
                return Ok(());
            }
            let end = if ok { "COMMIT" } else { "ROLLBACK" };
            sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(end))
                .await
                .map_err(|e| super::runner::query_error(target, what, &e))?;
            Ok(())
        })
    }
}

/// The read-back of a row with [`Guard::read_back_columns`].
pub(crate) fn in_force(row: &sqlx::postgres::PgRow) -> std::result::Result<InForce, sqlx::Error> {
    Ok(InForce {
        lock_timeout: row.try_get("lock_timeout")?,
        statement_timeout: row.try_get("statement_timeout")?,
        read_only: row.try_get("read_only")?,
        isolation: row.try_get("isolation")?,
        ok: row.try_get("in_force")?,
    })
}
