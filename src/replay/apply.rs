//! Applies one migration to a shadow database the way its tool would: in
//! one transaction, unless the file manages its own transactions or holds
//! statements PostgreSQL refuses inside one (CREATE INDEX CONCURRENTLY, …),
//! which then run one by one in autocommit.

use crate::error::{Error, Result};
use crate::history::Tool;
use crate::migrations::Migration;
use crate::normalize::{self, MigrationClass, StatementClass, StatementInfo};
use crate::shadow::elevate::{self, Route};
use crate::shadow::ReplayDatabase;
use sqlx::postgres::PgConnection;

/// What applying a migration did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Statements run.
    pub statements: usize,
    /// Schema, data, mixed or other.
    pub class: MigrationClass,
    /// A statement may change the schema in ways an incremental capture
    /// cannot see (see [`StatementInfo::hides_changes`]).
    pub hides_changes: bool,
    /// The renames its statements perform, in order.
    pub renames: Vec<crate::normalize::Rename>,
}

/// Splits and classifies a migration's statements; a parse error names the file.
pub fn analyze(m: &Migration) -> Result<Vec<StatementInfo>> {
    normalize::analyze(&m.sql).map_err(|e| Error::Input {
        path: format!("{}:{}", m.path.display(), m.first_line),
        message: format!("cannot be parsed: {e}"),
        hint: "fix the SQL syntax".into(),
    })
}

/// Runs `m` on `conn`.
pub async fn apply(conn: &mut PgConnection, m: &Migration) -> Result<Applied> {
    apply_as(conn, m, None).await
}

/// How [`apply_open`] left the session.
#[derive(Debug)]
pub enum Held {
    /// The migration ran inside a transaction that is still open: the
    /// caller looks at what it holds (its locks), then commits.
    Open(Applied),
    /// The migration ran as [`apply_as`] runs it (outside a transaction,
    /// or with statements routed to the superuser): nothing is open.
    Done(Applied),
}

/// Runs `m` on `conn` as [`apply_as`] does, but leaves a migration that
/// runs in one transaction uncommitted, so that the locks it takes can be
/// read (`preflight`). The caller must COMMIT or ROLLBACK after
/// [`Held::Open`].
pub async fn apply_open(
    conn: &mut PgConnection,
    m: &Migration,
    shadow: Option<&ReplayDatabase>,
) -> Result<Held> {
    let infos = analyze(m)?;
    let one_by_one = m.no_transaction
        || infos
            .iter()
            .any(|s| s.outside_transaction.is_some() || s.class == StatementClass::Transaction);
    let routed = shadow.is_some_and(|db| {
        normalize::split_statements(&m.sql)
            .map(|st| st.iter().any(|s| db.route(s.text) != Route::Replay))
            .unwrap_or(true)
    });
    if one_by_one || routed {
        return apply_as(conn, m, shadow).await.map(Held::Done);
    }
    let statements = normalize::split_statements(&m.sql).map_err(|e| Error::Input {
        path: m.path.display().to_string(),
        message: format!("cannot be parsed: {e}"),
        hint: "fix the SQL syntax".into(),
    })?;
    let control = |e: sqlx::Error| Error::Shadow(format!("{}: {e}", m.path.display()));
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql("BEGIN"))
        .await
        .map_err(control)?;
    if let Err(e) = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(&m.sql)).await {
        let _ = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql("ROLLBACK")).await;
        return Err(located_failure(conn, m, &statements, &e).await);
    }
    Ok(Held::Open(Applied {
        statements: infos.len(),
        class: normalize::migration_class(&infos),
        hides_changes: infos.iter().any(|s| s.hides_changes.is_some()),
        renames: infos.iter().filter_map(|s| s.rename.clone()).collect(),
    }))
}

/// Runs `m` on `conn`, a session of the replay database `shadow` when
/// given: statements are then routed as [`ReplayDatabase::route`] says
/// (extension statements on its superuser connection, committing the rest
/// of the migration before and after them).
pub async fn apply_as(
    conn: &mut PgConnection,
    m: &Migration,
    shadow: Option<&ReplayDatabase>,
) -> Result<Applied> {
    let infos = analyze(m)?;
    let class = normalize::migration_class(&infos);
    let one_by_one = m.no_transaction
        || infos
            .iter()
            .any(|s| s.outside_transaction.is_some() || s.class == StatementClass::Transaction);
    let statements = normalize::split_statements(&m.sql).map_err(|e| Error::Input {
        path: m.path.display().to_string(),
        message: format!("cannot be parsed: {e}"),
        hint: "fix the SQL syntax".into(),
    })?;
    let routes: Vec<Route> = match shadow {
        Some(db) => statements.iter().map(|s| db.route(s.text)).collect(),
        None => Vec::new(),
    };
    let routed = shadow.zip(routes.iter().any(|r| *r != Route::Replay).then_some(()));
    if let Some((db, ())) = routed {
        apply_routed(conn, m, &statements, &routes, db, one_by_one).await?;
    } else if one_by_one {
        for s in &statements {
            if let Err(e) = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(s.text)).await {
                return Err(failure(m, s.line, s.text, &e));
            }
        }
    } else if let Err(e) = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(&m.sql)).await {
        return Err(located_failure(conn, m, &statements, &e).await);
    }
    Ok(Applied {
        statements: infos.len(),
        class,
        hides_changes: infos.iter().any(|s| s.hides_changes.is_some()),
        renames: infos.iter().filter_map(|s| s.rename.clone()).collect(),
    })
}

