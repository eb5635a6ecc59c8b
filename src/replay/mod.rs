//! Replay: applies migrations one by one to a shadow database and stores a
//! snapshot before and after each, so every version of the schema the
//! history describes can be compared with a live database. A rerun reuses
//! the stored snapshots of every unchanged leading migration (same
//! checksum): they are applied again without a capture, and capturing
//! starts at the first changed one.

mod apply;
mod migrate;
pub mod owners;
mod seed;
mod state;
mod verify_down;

pub use apply::{analyze, apply, apply_as, apply_open, create_history_table, Applied, Held};
pub use migrate::{history_row_sql, migrate, prisma_migration_name};
pub use seed::{create_roles, roles_named, seed, Seeded};
pub use state::{is_current, state_after, StateAfter, StateSettings};

use crate::catalog::{CaptureMode, CaptureOptions, CaptureSession};
use crate::error::{Error, Result};
use crate::history::HistoryTables;
use crate::migrations::{Migration, MigrationSet};
use crate::model::{MigrationRef, Phase, Snapshot};
use crate::shadow::{ReplayDatabase, Shadow};
use crate::store::{MigrationIndex, StoredMigration, TargetStore, INDEX_FORMAT};
use std::sync::Arc;

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Stop after this version (all when None).
    pub to: Option<String>,
    /// Capture the whole schema after every migration instead of only what
    /// the migration changed (the reference the incremental capture is
    /// tested against; slower).
    pub full_capture: bool,
    /// Capture settings.
    pub capture: CaptureOptions,
    /// The shadow server (default: a private cluster).
    pub shadow: crate::shadow::ShadowOptions,
    /// Replace a target whose stored snapshots were replayed from another
    /// directory.
    pub force: bool,
    /// Run each migration's down file after it and compare with the state
    /// before it, then the migration again and compare with the state
    /// after it (see [`verify_down`]); the verdicts go into the index.
    pub verify_down: bool,
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    /// The index as written.
    pub index: MigrationIndex,
    /// Leading migrations whose stored snapshots were reused.
    pub reused: usize,
    /// Migrations applied and captured.
    pub captured: usize,
    /// Of those, captured incrementally (only what they changed).
    pub incremental: usize,
}

/// How many leading migrations the index already holds unchanged, with
/// their snapshot files present (and, when `verify_down`, a verdict on
/// the down file as it is now).
pub fn reusable(
    migrations: &[Migration],
    old: Option<&MigrationIndex>,
    store: &TargetStore,
    verify_down: bool,
) -> usize {
    let Some(old) = old else { return 0 };
    migrations
        .iter()
        .zip(&old.migrations)
        .take_while(|(m, s)| {
            m.version == s.version
                && m.description == s.description
                && m.checksum == s.checksum
                && store.has(&s.before)
                && store.has(&s.after)
                && (!verify_down
                    || s.down
                        .as_ref()
                        .is_some_and(|d| d.holds_for(m.down.as_ref())))
        })
        .count()
}

/// What a replay says while it runs (a progress bar in the CLI, nothing in
/// tests): the library knows no terminal.
pub trait Progress: Send + Sync {
    /// `total` migrations to go through, `done` of them already stored.
    fn start(&self, _total: u64, _done: u64) {}
    /// Working on this migration now.
    fn working_on(&self, _what: &str) {}
    /// One more migration done.
    fn advance(&self) {}
}

/// No progress reports.
impl Progress for () {}

