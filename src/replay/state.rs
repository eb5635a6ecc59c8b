//! "The state after version V": what the migration history says the
//! schema is once its tool applied V, for `check` and `baseline`. The
//! store's replay is used when it is current (the same files, checksums
//! and snapshots); otherwise the history is replayed now, into the store.
//! Callers never read the replay's index themselves.

use super::{replay, reusable, ReplayOptions};
use crate::catalog::CaptureOptions;
use crate::error::{Error, Result};
use crate::history::{HistoryTables, Tool};
use crate::migrations::{self, MigrationSet};
use crate::model::Snapshot;
use crate::shadow::ShadowOptions;
use crate::store::{StoredMigration, TargetStore};

/// How to replay when the store's copy is not current.
pub struct StateSettings {
    /// The shadow to replay on (its major set to the target's).
    pub shadow: ShadowOptions,
    /// The capture's options (schema filters are dropped: a replay
    /// captures every schema its files touch).
    pub capture: CaptureOptions,
}

/// The history up to a version, as replayed.
pub struct StateAfter {
    /// The replayed migrations up to the version (and the repeatables
    /// after them when every versioned file is applied), in run order.
    pub applied: Vec<StoredMigration>,
    /// Repeatables were left out because versioned files are pending
    /// (they run after those).
    pub pending_repeatables: bool,
    /// The version asked for.
    pub version: String,
}

impl StateAfter {
    /// The snapshot after the last applied migration, and its `store:`
    /// name (`store:<target>@<version>:after`).
    pub fn snapshot(&self, store: &TargetStore) -> Result<(Snapshot, String)> {
        let last = self.applied.last().ok_or_else(|| Error::Input {
            path: store.migrations_dir().display().to_string(),
            message: format!("no replayed migration {}", self.version),
            hint: "run driftwatch replay again".into(),
        })?;
        let snapshot = store.read_snapshot(&last.after)?;
        let name = format!(
            "store:{}@{}:after",
            store.target(),
            last.version
                .clone()
                .unwrap_or_else(|| format!("R:{}", last.description))
        );
        Ok((snapshot, name))
    }
}

/// How many leading migrations of `set` "the state after `version`"
/// holds, and whether that is every versioned file (the repeatables that
/// run after them are then included too).
fn wanted(set: &MigrationSet, version: &str) -> Result<(usize, bool)> {
    let up_to = set.up_to(Some(version)).map_err(|_| Error::Input {
        path: set.dir.display().to_string(),
        message: format!("the applied version {version} has no migration file"),
        hint: "point the target's migrations at the directory its tool applies".into(),
    })?;
    // Every versioned file applied: the repeatables that run after them too.
    let all_applied = !set.migrations.iter().any(|m| {
        m.version
            .as_deref()
            .is_some_and(|v| migrations::compare_versions(v, version).is_gt())
    });
    let len = if all_applied {
        set.migrations.len()
    } else {
        up_to.len()
    };
    Ok((len, all_applied))
}

/// True when `store`'s replay holds the state after `version` of `set`
/// as it is: [`state_after`] would read it without replaying.
pub fn is_current(set: &MigrationSet, store: &TargetStore, version: &str) -> Result<bool> {
    let (len, _) = wanted(set, version)?;
    Ok(store
        .read_index()?
        .is_some_and(|index| reusable(&set.migrations[..len], Some(&index), store, false) == len))
}

/// The history of `set` up to `version`: from the store's replay when it
/// is current, else replayed now (on `settings`) and stored.
pub async fn state_after(
    set: &MigrationSet,
    store: &TargetStore,
    version: &str,
    settings: &StateSettings,
) -> Result<StateAfter> {
    let (wanted_len, all_applied) = wanted(set, version)?;
    let current = |index: &crate::store::MigrationIndex| {
        reusable(&set.migrations[..wanted_len], Some(index), store, false) == wanted_len
    };
    let index = match store.read_index()? {
        Some(index) if current(&index) => index,
        _ => {
            let opts = ReplayOptions {
                to: if all_applied {
                    None
                } else {
                    Some(version.to_string())
                },
                full_capture: false,
                capture: CaptureOptions {
                    schemas: Vec::new(),
                    exclude_schemas: Vec::new(),
                    history_tables: HistoryTables::Tool(Tool::for_format(set.format), None),
                    ..settings.capture.clone()
                },
                shadow: settings.shadow.clone(),
                force: true,
                verify_down: false,
            };
            replay(set, store, &opts, &()).await?.index
        }
    };
    let pending_repeatables = !all_applied && set.migrations.iter().any(|m| m.version.is_none());
    Ok(StateAfter {
        applied: index.migrations[..wanted_len].to_vec(),
        pending_repeatables,
        version: version.to_string(),
    })
}
