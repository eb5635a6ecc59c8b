//! Replay: applies migrations one by one to a shadow database and stores a
//! snapshot before and after each, so every version of the schema the
//! history describes can be compared with a live database. A rerun reuses
//! the stored snapshots of every unchanged leading migration (same
//! checksum): they are applied again without a capture, and capturing
//! starts at the first changed one.

mod apply;

pub use apply::{analyze, apply, Applied};

use crate::catalog::{CaptureMode, CaptureOptions, CaptureSession, DatabaseUrl};
use crate::error::Result;
use crate::migrations::{Migration, MigrationSet};
use crate::model::{MigrationRef, Phase, Snapshot};
use crate::shadow::Shadow;
use crate::store::{MigrationIndex, StoredMigration, TargetStore, INDEX_FORMAT};
use indicatif::ProgressBar;

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
    /// Shadow server URL (default: a private cluster).
    pub shadow_url: Option<String>,
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
/// their snapshot files present.
fn reusable(migrations: &[Migration], old: Option<&MigrationIndex>, store: &TargetStore) -> usize {
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
        })
        .count()
}

/// Replays `set` into `store`.
pub async fn replay(
    set: &MigrationSet,
    store: &TargetStore,
    opts: &ReplayOptions,
    progress: &ProgressBar,
) -> Result<ReplayOutcome> {
    let _lock = store.lock()?;
    let migrations = set.up_to(opts.to.as_deref())?;
    let old = store.read_index()?;
    let reused = reusable(migrations, old.as_ref(), store);
    let mut index = MigrationIndex {
        format: INDEX_FORMAT.to_string(),
        target: store.target().to_string(),
        source: set.dir.display().to_string(),
        migration_format: set.format.as_str().to_string(),
        migrations: old
            .map(|o| o.migrations.into_iter().take(reused).collect())
            .unwrap_or_default(),
    };
    progress.set_length(migrations.len() as u64);
    progress.set_position(reused as u64);
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

    let shadow = Shadow::from_url_or_start(opts.shadow_url.as_deref())?;
    let db = shadow.fresh_database("driftwatch_replay").await?;
    let result = replay_into(
        set, migrations, store, opts, progress, &db, &mut index, reused,
    )
    .await;
    let _ = shadow.drop_database(&db).await;
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
    progress: &ProgressBar,
    db: &DatabaseUrl,
    index: &mut MigrationIndex,
    reused: usize,
) -> Result<usize> {
    let mut conn = db.connect(&[]).await?;
    for m in &migrations[..reused] {
        progress.set_message(format!("{} (reused)", m.key()));
        apply(&mut conn, m).await?;
    }
    let source = set.dir.display().to_string();
    let mut incremental = 0;
    let mut session = CaptureSession::open(db, &opts.capture).await?;
    // The first capture of a session is a full one.
    let first = session.capture(CaptureMode::Full).await?;
    let (mut before, mut before_file) = match index.migrations.last() {
        Some(last) => (store.read_snapshot(&last.after)?, Some(last.after.clone())),
        None => (first, None),
    };
    for m in &migrations[reused..] {
        progress.set_message(m.key());
        let applied = apply(&mut conn, m).await?;
        let mode = if opts.full_capture || applied.hides_changes {
            CaptureMode::Full
        } else {
            CaptureMode::Incremental
        };
        let mut after = session.capture(mode).await?;
        incremental += usize::from(mode == CaptureMode::Incremental);
        let slug = m.slug();
        let (before_name, after_name) =
            (format!("{slug}.before.json"), format!("{slug}.after.json"));
        label(&mut before, &source, m, Phase::Before);
        store.write_snapshot(&before_name, &before, before_file.as_deref())?;
        label(&mut after, &source, m, Phase::After);
        let same = (after.fingerprint == before.fingerprint).then_some(before_name.as_str());
        store.write_snapshot(&after_name, &after, same)?;
        index.migrations.push(StoredMigration {
            version: m.version.clone(),
            description: m.description.clone(),
            kind: m.kind,
            class: applied.class,
            checksum: m.checksum.clone(),
            file: m.path.display().to_string(),
            before: before_name,
            after: after_name.clone(),
            before_fingerprint: before.fingerprint.clone(),
            after_fingerprint: after.fingerprint.clone(),
            statements: applied.statements,
        });
        store.write_index(index)?;
        progress.inc(1);
        before = after;
        before_file = Some(after_name);
    }
    let _ = sqlx::Connection::close(conn).await;
    Ok(incremental)
}

fn label(snapshot: &mut Snapshot, source: &str, m: &Migration, phase: Phase) {
    snapshot.meta.source = source.to_string();
    snapshot.meta.database = None;
    snapshot.meta.migration = Some(MigrationRef {
        version: m.key(),
        name: m.description.clone(),
        phase,
    });
}
