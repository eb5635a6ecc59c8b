//! Sources: the CLI arguments that become snapshots: a database URL or
//! `env:VAR` (captured), a snapshot file (read), a schema `.sql` file or a
//! directory of migrations (loaded into a shadow database, then captured).

use crate::catalog::{self, CaptureOptions, CaptureStats};
use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use crate::history::{HistoryTables, Tool};
use crate::migrations::Migration;
use crate::model::Snapshot;
use crate::shadow::{load_sql_as, ReplayDatabase, Shadow, ShadowOptions};
use std::path::{Path, PathBuf};
use tokio::sync::OnceCell;

/// The shadow server, started on first use (`--shadow-url` or
/// `DRIFTWATCH_SHADOW_URL`, else a private cluster of the target's major
/// when known).
pub struct LazyShadow {
    opts: std::sync::Mutex<ShadowOptions>,
    shadow: OnceCell<Shadow>,
    warning: std::sync::Mutex<Option<String>>,
}

impl LazyShadow {
    /// A shadow that will be started as `opts` asks.
    pub fn new(opts: ShadowOptions) -> LazyShadow {
        LazyShadow {
            opts: std::sync::Mutex::new(opts),
            shadow: OnceCell::new(),
            warning: std::sync::Mutex::new(None),
        }
    }

    /// Asks for a private cluster of `major` (the target's), unless the
    /// user chose the binaries. No effect once the shadow runs.
    pub fn want_major(&self, major: u32) {
        if let Ok(mut opts) = self.opts.lock() {
            opts.major.get_or_insert(major);
        }
    }

    /// Why the shadow's major is not the target's, when it is not.
    pub fn warning(&self) -> Option<String> {
        self.warning.lock().ok().and_then(|w| w.clone())
    }

    async fn get(&self) -> Result<&Shadow> {
        self.shadow
            .get_or_try_init(|| async {
                let opts = self.opts.lock().map(|o| o.clone()).unwrap_or_default();
                // On a blocking thread: starting a cluster blocks (a copy,
                // waiting for the server), and the other side of a diff (a
                // live capture) runs meanwhile.
                let (shadow, warning) = tokio::task::spawn_blocking(move || Shadow::start(&opts))
                    .await
                    .map_err(|e| {
                        Error::Shadow(format!("the shadow server's start failed: {e}"))
                    })??;
                if let Ok(mut w) = self.warning.lock() {
                    *w = warning;
                }
                Ok(shadow)
            })
            .await
    }
}

/// A parsed source argument.
#[derive(Debug, Clone)]
pub enum Source {
    /// A live database.
    Database(DatabaseUrl),
    /// A stored snapshot file.
    SnapshotFile(PathBuf),
    /// A schema `.sql` file, loaded into a shadow database.
    SqlFile(PathBuf),
    /// A directory of migrations, replayed in order into a shadow database,
    /// up to a version when given (`dir@VERSION`).
    MigrationDir(MigrationDirSource),
    /// A snapshot in the store (`store:TARGET@VERSION[:before|after]`,
    /// `@live`, `@baseline`).
    Stored(crate::store::StoredRef),
}

/// A migration directory given as a source.
#[derive(Debug, Clone)]
pub struct MigrationDirSource {
    /// The directory.
    pub dir: PathBuf,
    /// Replay up to this version (`dir@VERSION`); all when None.
    pub up_to: Option<String>,
    /// A directory holding no migration reads as an empty schema instead of
    /// being an error (`--allow-empty`).
    pub allow_empty: bool,
}

