//! Loads an SQL file into a database, statement by statement inside one
//! transaction, so that a failure names the file and line and leaves
//! nothing half-applied.

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use sqlx::Connection;

/// Runs every statement of `sql` (read from `origin`, used in messages)
/// against `url` in one transaction.
pub async fn load_sql(url: &DatabaseUrl, sql: &str, origin: &str) -> Result<()> {
    let statements = crate::normalize::split_statements(sql).map_err(|e| Error::Input {
        path: origin.to_string(),
        message: format!("cannot be parsed: {e}"),
        hint: "fix the SQL syntax".into(),
    })?;
    let mut conn = url.connect(&[]).await?;
    let mut tx = conn
        .begin()
        .await
        .map_err(|e| Error::Shadow(e.to_string()))?;
    for statement in &statements {
        if let Err(e) = sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(statement.text)).await {
            let message = match &e {
                sqlx::Error::Database(db) => db.message().to_string(),
                other => other.to_string(),
            };
            return Err(Error::Input {
                path: format!("{origin}:{}", statement.line),
                message: format!("statement failed: {message}"),
                hint: "fix the statement; nothing was applied".into(),
            });
        }
    }
    tx.commit()
        .await
        .map_err(|e| Error::Shadow(e.to_string()))?;
    let _ = conn.close().await;
    Ok(())
}
