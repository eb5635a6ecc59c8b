//! A target's store folder between `driftwatch.files` and a working copy
//! (its `scans.jsonl` aside: rows of `driftwatch.scans`, see `scans.rs`).
//!
//! Only what differs moves: files are compared by SHA-256, and a local
//! file is hashed again only when its size or modification time changed
//! since the last sync. The store's logs (`*.jsonl`: scans, deliveries,
//! baseline audit) only ever grow, and a long-watched target's
//! `scans.jsonl` is the largest file it has: when one side is the other
//! plus new lines, only the new lines travel (`content || $tail` on push,
//! `substring(content from n)` on pull, each checked against the hash of
//! the common part).

use super::Fleet;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A file as last synced or seen: its hash, size and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileState {
    sha: String,
    len: u64,
    mtime: Option<SystemTime>,
}

/// Path (relative, `/`-separated) → state.
pub(super) type Files = BTreeMap<String, FileState>;

impl Fleet {
    /// Makes `dir` (the target's folder of a private working copy) what
    /// the store holds for `target`: files fetched when their content
    /// differs (a grown log: its new lines only), files the store lacks
    /// removed.
    pub async fn pull(&self, target: &str, dir: &Path) -> Result<()> {
        let rows = sqlx::query(
            "SELECT path, sha256, length(content)::int8 AS len FROM driftwatch.files WHERE target = $1",
        )
        .bind(target)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        let remote: BTreeMap<String, (String, u64)> = rows
            .iter()
            .map(|r| {
                let len: i64 = r.get("len");
                (
                    r.get::<String, _>("path"),
                    (r.get::<String, _>("sha256"), len.max(0) as u64),
                )
            })
            .collect();
        let cache = self.known(target);
        let local = local_files(dir, &cache)?;
        let mut whole = Vec::new();
        for (rel, (sha, len)) in &remote {
            match local.get(rel) {
                Some(l) if &l.sha == sha => {}
                Some(l) if is_log(rel) && l.len < *len => {
                    if !self.pull_tail(target, dir, rel, l).await? {
                        whole.push(rel.clone());
                    }
                }
                _ => whole.push(rel.clone()),
            }
        }
        if !whole.is_empty() {
            let rows = sqlx::query(
                "SELECT path, content FROM driftwatch.files WHERE target = $1 AND path = ANY($2)",
            )
            .bind(target)
            .bind(&whole)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
            for r in rows {
                let rel: String = r.get("path");
                let content: Vec<u8> = r.get("content");
                crate::util::write_replacing(&inside(dir, &rel)?, &content, false)?;
            }
        }
        for rel in local.keys().filter(|p| !remote.contains_key(*p)) {
            let path = inside(dir, rel)?;
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        // Files this pull did not write keep their hash from the listing.
        let now = local_files(dir, &local)?;
        self.remember(target, now);
        self.pull_scans(target, dir).await
    }

    /// Appends the store's new lines of log `rel` to the local copy, when
    /// the local copy is the start of the store's; false when it is not.
    async fn pull_tail(
        &self,
        target: &str,
        dir: &Path,
        rel: &str,
        local: &FileState,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT encode(sha256(substring(content from 1 for $3)), 'hex') AS head,
                    substring(content from $3 + 1) AS tail
               FROM driftwatch.files WHERE target = $1 AND path = $2",
        )
        .bind(target)
        .bind(rel)
        .bind(local.len as i32)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        let Some(row) = row else { return Ok(false) };
        if row.get::<String, _>("head") != local.sha {
            return Ok(false);
        }
        let tail: Vec<u8> = row.get("tail");
        let path = inside(dir, rel)?;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        std::io::Write::write_all(&mut file, &tail).map_err(|e| Error::io(&path, e))?;
        Ok(true)
    }

