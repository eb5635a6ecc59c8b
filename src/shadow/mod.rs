//! Throwaway PostgreSQL: a private cluster started from the machine's own
//! binaries, or an existing server given by URL (`--shadow-url`,
//! `DRIFTWATCH_SHADOW_URL`) where driftwatch may CREATE DATABASE.

mod abandon;
pub mod binaries;
mod cluster;
pub mod elevate;
mod files;
mod initdb;
mod load;
mod role;

pub use abandon::settle as settle_abandoned;
pub use cluster::{find_bindir, temp_root, Cluster, ClusterOptions};
pub use load::{load_sql, load_sql_as};
pub use role::REPLAY_ROLE;

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};

/// How to get a shadow server.
#[derive(Debug, Clone, Default)]
pub struct ShadowOptions {
    /// A server to use instead of a private cluster (`--shadow-url`, else
    /// `DRIFTWATCH_SHADOW_URL`).
    pub url: Option<String>,
    /// The bin directory of the server a private cluster runs
    /// (`--pg-bindir`, else `DRIFTWATCH_PG_BINDIR`).
    pub bindir: Option<std::path::PathBuf>,
    /// The major the target runs, when known: a private cluster runs it
    /// when its binaries are found.
    pub major: Option<u32>,
    /// Replay as the shadow's superuser (`--shadow-superuser`), for a
    /// history that needs one; by default migrations replay as
    /// [`REPLAY_ROLE`], a role that owns the database and nothing more.
    pub superuser: bool,
}

/// A shadow database to load untrusted SQL into.
#[derive(Debug, Clone)]
pub struct ReplayDatabase {
    /// Where the SQL runs: as [`REPLAY_ROLE`], the database's owner (as the
    /// shadow's own role when it is no superuser, or with
    /// `--shadow-superuser`).
    pub url: DatabaseUrl,
    /// The same database as the shadow's superuser, for extension
    /// statements ([`elevate`]); None when `url` is that role already or
    /// the shadow's role is no superuser.
    pub superuser: Option<DatabaseUrl>,
    /// The shadow server's superusers, when `superuser` is set.
    pub superusers: Vec<String>,
    name: String,
    /// Drops the database if it is not given back (a cancelled replay on a
    /// server given by URL).
    guard: Option<std::sync::Arc<abandon::Guard>>,
}

impl ReplayDatabase {
    /// How to run `statement` here ([`elevate::route`]): every statement
    /// as is when the SQL runs as the shadow's own role.
    pub fn route(&self, statement: &str) -> elevate::Route {
        match &self.superuser {
            Some(_) => elevate::route(statement, &self.superusers),
            None => elevate::Route::Replay,
        }
    }
}

/// Where shadow databases are created.
pub enum Shadow {
    /// Our own cluster, removed when dropped.
    Local(Cluster),
    /// A server the user gave, reached with a role that may CREATE DATABASE.
    External(DatabaseUrl),
}

static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

impl Shadow {
    /// The server in `url` when given (or in `DRIFTWATCH_SHADOW_URL`),
    /// else a new private cluster of the machine's default server.
    pub fn from_url_or_start(url: Option<&str>) -> Result<Shadow> {
        let opts = ShadowOptions {
            url: url.map(str::to_string),
            ..ShadowOptions::default()
        };
        Ok(Shadow::start(&opts)?.0)
    }

    /// The server `opts` asks for, started when it is a private cluster,
    /// and a warning when its major is not the target's.
    pub fn start(opts: &ShadowOptions) -> Result<(Shadow, Option<String>)> {
        let from_env = std::env::var("DRIFTWATCH_SHADOW_URL")
            .ok()
            .filter(|s| !s.is_empty());
        if let Some(url) = opts.url.clone().or(from_env) {
            return Ok((Shadow::External(DatabaseUrl::parse(&url)?), None));
        }
        let (binaries, warning) =
            binaries::choose(opts.bindir.as_deref(), opts.major).map_err(Error::Shadow)?;
        let cluster = Cluster::start(ClusterOptions {
            bindir: Some(binaries.dir),
            ..ClusterOptions::default()
        })?;
        Ok((Shadow::Local(cluster), warning))
    }

    /// URL of the maintenance database, where CREATE DATABASE runs.
    pub fn admin_url(&self) -> DatabaseUrl {
        match self {
            Shadow::Local(c) => c.url("postgres"),
            Shadow::External(u) => u.clone(),
        }
    }

    /// Creates an empty database with a unique name starting with `prefix`
    /// and returns its URL (the shadow's own role: for targets tests and the
    /// demo build; untrusted SQL goes to [`Shadow::replay_database`]).
    pub async fn fresh_database(&self, prefix: &str) -> Result<DatabaseUrl> {
        self.create_database(prefix, None).await
    }