impl Source {
    /// Parses `postgres://…`, `postgresql://…`, `env:VAR` or a `.json` path.
    pub fn parse(arg: &str) -> Result<Source> {
        if arg.starts_with("env:")
            || arg.starts_with("postgres://")
            || arg.starts_with("postgresql://")
        {
            return Ok(Source::Database(DatabaseUrl::resolve(arg)?));
        }
        if arg.starts_with("store:") {
            let root = std::env::var_os("DRIFTWATCH_STORE")
                .map(PathBuf::from)
                .unwrap_or_else(crate::config::default_store_path);
            return Ok(Source::Stored(crate::store::StoredRef::parse(arg, &root)?));
        }
        if let Some((scheme, _)) = arg.split_once("://") {
            return Err(Error::Usage(format!(
                "{}: unknown URL scheme {scheme}://; use postgres://, postgresql://, env:VAR or a snapshot .json file",
                crate::database::redact_url(arg)
            )));
        }
        if crate::database::is_key_value(arg) && !Path::new(arg).exists() {
            return Err(Error::Usage(format!(
                "{}: key=value connection strings are not read; write postgres://user:password@host:port/database (a password may hold / ? @ as typed)",
                crate::database::redact_url(arg)
            )));
        }
        let path = PathBuf::from(arg);
        if path.extension().is_some_and(|e| e == "json") {
            return Ok(Source::SnapshotFile(path));
        }
        if path.extension().is_some_and(|e| e == "sql") {
            return Ok(Source::SqlFile(path));
        }
        if path.is_dir() {
            return Ok(Source::MigrationDir(MigrationDirSource {
                dir: path,
                up_to: None,
                allow_empty: false,
            }));
        }
        if let Some((dir, version)) = arg.rsplit_once('@') {
            if Path::new(dir).is_dir() && !version.is_empty() {
                return Ok(Source::MigrationDir(MigrationDirSource {
                    dir: PathBuf::from(dir),
                    up_to: Some(version.to_string()),
                    allow_empty: false,
                }));
            }
        }
        let found = if path.exists() {
            "it is neither a directory nor a .json or .sql file"
        } else {
            "no such file or directory"
        };
        Err(Error::Usage(format!(
            "{arg}: not a source driftwatch reads ({found}); give postgres://…, env:VAR, a snapshot .json file, a schema .sql file or a migration directory ({})",
            crate::migrations::LAYOUTS
        )))
    }

    /// The same source; a migration directory holding no migration then
    /// reads as an empty schema (`--allow-empty`).
    pub fn allowing_empty(self, allow: bool) -> Source {
        match self {
            Source::MigrationDir(d) => Source::MigrationDir(MigrationDirSource {
                allow_empty: allow,
                ..d
            }),
            other => other,
        }
    }

    /// The migration tool a migration directory's layout belongs to (None
    /// for other sources): its history table is the one left out of both
    /// sides of a diff.
    pub fn history_tool(&self) -> Result<Option<Tool>> {
        match self {
            Source::MigrationDir(d) => Ok(Some(Tool::for_format(
                crate::migrations::read(&d.dir, None)?.format,
            ))),
            _ => Ok(None),
        }
    }

    /// How the source is shown in messages (passwords hidden).
    pub fn display(&self) -> String {
        match self {
            Source::Database(url) => url.redacted().to_string(),
            Source::SnapshotFile(path) | Source::SqlFile(path) => path.display().to_string(),
            Source::Stored(r) => format!("store:{}@{}", r.target, r.which.spec()),
            Source::MigrationDir(d) => match &d.up_to {
                None => d.dir.display().to_string(),
                Some(v) => format!("{}@{v}", d.dir.display()),
            },
        }
    }

    /// Turns the source into a snapshot, with capture statistics for live
    /// databases and warnings (skipped files).
    pub async fn snapshot(
        &self,
        opts: &CaptureOptions,
        shadow: &LazyShadow,
    ) -> Result<(Snapshot, Option<CaptureStats>, Vec<String>)> {
        match self {
            Source::Database(url) => {
                let (snap, stats) = catalog::capture(url, opts).await?;
                Ok((snap, Some(stats), Vec::new()))
            }
            Source::Stored(r) => {
                let mut snap = r.read()?;
                if !opts.schemas.is_empty() || !opts.exclude_schemas.is_empty() {
                    snap.objects
                        .retain_schemas(&opts.schemas, &opts.exclude_schemas);
                    snap.fingerprint = crate::model::fingerprint(&snap.objects);
                }
                Ok((snap, None, Vec::new()))
            }
            Source::SnapshotFile(path) => {
                // read_snapshot has canonicalised it already; a schema filter
                // removes objects (no reordering) and so changes only the
                // fingerprint.
                let (mut snap, warning) = read_snapshot_checked(path)?;
                if !opts.schemas.is_empty() || !opts.exclude_schemas.is_empty() {
                    snap.objects
                        .retain_schemas(&opts.schemas, &opts.exclude_schemas);
                    snap.fingerprint = crate::model::fingerprint(&snap.objects);
                }
                Ok((snap, None, warning.into_iter().collect()))
            }
            Source::SqlFile(path) => {
                let sql = crate::migrations::meta::skip_pg_dump_meta_commands(
                    &read_sql(path)?,
                    &path.display().to_string(),
                )?;
                let snap = in_shadow(shadow, opts, &self.display(), Load::Sql(path, &sql)).await?;
                Ok((snap, None, Vec::new()))
            }
            Source::MigrationDir(d) => {
                let set = crate::migrations::read(&d.dir, None)?;
                set.require_some(d.allow_empty)?;
                let migrations = set.up_to(d.up_to.as_deref())?;
                let tool = Tool::for_format(set.format);
                // The replay creates this tool's table, and only it is not
                // schema, whatever the other side of a diff uses.
                let opts = CaptureOptions {
                    history_tables: HistoryTables::Tool(tool, None),
                    ..opts.clone()
                };
                let snap = in_shadow(
                    shadow,
                    &opts,
                    &self.display(),
                    Load::Migrations(tool, migrations),
                )
                .await?;
                Ok((snap, None, set.warnings))
            }
        }
    }
}

