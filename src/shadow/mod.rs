//! Throwaway PostgreSQL: a private cluster started from the machine's own
//! binaries, or an existing server given by URL (`--shadow-url`,
//! `DRIFTWATCH_SHADOW_URL`) where driftwatch may CREATE DATABASE.

pub mod binaries;
mod cluster;
mod initdb;
mod load;

pub use cluster::{find_bindir, temp_root, Cluster, ClusterOptions};
pub use load::load_sql;

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
    /// and returns its URL.
    pub async fn fresh_database(&self, prefix: &str) -> Result<DatabaseUrl> {
        let n = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        let admin = self.admin_url();
        let mut conn = admin.connect(&[]).await?;
        sqlx::Executor::execute(
            &mut conn,
            sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0")),
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

    /// An empty database to load into and capture once: the `postgres`
    /// database of a private cluster the first time (no CREATE DATABASE:
    /// the cluster is thrown away anyway), else a fresh database named
    /// after `prefix`. Give it back with [`Shadow::discard`].
    pub async fn scratch_database(&self, prefix: &str) -> Result<DatabaseUrl> {
        if let Shadow::Local(cluster) = self {
            if let Some(url) = cluster.take_initial_database() {
                return Ok(url);
            }
        }
        self.fresh_database(prefix).await
    }

    /// Drops a database from [`Shadow::scratch_database`], unless it is
    /// the private cluster's `postgres` database (it goes with the cluster).
    pub async fn discard(&self, url: &DatabaseUrl) -> Result<()> {
        if let Shadow::Local(cluster) = self {
            if url.expose() == cluster.url("postgres").expose() {
                return Ok(());
            }
        }
        self.drop_database(url).await
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
        let admin = self.admin_url();
        let mut conn = admin.connect(&[]).await?;
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .map_err(|e| Error::Shadow(format!("DROP DATABASE {name} failed: {e}")))?;
        Ok(())
    }
}
