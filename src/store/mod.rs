//! The snapshot store (files, git-friendly):
//!
//! ```text
//! <store>/<target>/migrations/<version>__<slug>.before.json
//! <store>/<target>/migrations/<version>__<slug>.after.json
//! <store>/<target>/migrations/index.json     what was replayed, from which file checksum
//! ```
//!
//! Writes are atomic (temp file, fsync, rename) and a lock file keeps two
//! writers of one target apart. A snapshot whose objects equal one already
//! written (the `before` of a migration is the `after` of the one before
//! it; a data migration changes nothing) is a hard link to that file: one
//! copy on disk, and git stores identical content once anyway.

mod backend;
pub mod fleet;
pub mod objects;
mod records;
mod refs;
mod scans;

pub use backend::{Backend, Claimed, Lease, ReadView};
pub use records::KEEP_REPORTS;
pub use refs::{Stored, StoredRef};
pub use scans::{
    carried, first_seen, scanned_targets, time_stem, BaselineAudit, BaselineRecord, ScanRecord,
    ScanRotation,
};

use crate::error::{Error, Result};
use crate::migrations::MigrationKind;
use crate::model::{Snapshot, SNAPSHOT_FORMAT};
use crate::normalize::MigrationClass;
use crate::util::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` of a migration index.
pub const INDEX_FORMAT: &str = "driftwatch.migrations/1";

/// One replayed migration, as the index records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMigration {
    /// Version; None for repeatables.
    pub version: Option<String>,
    /// Description.
    pub description: String,
    /// Versioned, baseline or repeatable.
    pub kind: MigrationKind,
    /// Schema, data, mixed or other, from its statements.
    pub class: MigrationClass,
    /// The file's checksum when it was replayed (its tool's algorithm).
    pub checksum: String,
    /// The migration file, as given.
    pub file: String,
    /// File name of the snapshot before it (in the same folder).
    pub before: String,
    /// File name of the snapshot after it.
    pub after: String,
    /// Fingerprint before.
    pub before_fingerprint: String,
    /// Fingerprint after.
    pub after_fingerprint: String,
    /// Statements it ran.
    pub statements: usize,
    /// The renames its own statements perform (`ALTER … RENAME`): the
    /// changelog reports these and no others. None in indexes written
    /// before driftwatch recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renames: Option<Vec<crate::normalize::Rename>>,
    /// The verdict of `replay --verify-down` on its down file, with the
    /// down file's checksum; None when it was not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<crate::migrations::DownCheck>,
}

/// `<store>/<target>/migrations/index.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationIndex {
    /// Always [`INDEX_FORMAT`].
    pub format: String,
    /// The target's name.
    pub target: String,
    /// The migration directory replayed.
    pub source: String,
    /// The migration format (flyway, sqlx, …).
    pub migration_format: String,
    /// Replayed migrations in run order.
    pub migrations: Vec<StoredMigration>,
}

/// One target's folder in a file store.
#[derive(Debug, Clone)]
pub struct TargetStore {
    root: PathBuf,
    target: String,
}

