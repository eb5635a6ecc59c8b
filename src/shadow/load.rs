//! Loads an SQL file into a database, statement by statement inside one
//! transaction, so that a failure names the file and line and leaves
//! nothing half-applied.

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use sqlx::Connection;

/// Runs every statement of `sql` (read from `origin`, used in messages)
/// against `url` in one transaction.
pub async fn load_sql(url: &DatabaseUrl, sql: &str, origin: &str) -> Result<()> {
    load(url, None, sql, origin).await
}

/// [`load_sql`] for untrusted SQL into a replay database: statements are
/// routed as [`super::ReplayDatabase::route`] says, extension statements
/// on its superuser connection between two transactions of the rest.
pub async fn load_sql_as(db: &super::ReplayDatabase, sql: &str, origin: &str) -> Result<()> {
    load(&db.url, Some(db), sql, origin).await
}

async fn load(
    url: &DatabaseUrl,
    shadow: Option<&super::ReplayDatabase>,
    sql: &str,
    origin: &str,
) -> Result<()> {
    use super::elevate::Route;
    let statements = crate::normalize::split_statements(sql).map_err(|e| Error::Input {
        path: origin.to_string(),
        message: format!("cannot be parsed: {e}"),
        hint: "fix the SQL syntax".into(),
    })?;
    let mut conn = url.connect(&[]).await?;
    let mut elevated = None;
    let begin = |e: sqlx::Error| Error::Shadow(e.to_string());
    sqlx::raw_sql("BEGIN")
        .execute(&mut conn)
        .await
        .map_err(begin)?;
    for statement in &statements {
        let at = format!("{origin}:{}", statement.line);
        let route = shadow.map_or(Route::Replay, |db| db.route(statement.text));
        let done = match (route, shadow.and_then(|db| db.superuser.as_ref())) {
            (Route::Superuser(what), Some(superuser)) => {
                let committed = sqlx::raw_sql("COMMIT").execute(&mut conn).await;
                let ran = match committed {
                    Ok(_) => {
                        super::elevate::run(
                            &mut conn,
                            &mut elevated,
                            superuser,
                            statement.text,
                            what,
                            &at,
                        )
                        .await
                    }
                    Err(e) => Err(e),
                };
                let again = sqlx::raw_sql("BEGIN").execute(&mut conn).await;
                ran.and(again.map(|_| ()))
            }
            (Route::Skip(role), _) => {
                super::elevate::log_skip(&role, &at);
                Ok(())
            }
            _ => sqlx::raw_sql(statement.text)
                .execute(&mut conn)
                .await
                .map(|_| ()),
        };
        if let Err(e) = done {
            super::elevate::close(elevated).await;
            return Err(Error::Input {
                path: at,
                message: format!("statement failed: {}", super::elevate::server_message(&e)),
                hint: super::elevate::hint_for(&e, "fix the statement; nothing was applied"),
            });
        }
    }
    super::elevate::close(elevated).await;
    sqlx::raw_sql("COMMIT")
        .execute(&mut conn)
        .await
        .map_err(|e| Error::Shadow(e.to_string()))?;
    let _ = conn.close().await;
    Ok(())
}
