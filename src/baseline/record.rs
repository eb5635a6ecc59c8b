//! The history row of a baseline (`--record-history`): the only write
//! driftwatch makes to a target. It goes into the history table the scan
//! read (schema-qualified and quoted, never a name resolved through the
//! session's `search_path`), under the tool's own advisory lock where the
//! tool takes one, with the capture's `lock_timeout` and
//! `statement_timeout`, in a transaction the caller commits only once the
//! migration's files are in place.

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use crate::history::{History, Tool};
use crate::migrations::{Migration, MigrationKind};
use crate::model::quote_ident;
use sqlx::{Connection, PgConnection};
use std::time::Duration;

/// The history table a baseline row goes into: the one `history::read`
/// found, with its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTable {
    /// The tool whose table it is.
    pub tool: Tool,
    /// Its schema, unquoted.
    pub schema: String,
    /// Its name, unquoted.
    pub name: String,
}

impl HistoryTable {
    /// The table `history` was read from.
    pub fn of(history: &History) -> HistoryTable {
        HistoryTable {
            tool: history.tool,
            schema: history.schema.clone(),
            name: history.name.clone(),
        }
    }

    /// `"schema"."name"`, quoted where needed: the only form SQL gets.
    pub fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

/// How long the write may wait for a lock, and run.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// `lock_timeout` (the tool's advisory lock, the table's row lock).
    pub lock: Duration,
    /// `statement_timeout` for each statement.
    pub statement: Duration,
}

/// An inserted, uncommitted history row: [`PendingRow::commit`] makes it
/// stay; dropping it (or [`PendingRow::rollback`]) leaves nothing.
pub struct PendingRow {
    conn: PgConnection,
    target: String,
    table: String,
}

/// Inserts `tool`'s row for `m` into `table` in an open transaction, after
/// taking the tool's advisory lock (waiting at most `timeouts.lock`).
pub async fn insert(
    url: &DatabaseUrl,
    table: &HistoryTable,
    m: &Migration,
    timeouts: Timeouts,
) -> Result<PendingRow> {
    // search_path holds no schema a user can create objects in: the table
    // is always qualified, and functions resolve to pg_catalog.
    let settings = [
        (
            "lock_timeout",
            format!("{}ms", timeouts.lock.as_millis().max(1)),
        ),
        (
            "statement_timeout",
            format!("{}ms", timeouts.statement.as_millis().max(1)),
        ),
        ("search_path", "pg_catalog".to_string()),
    ];
    let mut conn = url.connect(&settings).await?;
    let target = url.redacted().to_string();
    let qualified = table.qualified();
    let failed = |e: sqlx::Error| write_error(&target, table, &qualified, timeouts, e);
    sqlx::query("BEGIN")
        .execute(&mut conn)
        .await
        .map_err(failed)?;
    let database: String = sqlx::query_scalar("SELECT pg_catalog.current_database()::text")
        .persistent(false)
        .fetch_one(&mut conn)
        .await
        .map_err(failed)?;
    let mut keys =
        crate::check::locks::tool_keys(table.tool, &database, &table.schema, &table.name);
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        // Transaction-level: released by COMMIT or ROLLBACK, and it waits
        // for the tool's session- or transaction-level lock on the key.
        sqlx::query("SELECT pg_catalog.pg_advisory_xact_lock($1)")
            .bind(key)
            .persistent(false)
            .execute(&mut conn)
            .await
            .map_err(failed)?;
    }
    for (sql, binds) in statements(table.tool, &qualified, m, &mut conn)
        .await
        .map_err(failed)?
    {
        let mut q = sqlx::query(&sql).persistent(false);
        for b in binds {
            q = q.bind(b);
        }
        q.execute(&mut conn).await.map_err(failed)?;
    }
    Ok(PendingRow {
        conn,
        target,
        table: qualified,
    })
}

impl PendingRow {
    /// Commits the row.
    pub async fn commit(mut self) -> Result<()> {
        let done = sqlx::query("COMMIT").execute(&mut self.conn).await;
        let _ = self.conn.close().await;
        done.map(drop).map_err(|e| Error::Input {
            path: self.target.clone(),
            message: format!(
                "committing the history row in {} failed ({})",
                self.table,
                db_message(&e)
            ),
            hint: "nothing was recorded and the migration's files were removed; fix the cause and run baseline again".into(),
        })
    }