/// Holds a target's lock: an `flock(2)` on `<target>/.lock`, which the
/// kernel releases when the process ends however it ends (so a crash or
/// a reused pid never leaves it held). The file holds the holder's pid,
/// for the "held by" message only. Removed on drop, while still locked.
#[derive(Debug)]
pub struct StoreLock {
    path: PathBuf,
    _file: nix::fcntl::Flock<std::fs::File>,
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Unlinked before the flock is released: a process waiting on this
        // inode then sees it is no longer the lock file and starts again.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl TargetStore {
    /// The store at `root` (default `snapshots/`) for `target`. Target names
    /// become folder names: letters, digits, `-`, `_` and `.` only.
    pub fn new(root: &Path, target: &str) -> Result<TargetStore> {
        let valid = !target.is_empty()
            && !target.starts_with('.')
            && target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(Error::Usage(format!(
                "target name {target:?} is not usable as a folder name; use letters, digits, '-', '_' and '.'"
            )));
        }
        Ok(TargetStore {
            root: root.to_path_buf(),
            target: target.to_string(),
        })
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// `<store>/<target>`.
    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.target)
    }

    /// `<store>/<target>/migrations`.
    pub fn migrations_dir(&self) -> PathBuf {
        self.dir().join("migrations")
    }

    fn index_path(&self) -> PathBuf {
        self.migrations_dir().join("index.json")
    }

    /// Takes the target's lock: one writer at a time, or an error naming
    /// the holder's pid. The lock is `flock(2)` on `.lock`, not the pid
    /// written in it: a pid file left by a process that is gone (or whose
    /// pid a container's init reuses) never blocks.
    pub fn lock(&self) -> Result<StoreLock> {
        let dir = self.dir();
        objects::check_layout(&dir)?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        lock_file(&dir.join(".lock"))
    }

    /// The migration index, None when nothing was replayed yet.
    pub fn read_index(&self) -> Result<Option<MigrationIndex>> {
        let path = self.index_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let index: MigrationIndex = serde_json::from_str(&text).map_err(|e| Error::Input {
            path: format!("{}:{}", path.display(), e.line()),
            message: format!("is not a driftwatch migration index ({e})"),
            hint: "delete it and run driftwatch replay again".into(),
        })?;
        if index.format != INDEX_FORMAT {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: format!("index format {} is not {INDEX_FORMAT}", index.format),
                hint: "run driftwatch replay again with this version".into(),
            });
        }
        // The snapshot names become paths in the migrations folder: plain
        // file names only (no `/`, no `..`, nothing hidden).
        let names = index.migrations.iter().flat_map(|m| [&m.before, &m.after]);
        if let Some(bad) = names.into_iter().find(|n| !is_snapshot_file_name(n)) {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: format!(
                    "names a snapshot file {:?}, which is not a file name of this folder",
                    bad.chars().take(80).collect::<String>()
                ),
                hint: "delete it and run driftwatch replay again".into(),
            });
        }
        Ok(Some(index))
    }

    /// Writes the index atomically.
    pub fn write_index(&self, index: &MigrationIndex) -> Result<()> {
        let mut text = serde_json::to_string_pretty(index).map_err(|e| Error::Input {
            path: self.index_path().display().to_string(),
            message: e.to_string(),
            hint: "report this".into(),
        })?;
        text.push('\n');
        write_atomic(&self.index_path(), text.as_bytes())
    }

    /// Writes a snapshot as `<name>` in the migrations folder.
    pub fn write_snapshot(&self, name: &str, snapshot: &Snapshot) -> Result<()> {
        self.write_stored(&self.migrations_dir().join(name), snapshot)
    }

    /// Writes `snapshot` at `path` (a file of this target's folders): its
    /// objects, then its manifest (layout 2), or the whole snapshot when
    /// `DRIFTWATCH_STORE_LAYOUT=1` asks for the old layout (for the
    /// benchmark's comparison and the upgrade tests).
    pub fn write_stored(&self, path: &Path, snapshot: &Snapshot) -> Result<()> {
        if std::env::var("DRIFTWATCH_STORE_LAYOUT").as_deref() == Ok("1") {
            return write_atomic(path, snapshot.to_json().as_bytes());
        }
        objects::check_layout(&self.dir())?;
        let manifest = objects::write_objects(&self.dir().join("objects"), snapshot)?;
        write_atomic(path, manifest.as_bytes())?;
        objects::mark_layout(&self.dir())
    }

    /// Removes objects no stored snapshot names (the caller holds the lock).
    pub fn gc(&self) -> Result<objects::GcOutcome> {
        objects::gc(&self.dir())
    }

    /// Makes `<name>` the same file as `existing` (a hard link, replacing
    /// any older `<name>` atomically; a copy where links are not possible).
    pub fn link(&self, name: &str, existing: &str) -> Result<()> {
        let dir = self.migrations_dir();
        let (path, source) = (dir.join(name), dir.join(existing));
        if path == source {
            return Ok(());
        }
        let tmp = dir.join(format!(".{name}.link"));
        let _ = std::fs::remove_file(&tmp);
        if std::fs::hard_link(&source, &tmp).is_err() {
            std::fs::copy(&source, &tmp).map_err(|e| Error::io(&source, e))?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    /// Reads a snapshot of the migrations folder.
    pub fn read_snapshot(&self, name: &str) -> Result<Snapshot> {
        read_snapshot_file(&self.migrations_dir().join(name))
    }

    /// True when the migrations folder has this file.
    pub fn has(&self, name: &str) -> bool {
        self.migrations_dir().join(name).is_file()
    }

    /// Removes snapshot files of the migrations folder that `index` does
    /// not name (migrations removed or changed since an earlier replay).
    pub fn prune(&self, index: &MigrationIndex) -> Result<()> {
        let dir = self.migrations_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        let keep: std::collections::HashSet<&str> = index
            .migrations
            .iter()
            .flat_map(|m| [m.before.as_str(), m.after.as_str()])
            .collect();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let snapshot_file = name.ends_with(".before.json") || name.ends_with(".after.json");
            if snapshot_file && !keep.contains(name.as_str()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // Objects of removed snapshots, and any a crash left unreferenced.
        self.gc()?;
        Ok(())
    }
}

/// True for a snapshot file name the index may give: `*.json`, no path
/// separator, not hidden.
fn is_snapshot_file_name(name: &str) -> bool {
    name.ends_with(".json") && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// Reads a snapshot file, checks its format and re-canonicalises it.
pub fn read_snapshot_file(path: &Path) -> Result<Snapshot> {
    Ok(read_snapshot_file_checked(path)?.0)
}

/// [`read_snapshot_file`], with a warning when the fingerprint the file
/// records is not the one of its objects (the file was edited by hand).
/// Snapshots of older majors are then aligned to the newest
/// ([`crate::model::Objects::align_to_newest`]), which is no edit.
pub fn read_snapshot_file_checked(path: &Path) -> Result<(Snapshot, Option<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("cannot be read ({e})"),
        hint: "check the path".into(),
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Input {
        path: format!("{}:{}", path.display(), e.line()),
        message: format!("is not valid JSON ({e})"),
        hint: "give a snapshot written by driftwatch snapshot".into(),
    })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(SNAPSHOT_FORMAT) => {}
        Some(objects::MANIFEST_FORMAT) => {
            let manifest: objects::Manifest =
                serde_json::from_value(value).map_err(|e| Error::Input {
                    path: path.display().to_string(),
                    message: format!("is a damaged stored snapshot ({e})"),
                    hint: "replay the target again".into(),
                })?;
            return Ok((objects::read_manifest(path, manifest)?.aligned(), None));
        }
        Some(other) if other.starts_with("driftwatch.stored-snapshot/") => {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: format!("stored snapshot format {other} is newer than this driftwatch reads ({})", objects::MANIFEST_FORMAT),
                hint: "upgrade driftwatch".into(),
            })
        }
        Some(other) if other.starts_with("driftwatch.snapshot/") => {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: format!("snapshot format {other} is not supported by this driftwatch (it reads {SNAPSHOT_FORMAT})"),
                hint: "upgrade driftwatch, or capture the snapshot again".into(),
            })
        }
        _ => {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: "is not a driftwatch snapshot (no \"format\": \"driftwatch.snapshot/1\")".into(),
                hint: "give a snapshot written by driftwatch snapshot".into(),
            })
        }
    }
    let snapshot: Snapshot = serde_json::from_value(value).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("is a damaged snapshot ({e})"),
        hint: "capture it again".into(),
    })?;
    let recorded = snapshot.fingerprint.clone();
    let snapshot = snapshot.recanonicalize();
    let warning = (recorded != snapshot.fingerprint).then(|| {
        format!(
            "{}: its fingerprint {recorded} is not the one of its objects ({}); it was edited after it was written",
            path.display(),
            snapshot.fingerprint
        )
    });
    Ok((snapshot.aligned(), warning))
}

