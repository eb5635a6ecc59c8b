//! Extension statements of an unprivileged replay, run as the shadow's
//! superuser the way a managed platform's extension allow-list does
//! (pgextwlist, supautils): the migrating role is not a superuser, yet
//! `CREATE EXTENSION` works. Only statements PostgreSQL's parser reads as
//! exactly one extension statement are run so; they execute the
//! extension's own scripts from the server's installation, nothing the
//! migration wrote.

use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;
use sqlx::postgres::PgConnection;
use sqlx::Connection;

/// How an unprivileged replay runs one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// As the replay role, like everything else.
    Replay,
    /// An extension statement: as the superuser (the name is for the log).
    Superuser(&'static str),
    /// Not at all: an `OWNER TO` one of the shadow's superusers (pg_dump
    /// writes `OWNER TO postgres`). The unprivileged role cannot give an
    /// object away to a superuser, and a superuser must not get it (a
    /// SECURITY DEFINER function the migration wrote would then run as
    /// superuser): the object stays the replay role's, which a comparison
    /// reads as the other side's migrating role. The role is in the value.
    Skip(String),
}

/// How to run `text` when the shadow's superusers are `superusers`.
pub fn route(text: &str, superusers: &[String]) -> Route {
    if let Some(what) = extension_statement(text) {
        return Route::Superuser(what);
    }
    match owner_to(text) {
        Some(role) if superusers.contains(&role) => Route::Skip(role),
        _ => Route::Replay,
    }
}