fn read_sql(path: &Path) -> Result<String> {
    Ok(crate::migrations::read_utf8(path)?.1)
}

/// Loads scripts into a fresh shadow database, captures it, drops it.
/// What to load into a shadow database.
enum Load<'a> {
    /// A schema file, in one transaction.
    Sql(&'a Path, &'a str),
    /// Migrations, each as `replay` applies it, after the tool's history
    /// table is created as the tool creates it.
    Migrations(Tool, &'a [Migration]),
}

async fn load(db: &ReplayDatabase, what: Load<'_>) -> Result<()> {
    match what {
        Load::Sql(path, sql) => load_sql_as(db, sql, &path.display().to_string()).await,
        Load::Migrations(tool, migrations) => {
            let mut conn = db.url.connect(&[]).await?;
            crate::replay::create_history_table(&mut conn, tool, migrations).await?;
            for m in migrations {
                crate::replay::apply_as(&mut conn, m, Some(db)).await?;
            }
            let _ = sqlx::Connection::close(conn).await;
            Ok(())
        }
    }
}

async fn in_shadow(
    shadow: &LazyShadow,
    opts: &CaptureOptions,
    label: &str,
    what: Load<'_>,
) -> Result<Snapshot> {
    let as_superuser = shadow.opts.lock().map(|o| o.superuser).unwrap_or(false);
    let shadow = shadow.get().await?;
    let db = shadow
        .replay_database("driftwatch_shadow", as_superuser)
        .await?;
    let result = load(&db, what).await;
    let captured = match result {
        Ok(()) => catalog::capture(&db.url, opts).await,
        Err(e) => Err(e),
    };
    let _ = shadow.discard(&db).await;
    let (mut snap, _) = captured?;
    snap.meta.source = label.to_string();
    snap.meta.database = None;
    Ok(snap)
}

/// Two sources captured for a comparison (`diff`, `diff --sql`).
pub struct Pair {
    /// The FROM side, named as the user gave it.
    pub from: Snapshot,
    /// The TO side, named as the user gave it.
    pub to: Snapshot,
    /// What the captures said (a shadow of another major, empty sources).
    pub warnings: Vec<String>,
}

/// Captures `from` and `to` at once with one capture policy: a migration
/// directory names the tool whose history table is left out on both
/// sides; a schema file or migrations compared with a live database load
/// into a shadow of that database's major; objects a replay created are
/// read as owned by the other side's migrating role.
pub async fn capture_pair(
    from: &Source,
    to: &Source,
    mut opts: CaptureOptions,
    shadow: ShadowOptions,
) -> Result<Pair> {
    let shadow = LazyShadow::new(shadow);
    if let Some(tool) = match from.history_tool()? {
        Some(t) => Some(t),
        None => to.history_tool()?,
    } {
        opts.history_tables = crate::history::HistoryTables::Tool(tool, None);
    }
    let needs_shadow = |s: &Source| matches!(s, Source::SqlFile(_) | Source::MigrationDir(..));
    if needs_shadow(from) || needs_shadow(to) {
        for side in [from, to] {
            if let Source::Database(url) = side {
                shadow.want_major(url.server_major().await?);
            }
        }
    }
    let (a, b) = tokio::try_join!(from.snapshot(&opts, &shadow), to.snapshot(&opts, &shadow))?;
    let (a, _, mut warnings) = a;
    let (b, _, more) = b;
    let replayed = |s: &Source| !matches!(s, Source::Database(_));
    let (mut a, mut b) = crate::replay::owners::aligned(a, b, replayed(from), replayed(to));
    // The report names the sources as the user gave them, not what a
    // snapshot file recorded about where it came from.
    a.meta.source = from.display();
    b.meta.source = to.display();
    warnings.extend(more);
    warnings.extend(shadow.warning());
    Ok(Pair {
        from: a,
        to: b,
        warnings,
    })
}

/// Reads a snapshot file (see [`crate::store::read_snapshot_file`]).
pub use crate::store::{
    read_snapshot_file as read_snapshot, read_snapshot_file_checked as read_snapshot_checked,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_and_files_are_refused_without_passwords() {
        let err = Source::parse("mysql://root:hunter2@db/app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown URL scheme mysql://"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(Source::parse("schema.txt").is_err());
        assert!(matches!(
            Source::parse("a.json"),
            Ok(Source::SnapshotFile(_))
        ));
    }
}