/// Replays `set` into `store`.
pub async fn replay(
    set: &MigrationSet,
    store: &TargetStore,
    opts: &ReplayOptions,
    progress: &dyn Progress,
) -> Result<ReplayOutcome> {
    let _lock = store.lock()?;
    let migrations = set.up_to(opts.to.as_deref())?;
    if opts.verify_down {
        set.require_readable_down()?;
    }
    let old = store.read_index()?;
    if let Some(old) = &old {
        let same = |a: &str, b: &std::path::Path| match (
            std::fs::canonicalize(a),
            std::fs::canonicalize(b),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => std::path::Path::new(a) == b,
        };
        if !opts.force && !same(&old.source, &set.dir) {
            return Err(Error::Usage(format!(
                "target {} holds snapshots replayed from {}, not from {}; refusing to replace them: give another --target, or --force to replace them",
                store.target(),
                old.source,
                set.dir.display()
            )));
        }
    }
    let reused = reusable(migrations, old.as_ref(), store, opts.verify_down);
    let mut index = MigrationIndex {
        format: INDEX_FORMAT.to_string(),
        target: store.target().to_string(),
        source: set.dir.display().to_string(),
        migration_format: set.format.as_str().to_string(),
        migrations: old
            .map(|o| o.migrations.into_iter().take(reused).collect())
            .unwrap_or_default(),
    };
    // A verdict holds for the down file it was made on only.
    for (stored, m) in index.migrations.iter_mut().zip(migrations) {
        if stored
            .down
            .as_ref()
            .is_some_and(|d| !d.holds_for(m.down.as_ref()))
        {
            stored.down = None;
        }
    }
    progress.start(migrations.len() as u64, reused as u64);
    if reused == migrations.len() {
        store.write_index(&index)?;
        store.prune(&index)?;
        return Ok(ReplayOutcome {
            index,
            reused,
            captured: 0,
            incremental: 0,
        });
    }

    let (shadow, warning) = Shadow::start(&opts.shadow)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let db = shadow
        .replay_database("driftwatch_replay", opts.shadow.superuser)
        .await?;
    let result = replay_into(
        set, migrations, store, opts, progress, &db, &mut index, reused,
    )
    .await;
    let _ = shadow.discard(&db).await;
    // Whatever happened, the index names exactly the migrations stored.
    store.write_index(&index)?;
    store.prune(&index)?;
    let incremental = result?;
    let captured = index.migrations.len() - reused;
    Ok(ReplayOutcome {
        index,
        reused,
        captured,
        incremental,
    })
}

#[allow(clippy::too_many_arguments)]
async fn replay_into(
    set: &MigrationSet,
    migrations: &[Migration],
    store: &TargetStore,
    opts: &ReplayOptions,
    progress: &dyn Progress,
    shadow_db: &ReplayDatabase,
    index: &mut MigrationIndex,
    reused: usize,
) -> Result<usize> {
    let db = &shadow_db.url;
    let superuser = Some(shadow_db);
    let mut conn = db.connect(&[]).await?;
    create_history_table(
        &mut conn,
        crate::history::Tool::for_format(set.format),
        migrations,
    )
    .await?;
    for m in &migrations[..reused] {
        progress.working_on(&format!("{} (reused)", m.key()));
        apply_as(&mut conn, m, superuser).await?;
    }
    let source = set.dir.display().to_string();
    let mut incremental = 0;
    let capture = CaptureOptions {
        history_tables: match &opts.capture.history_tables {
            HistoryTables::Detect => {
                HistoryTables::Tool(crate::history::Tool::for_format(set.format), None)
            }
            given => given.clone(),
        },
        ..opts.capture.clone()
    };
    let mut session = CaptureSession::open(db, &capture).await?;
    // Files are written by one thread, in order, while the next migration
    // runs: a link to a file is queued after the file itself.
    let writer = Writer::start(store.clone());
    // The session's first capture is a full one; later ones merge what
    // changed into the previous snapshot.
    let mut previous: Option<Arc<Snapshot>> = None;
    let (mut before_file, mut before_fingerprint) = match index.migrations.last() {
        Some(last) => (last.after.clone(), last.after_fingerprint.clone()),
        None => {
            let mut first = session.capture(CaptureMode::Full, None).await?;
            let m = &migrations[reused];
            label(&mut first, &source, m, Phase::Before);
            let name = format!("{}.before.json", m.slug());
            let fingerprint = first.fingerprint.clone();
            let first = Arc::new(first);
            writer.send(Write::Snapshot(name.clone(), first.clone()))?;
            previous = Some(first);
            (name, fingerprint)
        }
    };
    for m in &migrations[reused..] {
        progress.working_on(&m.key());
        let applied = apply_as(&mut conn, m, superuser)
            .await
            .map_err(|e| match e {
                Error::Input {
                    path,
                    message,
                    hint,
                } => Error::Input {
                    path,
                    message,
                    hint: format!(
                        "{hint}; nothing was stored for it or later migrations, earlier ones stay"
                    ),
                },
                other => other,
            })?;
        let mode = if opts.full_capture || applied.hides_changes {
            CaptureMode::Full
        } else {
            CaptureMode::Incremental
        };
        let mut after = session
            .capture(mode, previous.as_deref().map(|s| &s.objects))
            .await?;
        incremental += usize::from(mode == CaptureMode::Incremental && previous.is_some());
        let slug = m.slug();
        let (before_name, after_name) =
            (format!("{slug}.before.json"), format!("{slug}.after.json"));
        if before_name != before_file {
            writer.send(Write::Link(before_name.clone(), before_file.clone()))?;
        }
        label(&mut after, &source, m, Phase::After);
        let after_fingerprint = after.fingerprint.clone();
        let mut after = Arc::new(after);
        if after_fingerprint == before_fingerprint {
            writer.send(Write::Link(after_name.clone(), before_name.clone()))?;
        } else {
            writer.send(Write::Snapshot(after_name.clone(), after.clone()))?;
        }
        let mut down = None;
        if opts.verify_down {
            progress.working_on(&format!("{} (down file)", m.key()));
            let mut verifier = verify_down::Verifier {
                conn: &mut conn,
                shadow: shadow_db,
                session: &mut session,
                full_capture: opts.full_capture,
                store,
            };
            let before = verify_down::Before {
                snapshot: previous.as_deref(),
                file: &before_file,
                fingerprint: &before_fingerprint,
            };
            let (check, state) = verifier.verify(m, before, after).await?;
            down = Some(check);
            after = state;
        }
        index.migrations.push(StoredMigration {
            version: m.version.clone(),
            description: m.description.clone(),
            kind: m.kind,
            class: applied.class,
            checksum: m.checksum.clone(),
            file: m.path.display().to_string(),
            before: before_name,
            after: after_name.clone(),
            before_fingerprint: before_fingerprint.clone(),
            after_fingerprint: after_fingerprint.clone(),
            statements: applied.statements,
            renames: Some(applied.renames),
            down,
        });
        writer.send(Write::Index(index.clone()))?;
        progress.advance();
        previous = Some(after);
        before_file = after_name;
        before_fingerprint = after_fingerprint;
    }
    writer.finish()?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(incremental)
}