/// The pid of the process holding `path`'s lock, as it wrote it. A holder
/// writes its pid just after taking the lock, and the file may still name
/// an earlier, dead one: read again for up to 200 ms until it names a live
/// process.
fn holder_pid(path: &Path) -> Option<u32> {
    for _ in 0..10 {
        let pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        if let Some(pid) = pid.filter(|p| Path::new(&format!("/proc/{p}")).exists()) {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

/// Takes the flock of `path`, creating it, and writes this process's pid
/// in it. A holder that removed the file as this process waited for it
/// leaves a lock on a name no longer in the folder: tried again.
fn lock_file(path: &Path) -> Result<StoreLock> {
    use nix::fcntl::{Flock, FlockArg};
    use std::io::{Seek, Write};
    use std::os::unix::fs::MetadataExt;
    for _ in 0..20 {
        // Read-only when the file is another user's (a flock needs no
        // write access); such a file is then replaced by one of ours.
        let (file, writable) = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
        {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (
                std::fs::File::open(path).map_err(|e| Error::io(path, e))?,
                false,
            ),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                let holder = holder_pid(path).map_or(String::new(), |pid| format!(" (pid {pid})"));
                return Err(Error::Input {
                    path: path.display().to_string(),
                    message: format!("another driftwatch{holder} is writing this target"),
                    hint: "wait for it to finish".into(),
                });
            }
            Err((_, e)) => {
                return Err(Error::Input {
                    path: path.display().to_string(),
                    message: format!("cannot be locked ({e})"),
                    hint: "put the store on a filesystem with flock(2) support".into(),
                })
            }
        };
        let same = match (lock.metadata(), std::fs::metadata(path)) {
            (Ok(held), Ok(named)) => held.ino() == named.ino() && held.dev() == named.dev(),
            _ => false,
        };
        if !same {
            continue;
        }
        if !writable {
            // Ours now, but not writable: removed under the lock, so the
            // next round creates the file afresh.
            std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
            continue;
        }
        let pid = std::process::id();
        lock.set_len(0)
            .and_then(|()| lock.rewind())
            .and_then(|()| lock.write_all(format!("{pid}\n").as_bytes()))
            .map_err(|e| Error::io(path, e))?;
        return Ok(StoreLock {
            path: path.to_path_buf(),
            _file: lock,
        });
    }
    Err(Error::Input {
        path: path.display().to_string(),
        message: "the lock file keeps being replaced".into(),
        hint: "check that no other program removes it".into(),
    })
}