    async fn create_database(&self, prefix: &str, owner: Option<&str>) -> Result<DatabaseUrl> {
        let n = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        let admin = self.admin_url();
        let mut conn = admin.connect(&[]).await?;
        let owner = owner.map(|o| format!(" OWNER {o}")).unwrap_or_default();
        sqlx::Executor::execute(
            &mut conn,
            sqlx::raw_sql(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE template0{owner}"
            )),
        )
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => {
                let role = url::Url::parse(admin.expose())
                    .ok()
                    .map(|u| u.username().to_string())
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "its role".into());
                Error::Shadow(format!(
                    "{}: {} (driftwatch creates a throwaway database there for every load); run ALTER ROLE {role} CREATEDB as a superuser, or give --shadow-url a role that may create databases",
                    admin.redacted(),
                    db.message()
                ))
            }
            sqlx::Error::Database(db) => Error::Shadow(format!(
                "{}: CREATE DATABASE failed: {}",
                admin.redacted(),
                db.message()
            )),
            other => Error::Shadow(format!(
                "{}: CREATE DATABASE failed: {other}",
                admin.redacted()
            )),
        })?;
        Ok(admin.with_database(&name))
    }

    /// An empty database to load untrusted SQL into and capture once, owned
    /// by [`REPLAY_ROLE`] (unless `as_superuser`): the `postgres` database
    /// of a private cluster the first time (no CREATE DATABASE: the cluster
    /// is thrown away anyway), else a fresh database named after `prefix`.
    /// Give it back with [`Shadow::discard`].
    pub async fn replay_database(
        &self,
        prefix: &str,
        as_superuser: bool,
    ) -> Result<ReplayDatabase> {
        let admin = self.admin_url();
        let role = if as_superuser {
            tracing::info!(server = %admin.redacted(), "migrations replay as the shadow server's superuser (--shadow-superuser)");
            None
        } else {
            replay_role(&admin, matches!(self, Shadow::Local(_))).await?
        };
        let owner = role.as_ref().map(|_| REPLAY_ROLE);
        let initial = match self {
            Shadow::Local(cluster) => cluster.take_initial_database(),
            Shadow::External(_) => None,
        };
        let db = match initial {
            Some(db) => {
                if let Some(owner) = owner {
                    let mut conn = admin.connect(&[]).await?;
                    sqlx::raw_sql(&format!("ALTER DATABASE postgres OWNER TO {owner}"))
                        .execute(&mut conn)
                        .await
                        .map_err(|e| {
                            Error::Shadow(format!("ALTER DATABASE postgres OWNER failed: {e}"))
                        })?;
                    let _ = sqlx::Connection::close(conn).await;
                }
                db
            }
            None => self.create_database(prefix, owner).await?,
        };
        let name = db.database_name().unwrap_or_default();
        // Armed from here: an error below, or a cancelled replay, drops it.
        let guard = match self {
            Shadow::External(_) => Some(std::sync::Arc::new(abandon::Guard::new(
                admin.clone(),
                name.clone(),
            ))),
            Shadow::Local(_) => None,
        };
        let Some(role) = role else {
            return Ok(ReplayDatabase {
                url: db,
                superuser: None,
                superusers: Vec::new(),
                name,
                guard,
            });
        };
        let url = role::as_replay_role(&db, &role)?;
        if let Shadow::External(_) = self {
            // Another machine's replay (or a migration) may have set another
            // password: ours again, once.
            match url.connect(&[]).await {
                Ok(conn) => {
                    let _ = sqlx::Connection::close(conn).await;
                }
                Err(e) if role::is_auth_failure(&e) => role::reset_password(&admin, &role).await?,
                Err(e) => return Err(e),
            }
        }
        Ok(ReplayDatabase {
            url,
            superuser: Some(db),
            superusers: role.superusers.clone(),
            name,
            guard,
        })
    }

    /// Drops a database from [`Shadow::replay_database`], unless it is
    /// the private cluster's `postgres` database (it goes with the cluster).
    pub async fn discard(&self, db: &ReplayDatabase) -> Result<()> {
        if let Shadow::Local(_) = self {
            if db.name == "postgres" {
                return Ok(());
            }
        }
        self.drop_database(&self.admin_url().with_database(&db.name))
            .await?;
        if let Some(guard) = &db.guard {
            guard.disarm();
        }
        Ok(())
    }

    /// Drops a database made by [`Shadow::fresh_database`].
    pub async fn drop_database(&self, url: &DatabaseUrl) -> Result<()> {
        let name = url::Url::parse(url.expose())
            .ok()
            .map(|u| u.path().trim_start_matches('/').to_string())
            .unwrap_or_default();
        if name.is_empty() {
            return Ok(());
        }
        drop_named(&self.admin_url(), &name).await
    }
}

/// Drops database `name` (one of ours) on the server `admin` reaches,
/// ending its sessions (`WITH (FORCE)`).
async fn drop_named(admin: &DatabaseUrl, name: &str) -> Result<()> {
    let mut conn = admin.connect(&[]).await?;
    let quoted = name.replace('"', "\"\"");
    // Executor::execute, not raw_sql(..).execute: the future must be Send
    // (see "Async and Send" in docs/architecture.md).
    let sql = format!("DROP DATABASE IF EXISTS \"{quoted}\" WITH (FORCE)");
    sqlx::Executor::execute(&mut conn, sqlx::raw_sql(&sql))
        .await
        .map_err(|e| Error::Shadow(format!("DROP DATABASE {name} failed: {e}")))?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(())
}

/// The replay role of the server `admin` reaches, set up once per process
/// and server.
async fn replay_role(admin: &DatabaseUrl, local: bool) -> Result<Option<role::ReplayRole>> {
    static DONE: std::sync::Mutex<Vec<(String, Option<role::ReplayRole>)>> =
        std::sync::Mutex::new(Vec::new());
    let key = admin.expose().to_string();
    if let Some(found) = DONE
        .lock()
        .ok()
        .and_then(|d| d.iter().find(|(k, _)| *k == key).map(|(_, r)| r.clone()))
    {
        return Ok(found);
    }
    let prepared = role::prepare(admin, local).await?;
    if let Some(w) = prepared.as_ref().and_then(|r| r.warning.as_ref()) {
        tracing::warn!("{w}");
    }
    if let Ok(mut done) = DONE.lock() {
        done.push((key, prepared.clone()));
    }
    Ok(prepared)
}
