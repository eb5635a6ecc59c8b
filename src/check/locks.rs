//! Is a migration running? The tools take PostgreSQL advisory locks while
//! they migrate (keys read from their sources); a scan that sees one held
//! reports `migration-in-progress` instead of drift, as Atlas does.
//!
//! - Flyway (`PostgreSQLAdvisoryLockTemplate`): `0x466C79776179` ("Flyway")
//!   plus Java's `String.hashCode` of the quoted history table,
//!   `"schema"."table"`; `pg_try_advisory_xact_lock` by default.
//! - sqlx (`sqlx-postgres/src/migrate.rs`): `0x3d32ad9e * crc32(database)`,
//!   `pg_advisory_lock`.
//! - golang-migrate (`database/util.go`): `crc32(schema \0 table \0 db) *
//!   1486364155` (mod 2^32); the CLI passes the URL path as the database
//!   name (`/db`), a program its `current_database()`; releases before
//!   v4.15 hashed the database name alone.
//! - Prisma (`sql-schema-connector`, Postgres flavour): the fixed key
//!   72707369, `pg_advisory_lock`.
//! - dbmate takes no lock (amacneil/dbmate#101 is open): a dbmate run is
//!   seen only through its open transaction on the history table, which the
//!   second probe below finds for every tool.
//!
//! A bigint key shows in `pg_locks` as `classid` (high half), `objid` (low
//! half) and `objsubid = 1`.

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use crate::history::Tool;
use crate::migrations::checksum::crc32;
use serde::Serialize;
use sqlx::Row;

/// Java's `String.hashCode` (UTF-16 code units).
fn java_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

fn quote_java(part: &str) -> String {
    format!("\"{}\"", part.replace('"', "\"\""))
}

/// Flyway's key for its history table `schema.table`.
pub fn flyway_key(schema: &str, table: &str) -> i64 {
    const FLYWAY: i64 = 0x466C_7977_6179;
    let name = format!("{}.{}", quote_java(schema), quote_java(table));
    FLYWAY + i64::from(java_hash(&name))
}

/// sqlx's key for `database`.
pub fn sqlx_key(database: &str) -> i64 {
    0x3d32_ad9e_i64 * i64::from(crc32(database.as_bytes()))
}

/// golang-migrate's key for its table in `database` (`/database` through
/// its CLI's URL).
pub fn golang_migrate_key(database: &str, schema: &str, table: &str) -> i64 {
    let text = format!("{schema}\0{table}\0{database}");
    i64::from(crc32(text.as_bytes()).wrapping_mul(1_486_364_155))
}

fn golang_migrate_legacy_key(database: &str) -> i64 {
    i64::from(crc32(database.as_bytes()).wrapping_mul(1_486_364_155))
}

/// The advisory keys `tool` may hold while migrating `database` with its
/// history in `schema.table`.
pub fn tool_keys(tool: Tool, database: &str, schema: &str, table: &str) -> Vec<i64> {
    match tool {
        Tool::Flyway => vec![flyway_key(schema, table)],
        Tool::Sqlx => vec![sqlx_key(database)],
        Tool::GolangMigrate => {
            let slashed = format!("/{database}");
            vec![
                golang_migrate_key(database, schema, table),
                golang_migrate_key(&slashed, schema, table),
                golang_migrate_legacy_key(database),
                golang_migrate_legacy_key(&slashed),
            ]
        }
        // prisma-engines, PostgresFlavour::acquire_lock: one fixed key.
        Tool::Prisma => vec![PRISMA_KEY],
        _ => Vec::new(),
    }
}

/// Prisma Migrate's advisory lock key (`pg_advisory_lock(72707369)`).
pub const PRISMA_KEY: i64 = 72_707_369;

/// A migration seen running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InProgress {
    /// The backend doing it.
    pub pid: i32,
    /// What showed it: `advisory lock <key> (<tool>)` or `open write on
    /// <table>`.
    pub evidence: String,
}

/// Looks for a migration running on the target: the tool's advisory lock
/// held by another session, or another session's uncommitted write (or
/// lock) on the history table `schema.table`. Catalog views only
/// (`pg_locks`); nothing waits.
pub async fn migration_in_progress(
    url: &DatabaseUrl,
    tool: Tool,
    schema: &str,
    table: &str,
) -> Result<Option<InProgress>> {
    let settings = [
        ("default_transaction_read_only", "on".to_string()),
        ("lock_timeout", "1000ms".to_string()),
        ("statement_timeout", "10s".to_string()),
    ];
    let mut conn = url.connect(&settings).await?;
    let query_error = |e: sqlx::Error| Error::Query {
        target: url.redacted().to_string(),
        query: "locks.sql (migration in progress)".into(),
        message: e.to_string(),
    };
    // In one read-only transaction with the settings set locally: they
    // hold also behind a pooler that dropped the startup options.
    let begin = format!(
        "BEGIN READ ONLY; {}",
        crate::database::set_local_sql(&settings)
    );
    sqlx::Executor::execute(&mut conn, sqlx::raw_sql(&begin))
        .await
        .map_err(query_error)?;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .persistent(false)
        .fetch_one(&mut conn)
        .await
        .map_err(query_error)?;
    let keys = tool_keys(tool, &database, schema, table);
    let rows = sqlx::query(include_str!("sql/in_progress.sql"))
        .bind(&keys)
        .bind(schema)
        .bind(table)
        .persistent(false)
        .fetch_all(&mut conn)
        .await
        .map_err(query_error)?;
    let _ = sqlx::Executor::execute(&mut conn, sqlx::raw_sql("COMMIT")).await;
    let _ = sqlx::Connection::close(conn).await;
    Ok(rows.first().map(|r| {
        let key: Option<i64> = r.get("key");
        let mode: Option<String> = r.get("mode");
        InProgress {
            pid: r.get("pid"),
            evidence: match key {
                Some(k) => format!("{}'s advisory lock {k}", tool.as_str()),
                None => format!(
                    "{} held on the history table {schema}.{table}",
                    mode.unwrap_or_default()
                ),
            },
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values worked out from the tools' sources (Flyway's with Java's own
    /// `String.hashCode`).
    #[test]
    fn keys_are_the_tools_own() {
        assert_eq!(
            flyway_key("public", "flyway_schema_history"),
            77_433_833_903_597
        );
        assert_eq!(sqlx_key("postgres"), 368_907_709_894_077_238);
        assert_eq!(
            golang_migrate_key("postgres", "public", "schema_migrations"),
            143_310_882
        );
        assert_eq!(
            golang_migrate_key("/postgres", "public", "schema_migrations"),
            3_280_485_947
        );
        assert_eq!(golang_migrate_legacy_key("postgres"), 3_057_848_503);
    }
}