/// One write of the background writer.
enum Write {
    /// A snapshot file.
    Snapshot(String, Arc<Snapshot>),
    /// A file that is a hard link to an earlier one (same fingerprint).
    Link(String, String),
    /// The index.
    Index(MigrationIndex),
}

/// Writes the store's files on a thread of its own, in the order given.
struct Writer {
    sender: Option<std::sync::mpsc::SyncSender<Write>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Writer {
    fn start(store: TargetStore) -> Writer {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Write>(4);
        let thread = std::thread::spawn(move || {
            for write in receiver {
                match write {
                    Write::Snapshot(name, snapshot) => store.write_snapshot(&name, &snapshot)?,
                    Write::Link(name, existing) => store.link(&name, &existing)?,
                    Write::Index(index) => store.write_index(&index)?,
                }
            }
            Ok(())
        });
        Writer {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    /// Queues a write; if the writer stopped on an error, that error.
    fn send(&self, write: Write) -> Result<()> {
        let delivered = self.sender.as_ref().is_some_and(|s| s.send(write).is_ok());
        if delivered {
            Ok(())
        } else {
            Err(crate::error::Error::Shadow(
                "the snapshot writer stopped".into(),
            ))
        }
    }

    /// Waits for every queued write; the first error.
    fn finish(mut self) -> Result<()> {
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        drop(self.sender.take());
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(crate::error::Error::Shadow(
                "the snapshot writer panicked".into(),
            )),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // An early return still waits for queued files before the caller
        // rewrites the index and prunes.
        let _ = self.join();
    }
}

fn label(snapshot: &mut Snapshot, source: &str, m: &Migration, phase: Phase) {
    snapshot.meta.source = source.to_string();
    snapshot.meta.database = None;
    snapshot.meta.captured_at = String::new();
    snapshot.meta.migration = Some(MigrationRef {
        version: m.key(),
        name: m.description.clone(),
        phase,
    });
}