    /// Pushes what changed in `dir` since the pull, and takes the tick to
    /// `stage`, in one transaction that first checks this replica still
    /// holds the tick (false when it did not: nothing is written).
    pub async fn push(
        &self,
        target: &str,
        tick: jiff::Timestamp,
        dir: &Path,
        stage: Stage<'_>,
    ) -> Result<bool> {
        let before = self.known(target);
        let local = local_files(dir, &before)?;
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        let held: Option<i64> = sqlx::query_scalar(
            "SELECT 1::bigint FROM driftwatch.ticks
              WHERE target = $1 AND tick = to_timestamp($2::bigint) AND holder = $3 AND finished_at IS NULL
              FOR UPDATE",
        )
        .bind(target)
        .bind(tick.as_second())
        .bind(&self.holder)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        if held.is_none() {
            tx.rollback().await.map_err(|e| self.err(e))?;
            return Ok(false);
        }
        for (rel, state) in &local {
            let old = before.get(rel);
            if old.is_some_and(|o| o.sha == state.sha) {
                continue;
            }
            let path = inside(dir, rel)?;
            let content = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            // A grown log: send the new lines only.
            if let Some(old) = old.filter(|o| is_log(rel) && (o.len as usize) < content.len()) {
                let (head, tail) = content.split_at(old.len as usize);
                if crate::util::hex(&Sha256::digest(head)) == old.sha {
                    let n = sqlx::query(
                        "UPDATE driftwatch.files SET content = content || $3, sha256 = $4, updated_at = now()
                          WHERE target = $1 AND path = $2 AND sha256 = $5",
                    )
                    .bind(target)
                    .bind(rel)
                    .bind(tail)
                    .bind(&state.sha)
                    .bind(&old.sha)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.err(e))?
                    .rows_affected();
                    if n == 1 {
                        continue;
                    }
                }
            }
            sqlx::query(
                "INSERT INTO driftwatch.files (target, path, content, sha256) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (target, path) DO UPDATE
                    SET content = excluded.content, sha256 = excluded.sha256, updated_at = now()",
            )
            .bind(target)
            .bind(rel)
            .bind(content)
            .bind(&state.sha)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        let gone: Vec<String> = before
            .keys()
            .filter(|p| !local.contains_key(*p))
            .cloned()
            .collect();
        if !gone.is_empty() {
            sqlx::query("DELETE FROM driftwatch.files WHERE target = $1 AND path = ANY($2)")
                .bind(target)
                .bind(&gone)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        let scans = self.push_scans(target, dir, &mut tx).await?;
        let (result, finish) = match stage {
            Stage::Stored(r) => (Some(r), false),
            Stage::Finished(r) => (r, true),
        };
        sqlx::query(
            "UPDATE driftwatch.ticks
                SET result = coalesce($4, result), heartbeat_at = now(),
                    finished_at = CASE WHEN $5 THEN now() END
              WHERE target = $1 AND tick = to_timestamp($2::bigint) AND holder = $3",
        )
        .bind(target)
        .bind(tick.as_second())
        .bind(&self.holder)
        .bind(result)
        .bind(finish)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        self.remember(target, local);
        if let Some(synced) = scans {
            self.scans_remember(target, synced);
        }
        Ok(true)
    }

    /// What this process last synced for `target`.
    fn known(&self, target: &str) -> Files {
        self.synced
            .lock()
            .map(|m| m.get(target).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    fn remember(&self, target: &str, files: Files) {
        if let Ok(mut m) = self.synced.lock() {
            m.insert(target.to_string(), files);
        }
    }
}

/// How far a [`Fleet::push`] takes its tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage<'a> {
    /// The scan's results are stored, with this result, but its alerts are
    /// still to be delivered: the tick stays claimed, so a replica that
    /// takes it over delivers them instead of scanning again.
    Stored(&'a str),
    /// The tick is done, with this result (None: the one stored before).
    Finished(Option<&'a str>),
}

/// Logs only grow (a line per scan, delivery or baseline).
fn is_log(rel: &str) -> bool {
    rel.ends_with(".jsonl")
}

/// Every file under `dir` (lock files and half-written temporaries left
/// out), hashed again only when its size or time differs from `cache`.
fn local_files(dir: &Path, cache: &Files) -> Result<Files> {
    let mut out = Files::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&d, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".lock") || name.starts_with(".tmp") {
                continue;
            }
            let meta = entry.metadata().map_err(|e| Error::io(&path, e))?;
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if rel == super::scans::SCANS {
                continue; // rows of driftwatch.scans
            }
            let (len, mtime) = (meta.len(), meta.modified().ok());
            let sha = match cache.get(&rel) {
                Some(c) if c.len == len && c.mtime.is_some() && c.mtime == mtime => c.sha.clone(),
                _ => {
                    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                    crate::util::hex(&Sha256::digest(&bytes))
                }
            };
            out.insert(rel, FileState { sha, len, mtime });
        }
    }
    Ok(out)
}

/// `rel` under `dir`, refusing a path that would leave it (the store's
/// rows are trusted no more than a file).
fn inside(dir: &Path, rel: &str) -> Result<PathBuf> {
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    if !ok {
        return Err(Error::Input {
            path: format!("driftwatch.files: {rel}"),
            message: "is not a path inside the target's folder".into(),
            hint: "delete that row from the fleet store".into(),
        });
    }
    Ok(dir.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_the_store_stay_inside_the_folder() {
        let dir = Path::new("/tmp/w/shop");
        assert_eq!(
            inside(dir, "live/a.json").unwrap(),
            Path::new("/tmp/w/shop/live/a.json")
        );
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a"] {
            assert!(inside(dir, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_file_is_hashed_again_only_when_its_size_or_time_changed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("scans.jsonl.1"), "a\n").unwrap();
        let first = local_files(dir.path(), &Files::new()).unwrap();
        // A cache entry claiming another hash for the same size and time
        // is trusted (that is the point of the cache) ...
        let mut lying = first.clone();
        lying.get_mut("scans.jsonl.1").unwrap().sha = "cached".into();
        assert_eq!(
            local_files(dir.path(), &lying).unwrap()["scans.jsonl.1"].sha,
            "cached"
        );
        // ... and ignored once the file grew.
        std::fs::write(dir.path().join("scans.jsonl.1"), "a\nb\n").unwrap();
        let grown = local_files(dir.path(), &lying).unwrap();
        assert_eq!(
            grown["scans.jsonl.1"].sha,
            crate::util::hex(&Sha256::digest(b"a\nb\n"))
        );
        assert_eq!(grown["scans.jsonl.1"].len, 4);
    }
}
