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

use crate::error::{Error, Result};
use crate::migrations::MigrationKind;
use crate::model::Snapshot;
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

/// Holds a target's lock file; removed on drop.
#[derive(Debug)]
pub struct StoreLock {
    path: PathBuf,
}

impl Drop for StoreLock {
    fn drop(&mut self) {
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

    /// Takes the target's lock: one writer at a time. A lock left by a
    /// process that no longer runs is taken over.
    pub fn lock(&self) -> Result<StoreLock> {
        let dir = self.dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(".lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(StoreLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<i32>().ok());
                    let alive = holder.is_some_and(|pid| {
                        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
                    });
                    if alive {
                        return Err(Error::Input {
                            path: path.display().to_string(),
                            message: format!(
                                "another driftwatch (pid {}) is writing this target",
                                holder.unwrap_or_default()
                            ),
                            hint: "wait for it to finish".into(),
                        });
                    }
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Input {
            path: path.display().to_string(),
            message: "the lock file cannot be taken".into(),
            hint: "remove it if no driftwatch is running".into(),
        })
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
        write_atomic(
            &self.migrations_dir().join(name),
            snapshot.to_json().as_bytes(),
        )
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
        crate::source::read_snapshot(&self.migrations_dir().join(name))
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
        Ok(())
    }
}