/// Runs `statements` of `m` one by one as `routes` say: the extension
/// statements on a superuser connection, the others in transactions
/// between them unless `m` runs outside one (`one_by_one`).
async fn apply_routed(
    conn: &mut PgConnection,
    m: &Migration,
    statements: &[normalize::Statement<'_>],
    routes: &[Route],
    db: &ReplayDatabase,
    one_by_one: bool,
) -> Result<()> {
    let mut admin = None;
    let wrap = !one_by_one;
    let control = |e: sqlx::Error| Error::Shadow(format!("{}: {e}", m.path.display()));
    if wrap {
        sqlx::raw_sql("BEGIN")
            .execute(&mut *conn)
            .await
            .map_err(control)?;
    }
    for (s, route) in statements.iter().zip(routes) {
        let origin = format!("{}:{}", m.path.display(), s.line + m.first_line - 1);
        let done = match (route, &db.superuser) {
            (Route::Superuser(what), Some(superuser)) => {
                let mut ran = Ok(());
                if wrap {
                    ran = sqlx::raw_sql("COMMIT")
                        .execute(&mut *conn)
                        .await
                        .map(|_| ());
                }
                if ran.is_ok() {
                    ran = elevate::run(conn, &mut admin, superuser, s.text, what, &origin).await;
                }
                if wrap && ran.is_ok() {
                    ran = sqlx::raw_sql("BEGIN").execute(&mut *conn).await.map(|_| ());
                }
                ran
            }
            (Route::Skip(role), _) => {
                elevate::log_skip(role, &origin);
                Ok(())
            }
            _ => sqlx::raw_sql(s.text).execute(&mut *conn).await.map(|_| ()),
        };
        if let Err(e) = done {
            if wrap {
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            }
            elevate::close(admin).await;
            return Err(failure(m, s.line, s.text, &e));
        }
    }
    elevate::close(admin).await;
    if wrap {
        sqlx::raw_sql("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(control)?;
    }
    Ok(())
}

/// The failure of `m` run as one simple query (one implicit transaction:
/// nothing of it stays), at its statement: found by the error's position
/// when the server gives one, else by running the statements again one by
/// one and rolling back.
async fn located_failure(
    conn: &mut PgConnection,
    m: &Migration,
    statements: &[normalize::Statement<'_>],
    e: &sqlx::Error,
) -> Error {
    let at = error_offset(&m.sql, e)
        .and_then(|offset| {
            statements
                .iter()
                .rev()
                .find(|s| (s.text.as_ptr() as usize - m.sql.as_ptr() as usize) <= offset)
        })
        .map(|s| (s.line, s.text));
    let at = match at {
        Some(at) => Some(at),
        None => locate_by_rerun(conn, statements).await,
    };
    let (line, text) = at.unwrap_or((1, m.sql.as_str()));
    failure(m, line, text, e)
}

/// The byte offset of a server error's cursor position, if it has one.
fn error_offset(sql: &str, e: &sqlx::Error) -> Option<usize> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    match pg.position()? {
        sqlx::postgres::PgErrorPosition::Original(chars) => sql
            .char_indices()
            .nth(chars.saturating_sub(1))
            .map(|(i, _)| i),
        _ => None,
    }
}

async fn locate_by_rerun<'a>(
    conn: &mut PgConnection,
    statements: &[normalize::Statement<'a>],
) -> Option<(usize, &'a str)> {
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql("BEGIN"))
        .await
        .ok()?;
    let mut found = None;
    for s in statements {
        if sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(s.text))
            .await
            .is_err()
        {
            found = Some((s.line, s.text));
            break;
        }
    }
    let _ = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql("ROLLBACK")).await;
    found
}

fn failure(m: &Migration, line: usize, statement: &str, e: &sqlx::Error) -> Error {
    let mut message = elevate::server_message(e);
    if let Some(detail) = elevate::server_detail(e) {
        message = format!("{message}: {detail}");
    }
    let first = statement.lines().next().unwrap_or_default().trim();
    let shown: String = first.chars().take(80).collect();
    let ellipsis = if shown.len() < statement.trim_end().len() {
        "…"
    } else {
        ""
    };
    Error::Input {
        path: format!("{}:{}", m.path.display(), line + m.first_line - 1),
        message: format!("statement failed: {message} (in `{shown}{ellipsis}`)"),
        hint: elevate::hint_for(e, "the migration's tool would stop here too (if it ran on your databases, the shadow server lacks something it had: a role, an extension, a setting)"),
    }
}

/// True when a statement of `migrations` creates a table named `name`
/// (a hand-written runner's first migration often creates its own table).
fn creates_table(migrations: &[Migration], name: &str) -> bool {
    migrations.iter().any(|m| {
        normalize::analyze(&m.sql).is_ok_and(|infos| {
            infos.iter().any(|s| {
                s.node == "CreateStmt"
                    && s.touches
                        .iter()
                        .any(|t| t == name || t.ends_with(&format!(".{name}")))
            })
        })
    })
}

/// Creates `tool`'s history table as the tool does before the first
/// migration, so migrations that alter it run as they do for the tool;
/// not when one of `migrations` creates it itself.
pub async fn create_history_table(
    conn: &mut PgConnection,
    tool: Tool,
    migrations: &[Migration],
) -> Result<()> {
    let Some(ddl) = crate::history::create_history_table_ddl(tool) else {
        return Ok(());
    };
    if creates_table(migrations, tool.table()) {
        return Ok(());
    }
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(ddl))
        .await
        .map_err(|e| {
            Error::Shadow(format!(
                "cannot create the {} history table ({e})",
                tool.as_str()
            ))
        })?;
    Ok(())
}
