//! Migrating a database as its tool would: each migration applied (the
//! replay's own rules for transactions and dbmate sections) and recorded
//! in the tool's history table with the row the tool writes. The demo and
//! the tests build their watched databases this way; a baseline's history
//! row (`--record-history`) is the same write.

use super::apply::{apply, create_history_table};
use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use crate::history::Tool;
use crate::migrations::{Migration, MigrationKind, MigrationSet};
use sqlx::PgConnection;

/// The statement that records `m` as applied in `tool`'s history table
/// (`rank` is Flyway's `installed_rank`); None for tools not written here.
pub fn history_row_sql(tool: Tool, m: &Migration, rank: usize) -> Option<String> {
    let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let version = m.version.clone().unwrap_or_default();
    let file = m
        .path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    Some(match tool {
        // flyway-core JdbcTableSchemaHistory.doAddAppliedMigration
        Tool::Flyway => format!(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES ({rank}, {}, {}, {}, {}, {}, current_user, 0, true)",
            if m.kind == MigrationKind::Repeatable { "NULL".into() } else { lit(&version) },
            lit(&m.description),
            lit(if m.kind == MigrationKind::Baseline { "BASELINE" } else { "SQL" }),
            lit(&file),
            m.checksum
        ),
        // sqlx-postgres migrate.rs apply(): checksum is the SHA-384 bytes
        Tool::Sqlx => format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ({version}, {}, true, decode({}, 'hex'), 0)",
            lit(&m.description),
            lit(&m.checksum)
        ),
        // golang-migrate keeps one row: the current version
        Tool::GolangMigrate => format!(
            "TRUNCATE schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES ({version}, false)"
        ),
        // dbmate: one row per applied version
        Tool::Dbmate => format!("INSERT INTO schema_migrations (version) VALUES ({})", lit(&version)),
        // prisma-engines, PostgresFlavour: a finished row named by its folder
        Tool::Prisma => format!(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES (gen_random_uuid()::text, {}, now(), {}, NULL, NULL, now(), 1)",
            lit(&m.checksum),
            lit(&prisma_migration_name(m))
        ),
        _ => return None,
    })
}

/// The `_prisma_migrations.migration_name` of `m`: its folder's name.
pub fn prisma_migration_name(m: &Migration) -> String {
    m.path
        .parent()
        .and_then(|d| d.file_name())
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Applies `migrations` of `set` to the database at `url` and records each
/// as `set`'s tool does. For the demo, tests and baselines; never called on
/// a watched database by a scan.
pub async fn migrate(
    url: &DatabaseUrl,
    set: &MigrationSet,
    migrations: &[Migration],
) -> Result<()> {
    let tool = crate::history::Tool::for_format(set.format);
    let mut conn: PgConnection = url.connect(&[]).await?;
    create_history_table(&mut conn, tool, &set.migrations).await?;
    let done: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", tool.table()))
        .fetch_one(&mut conn)
        .await
        .map_err(|e| {
            Error::Shadow(format!(
                "cannot read the {} history table ({e})",
                tool.as_str()
            ))
        })?;
    for (i, m) in migrations.iter().enumerate() {
        apply(&mut conn, m).await?;
        if let Some(sql) = history_row_sql(tool, m, done as usize + i + 1) {
            sqlx::Executor::execute(&mut conn, sqlx::raw_sql(&sql))
                .await
                .map_err(|e| Error::Input {
                    path: m.path.display().to_string(),
                    message: format!("applied, but its history row failed ({e})"),
                    hint: "check the history table".into(),
                })?;
        }
    }
    let _ = sqlx::Connection::close(conn).await;
    Ok(())
}