/// The role an `ALTER … OWNER TO role` statement (nothing else) names.
fn owner_to(text: &str) -> Option<String> {
    let parsed = pg_query::parse(text, pg_query::ParserOptions::DEFAULT).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let named = |r: &Option<pg_query::protobuf::RoleSpec>| {
        r.as_ref()
            .map(|r| r.rolename.clone())
            .filter(|n| !n.is_empty())
    };
    match raw.stmt.as_ref()?.node.as_ref()? {
        NodeEnum::AlterOwnerStmt(a) => named(&a.newowner),
        NodeEnum::AlterTableStmt(a) => {
            let owners: Vec<Option<String>> = a
                .cmds
                .iter()
                .map(|c| match c.node.as_ref() {
                    Some(NodeEnum::AlterTableCmd(cmd))
                        if cmd.subtype == AlterTableType::AtChangeOwner as i32 =>
                    {
                        named(&cmd.newowner)
                    }
                    _ => None,
                })
                .collect();
            match owners.as_slice() {
                [Some(first), rest @ ..] if rest.iter().all(|o| o.as_ref() == Some(first)) => {
                    Some(first.clone())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// What an extension statement does, for the log; None for any other
/// statement (or several, or text that does not parse).
pub fn extension_statement(text: &str) -> Option<&'static str> {
    let parsed = pg_query::parse(text, pg_query::ParserOptions::DEFAULT).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let node = raw.stmt.as_ref()?.node.as_ref()?;
    let extension = ObjectType::ObjectExtension as i32;
    match node {
        NodeEnum::CreateExtensionStmt(_) => Some("CREATE EXTENSION"),
        NodeEnum::AlterExtensionStmt(_) => Some("ALTER EXTENSION"),
        NodeEnum::AlterExtensionContentsStmt(_) => Some("ALTER EXTENSION"),
        NodeEnum::DropStmt(d) if d.remove_type == extension => Some("DROP EXTENSION"),
        NodeEnum::CommentStmt(c) if c.objtype == extension => Some("COMMENT ON EXTENSION"),
        _ => None,
    }
}

/// Runs the extension statement `text` on `superuser` (a connection to the
/// same database as the shadow's superuser), with the replay session's
/// search_path (CREATE EXTENSION without SCHEMA uses its first schema).
/// `origin` (file:line) and `what` go to the log.
pub async fn run(
    replay: &mut PgConnection,
    superuser: &mut Option<PgConnection>,
    superuser_url: &crate::database::DatabaseUrl,
    text: &str,
    what: &str,
    origin: &str,
) -> Result<(), sqlx::Error> {
    let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *replay)
        .await?;
    if superuser.is_none() {
        let conn = superuser_url
            .connect(&[])
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        *superuser = Some(conn);
    }
    let Some(conn) = superuser.as_mut() else {
        return Err(sqlx::Error::PoolClosed);
    };
    sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(&path)
        .execute(&mut *conn)
        .await?;
    tracing::info!(
        statement = what,
        at = origin,
        "{what} runs as the shadow server's superuser, as a managed platform's extension allow-list does; the rest of the migration runs unprivileged"
    );
    sqlx::raw_sql(text).execute(&mut *conn).await?;
    Ok(())
}

/// Logs a statement [`Route::Skip`] leaves out.
pub fn log_skip(role: &str, origin: &str) {
    tracing::info!(
        at = origin,
        "OWNER TO {role} is not run: {role} is a superuser of the shadow server, which the unprivileged replay role may not give objects to; the object stays the replay role's"
    );
}

/// Closes the superuser connection, if one was opened.
pub async fn close(superuser: Option<PgConnection>) {
    if let Some(conn) = superuser {
        let _ = conn.close().await;
    }
}

/// The server's message of a failed statement.
pub fn server_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// The server's DETAIL of an error, when it gives one (`rule _RETURN on
/// view v depends on column "id"`): often what names the object in the way.
pub fn server_detail(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?
        .detail()
        .map(str::to_string)
}

/// What to do about a failed statement: a permission error (SQLSTATE
/// 42501) is the unprivileged replay refusing it; anything else gets
/// `otherwise`.
pub fn hint_for(e: &sqlx::Error, otherwise: &str) -> String {
    let denied = matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42501"));
    if denied {
        format!(
            "the shadow runs migrations as {}, which owns the database but is no superuser (as on a managed platform): server files, programs and large-object imports are refused; if this history really needs a superuser, pass --shadow-superuser",
            super::REPLAY_ROLE
        )
    } else {
        otherwise.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_single_extension_statements_are_elevated() {
        assert_eq!(
            extension_statement("CREATE EXTENSION IF NOT EXISTS citext SCHEMA app"),
            Some("CREATE EXTENSION")
        );
        assert_eq!(
            extension_statement("ALTER EXTENSION hstore UPDATE"),
            Some("ALTER EXTENSION")
        );
        assert_eq!(
            extension_statement("DROP EXTENSION citext CASCADE"),
            Some("DROP EXTENSION")
        );
        assert_eq!(
            extension_statement("COMMENT ON EXTENSION citext IS 'x'"),
            Some("COMMENT ON EXTENSION")
        );
        let supers = ["postgres".to_string()];
        assert_eq!(
            route("ALTER TABLE public.accounts OWNER TO postgres", &supers),
            Route::Skip("postgres".into())
        );
        assert_eq!(
            route("ALTER FUNCTION f() OWNER TO postgres", &supers),
            Route::Skip("postgres".into())
        );
        assert_eq!(route("ALTER TABLE t OWNER TO app", &supers), Route::Replay);
        assert_eq!(
            route("ALTER TABLE t OWNER TO postgres, ADD COLUMN b int", &supers),
            Route::Replay
        );
        assert_eq!(
            route("CREATE EXTENSION citext", &supers),
            Route::Superuser("CREATE EXTENSION")
        );
        for not in [
            "CREATE EXTENSION citext; COPY t FROM PROGRAM 'id'",
            "COPY t FROM PROGRAM 'id'",
            "DROP TABLE t",
            "COMMENT ON TABLE t IS 'CREATE EXTENSION'",
            "SELECT 'CREATE EXTENSION x'",
            "CREATE EXTENSION (",
        ] {
            assert_eq!(extension_statement(not), None, "{not}");
        }
    }
}