    /// Rolls the row back.
    pub async fn rollback(mut self) {
        let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
        let _ = self.conn.close().await;
    }
}

/// The tool's row for `m` (as `replay::history_row_sql` writes it, which
/// the tools' own CLIs accept), as statements with bound values.
async fn statements(
    tool: Tool,
    table: &str,
    m: &Migration,
    conn: &mut PgConnection,
) -> std::result::Result<Vec<(String, Vec<String>)>, sqlx::Error> {
    let version = m.version.clone().unwrap_or_default();
    Ok(match tool {
        // flyway-core JdbcTableSchemaHistory.doAddAppliedMigration
        Tool::Flyway => {
            let rank: i64 = sqlx::query_scalar(&format!(
                "SELECT coalesce(max(installed_rank), 0)::bigint + 1 FROM {table}"
            ))
            .persistent(false)
            .fetch_one(&mut *conn)
            .await?;
            let file = m
                .path
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let kind = if m.kind == MigrationKind::Baseline {
                "BASELINE"
            } else {
                "SQL"
            };
            vec![(
                format!(
                    "INSERT INTO {table} (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) \
                     VALUES ($1::text::int, $2, $3, $4, $5, $6::text::int, current_user, 0, true)"
                ),
                vec![
                    rank.to_string(),
                    version,
                    m.description.clone(),
                    kind.into(),
                    file,
                    m.checksum.clone(),
                ],
            )]
        }
        // sqlx-postgres migrate.rs apply(): the checksum is SHA-384 bytes
        Tool::Sqlx => vec![(
            format!(
                "INSERT INTO {table} (version, description, success, checksum, execution_time) \
                 VALUES ($1::text::bigint, $2, true, decode($3, 'hex'), 0)"
            ),
            vec![version, m.description.clone(), m.checksum.clone()],
        )],
        // golang-migrate keeps one row: the current version
        Tool::GolangMigrate => vec![
            (format!("TRUNCATE {table}"), vec![]),
            (
                format!("INSERT INTO {table} (version, dirty) VALUES ($1::text::bigint, false)"),
                vec![version],
            ),
        ],
        // dbmate: one row per applied version
        Tool::Dbmate => vec![(
            format!("INSERT INTO {table} (version) VALUES ($1)"),
            vec![version],
        )],
        // prisma-engines, PostgresFlavour: a finished row named by its
        // folder, checksum the SHA-256 hex of migration.sql
        Tool::Prisma => vec![(
            format!(
                "INSERT INTO {table} (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) \
                 VALUES (pg_catalog.gen_random_uuid()::text, $1, pg_catalog.now(), $2, NULL, NULL, pg_catalog.now(), 1)"
            ),
            vec![m.checksum.clone(), crate::replay::prisma_migration_name(m)],
        )],
        other => {
            return Err(sqlx::Error::Protocol(format!(
                "driftwatch does not write {} history rows",
                other.as_str()
            )))
        }
    })
}

fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// One line for a failed write: a lock that did not come within
/// lock_timeout names the tool's lock and says a migration may be running.
fn write_error(
    target: &str,
    table: &HistoryTable,
    qualified: &str,
    timeouts: Timeouts,
    e: sqlx::Error,
) -> Error {
    let code = match &e {
        sqlx::Error::Database(db) => db.code().map(|c| c.to_string()),
        _ => None,
    };
    let (message, hint) = match code.as_deref() {
        Some("55P03") => (
            format!(
                "{}'s migration lock or the history table {qualified} stayed locked for {} ms (lock_timeout): a migration is running",
                table.tool.as_str(),
                timeouts.lock.as_millis()
            ),
            "run baseline when the deployment has finished; nothing was recorded and no file was written",
        ),
        Some("57014") => (
            format!(
                "recording the baseline migration in {qualified} took longer than {} ms (statement_timeout)",
                timeouts.statement.as_millis()
            ),
            "run baseline again when the database is less busy; nothing was recorded and no file was written",
        ),
        _ => (
            format!(
                "recording the baseline migration in {qualified} failed ({})",
                db_message(&e)
            ),
            "nothing was recorded and no file was written; check the role's INSERT privilege on the history table",
        ),
    };
    Error::Input {
        path: target.to_string(),
        message,
        hint: hint.into(),
    }
}
