//! The role migrations replay as: `driftwatch_replay`, not a superuser,
//! owner of the shadow database, as a migrating role is on a managed
//! platform where nobody is superuser. A migration reading server files or
//! running programs (`COPY … PROGRAM`, `pg_read_file`, `lo_import`) then
//! fails with the server's permission error instead of reading the
//! machine's secrets.
//!
//! It has CREATEROLE, because histories create the roles they grant to
//! (there is no other way to know which roles those are: they are often
//! created inside DO blocks). On PostgreSQL 16 and later a CREATEROLE role
//! may only grant roles it administers. On 15 and older it may grant any
//! role but a superuser, including `pg_execute_server_program`: on a
//! private cluster the three server-file roles are made superuser roles
//! first (only a superuser may then grant them; nobody logs in as them).
//! A `--shadow-url` server is the user's and is not changed that way: a
//! warning says so.

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sqlx::Connection;

/// The role migrations replay as.
pub const REPLAY_ROLE: &str = "driftwatch_replay";

/// Roles that read or write the server's files or run programs as its
/// operating-system user.
const SERVER_FILE_ROLES: &str =
    "'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'";

/// How the replay role was set up on a shadow server.
#[derive(Debug, Clone)]
pub struct ReplayRole {
    /// Its password (a server whose pg_hba.conf trusts it ignores it).
    pub password: String,
    /// Set when the server lets a CREATEROLE role grant itself the
    /// server-file roles (a `--shadow-url` server of PostgreSQL 15 or older).
    pub warning: Option<String>,
    /// The server's superusers (see [`super::elevate::Route::Skip`]).
    pub superusers: Vec<String>,
}

/// Creates the replay role on the server `admin` reaches, when that role is
/// a superuser (else the replay runs as `admin`'s own role: None). `local`:
/// the server is our private cluster, whose catalog we may change.
pub async fn prepare(admin: &DatabaseUrl, local: bool) -> Result<Option<ReplayRole>> {
    let mut conn = admin.connect(&[]).await?;
    let fail = |what: &str, e: sqlx::Error| {
        Error::Shadow(format!("{}: {what} failed: {e}", admin.redacted()))
    };
    let (superuser, version): (bool, i32) = sqlx::query_as(
        "SELECT rolsuper, current_setting('server_version_num')::int FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| fail("reading the role", e))?;
    if !superuser {
        tracing::info!(server = %admin.redacted(), "the shadow role is not a superuser: migrations replay as it");
        return Ok(None);
    }
    let password = password_for(admin);
    // Concurrent replays on one server race to create it: the loser's
    // duplicate is fine. The attributes are set only by the creator, so
    // that concurrent sessions do not update the same row.
    let create = format!(
        "DO $dw$ BEGIN CREATE ROLE {REPLAY_ROLE} LOGIN CREATEROLE NOSUPERUSER NOCREATEDB NOREPLICATION NOBYPASSRLS PASSWORD '{password}'; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $dw$"
    );
    sqlx::raw_sql(&create)
        .execute(&mut conn)
        .await
        .map_err(|e| fail("creating the replay role", e))?;
    // A role of that name made by someone else must not be privileged.
    let (is_super, replication, bypass): (bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1",
    )
    .bind(REPLAY_ROLE)
    .fetch_one(&mut conn)
    .await
    .map_err(|e| fail("reading the replay role", e))?;
    if is_super || replication || bypass {
        sqlx::raw_sql(&format!(
            "ALTER ROLE {REPLAY_ROLE} NOSUPERUSER NOREPLICATION NOBYPASSRLS"
        ))
        .execute(&mut conn)
        .await
        .map_err(|e| fail("unprivileging the replay role", e))?;
    }
    let mut warning = None;
    if version < 160_000 {
        if local {
            sqlx::raw_sql(&format!(
                "UPDATE pg_catalog.pg_authid SET rolsuper = true WHERE rolname IN ({SERVER_FILE_ROLES}) AND NOT rolsuper"
            ))
            .execute(&mut conn)
            .await
            .map_err(|e| fail("protecting the server-file roles", e))?;
        } else {
            warning = Some(format!(
                "{}: on PostgreSQL {} a CREATEROLE role may grant itself pg_execute_server_program; migrations replay as {REPLAY_ROLE} (CREATEROLE) there, so untrusted migrations are contained only on a private cluster or a --shadow-url server of PostgreSQL 16 or later",
                admin.redacted(),
                version / 10_000
            ));
        }
    }
    let superusers: Vec<String> =
        sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolsuper ORDER BY 1")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| fail("reading the superusers", e))?;
    let _ = conn.close().await;
    Ok(Some(ReplayRole {
        password,
        warning,
        superusers,
    }))
}

/// `url` as the replay role (same server and database).
pub fn as_replay_role(url: &DatabaseUrl, role: &ReplayRole) -> Result<DatabaseUrl> {
    let mut parsed = url::Url::parse(url.expose())
        .map_err(|e| Error::Shadow(format!("{}: {e}", url.redacted())))?;
    let bad = |_| Error::Shadow(format!("{}: cannot set the user", url.redacted()));
    parsed.set_username(REPLAY_ROLE).map_err(bad)?;
    parsed.set_password(Some(&role.password)).map_err(bad)?;
    DatabaseUrl::parse(parsed.as_str())
}

/// After a failed login as the replay role (its password was set by a
/// replay with another key, or by a migration): sets ours again.
pub async fn reset_password(admin: &DatabaseUrl, role: &ReplayRole) -> Result<()> {
    let mut conn = admin.connect(&[]).await?;
    sqlx::raw_sql(&format!(
        "ALTER ROLE {REPLAY_ROLE} PASSWORD '{}'",
        role.password
    ))
    .execute(&mut conn)
    .await
    .map_err(|e| {
        Error::Shadow(format!(
            "{}: setting the replay role's password failed: {e}",
            admin.redacted()
        ))
    })?;
    let _ = conn.close().await;
    Ok(())
}

/// The replay role's password on the server `admin` names: derived from a
/// random key kept in driftwatch's cache (mode 0600) and the admin URL,
/// so concurrent replays on one machine agree without telling each other,
/// and nobody without the key can compute it. Hex only: it is written
/// into SQL.
fn password_for(admin: &DatabaseUrl) -> String {
    let mut h = Sha256::new();
    h.update(local_key());
    h.update(admin.expose().as_bytes());
    h.finalize()
        .iter()
        .take(24)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The machine's key (created on first use); a per-process random one
/// when the cache cannot hold it.
fn local_key() -> Vec<u8> {
    let fresh = || {
        let mut key = vec![0u8; 32];
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            use std::io::Read;
            let _ = f.read_exact(&mut key);
        }
        key
    };
    let Some(dir) = super::initdb::cache_root() else {
        return fresh();
    };
    let path = dir.join("replay-key");
    if let Ok(key) = std::fs::read(&path) {
        if key.len() == 32 {
            return key;
        }
    }
    let key = fresh();
    let _ = std::fs::create_dir_all(&dir);
    // Written aside and renamed: a concurrent reader sees all or nothing;
    // a concurrent writer's key wins, and we read that one back.
    let staging = dir.join(format!(".replay-key-{}", std::process::id()));
    if super::files::create_new(&staging, 0o600, None, &key).is_ok() {
        let _ = std::fs::hard_link(&staging, &path);
        let _ = std::fs::remove_file(&staging);
    }
    match std::fs::read(&path) {
        Ok(k) if k.len() == 32 => k,
        _ => key,
    }
}

/// True when `e` is a failed password login.
pub fn is_auth_failure(e: &Error) -> bool {
    e.to_string().contains("password authentication failed")
}
