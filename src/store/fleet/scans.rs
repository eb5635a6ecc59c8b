//! A target's `scans.jsonl` as rows of `driftwatch.scans(target, seq,
//! line)`: a scan appends a row (an INSERT) instead of rewriting a growing
//! bytea, and the log's rotation replaces the rows. `seq` only ever grows
//! for a target (a rewrite continues after the highest), so `(first, last)`
//! names one content: a replica that knows them fetches only newer rows.

use super::Fleet;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Row, Transaction};
use std::path::Path;

/// The log kept as rows, relative to the target's folder.
pub(super) const SCANS: &str = "scans.jsonl";

/// What a replica last synced of a target's scan rows, and the local
/// file they made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Synced {
    first: i64,
    last: i64,
    len: u64,
    sha: String,
}

/// `(min(seq), max(seq))` of the target's rows; None without rows.
async fn bounds(
    exec: impl sqlx::Executor<'_, Database = Postgres>,
    target: &str,
) -> std::result::Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT min(seq) AS first, max(seq) AS last FROM driftwatch.scans WHERE target = $1",
    )
    .bind(target)
    .fetch_one(exec)
    .await?;
    let first: Option<i64> = row.get("first");
    let last: Option<i64> = row.get("last");
    Ok(first.zip(last))
}

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lines of a log, each with its newline (a torn last line too).
fn lines(content: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(content)
        .split_terminator('\n')
        .map(str::to_string)
        .collect()
}

impl Fleet {
    /// Makes `dir/scans.jsonl` what the rows hold: the new rows appended
    /// when the local file is the one last synced, else the whole log.
    pub(super) async fn pull_scans(&self, target: &str, dir: &Path) -> Result<()> {
        let path = dir.join(SCANS);
        let known = self.scans_known(target);
        let Some((first, last)) = bounds(&self.pool, target).await.map_err(|e| self.err(e))? else {
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
            self.scans_remember(target, None);
            return Ok(());
        };
        let local = std::fs::read(&path).ok();
        let intact = |k: &Synced| {
            local
                .as_deref()
                .is_some_and(|l| l.len() as u64 == k.len && digest(l) == k.sha)
        };
        let from = match &known {
            Some(k) if k.first == first && k.last == last && intact(k) => return Ok(()),
            Some(k) if k.first == first && k.last < last && intact(k) => k.last,
            _ => i64::MIN,
        };
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT line FROM driftwatch.scans WHERE target = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
        )
        .bind(target)
        .bind(from)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        let mut content = if from == i64::MIN {
            Vec::new()
        } else {
            local.unwrap_or_default()
        };
        for line in rows {
            content.extend_from_slice(line.as_bytes());
            content.push(b'\n');
        }
        crate::util::write_replacing(&path, &content, false)?;
        self.scans_remember(
            target,
            Some(Synced {
                first,
                last,
                len: content.len() as u64,
                sha: digest(&content),
            }),
        );
        Ok(())
    }

    /// Writes the local log's changes as rows in `tx`: its new lines when
    /// it grew from what was synced (and the rows are still those), else
    /// all its lines in place of the old rows (a rotation). Returns what to
    /// remember once `tx` commits.
    pub(super) async fn push_scans(
        &self,
        target: &str,
        dir: &Path,
        tx: &mut Transaction<'_, Postgres>,
    ) -> Result<Option<Option<Synced>>> {
        let path = dir.join(SCANS);
        let known = self.scans_known(target);
        let Ok(content) = std::fs::read(&path) else {
            if known.is_some() {
                sqlx::query("DELETE FROM driftwatch.scans WHERE target = $1")
                    .bind(target)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.err(e))?;
                return Ok(Some(None));
            }
            return Ok(None);
        };
        let sha = digest(&content);
        if known.as_ref().is_some_and(|k| k.sha == sha) {
            return Ok(None);
        }
        let remote = bounds(&mut **tx, target).await.map_err(|e| self.err(e))?;
        let grown = known.as_ref().filter(|k| {
            remote == Some((k.first, k.last))
                && content.len() as u64 > k.len
                && digest(&content[..k.len as usize]) == k.sha
        });
        let (first, after, new) = match grown {
            Some(k) => (k.first, k.last, lines(&content[k.len as usize..])),
            None => {
                sqlx::query("DELETE FROM driftwatch.scans WHERE target = $1")
                    .bind(target)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.err(e))?;
                let after = remote.map_or(0, |(_, last)| last);
                (after + 1, after, lines(&content))
            }
        };
        sqlx::query(
            "INSERT INTO driftwatch.scans (target, seq, line)
             SELECT $1, $2 + n, line FROM unnest($3::text[]) WITH ORDINALITY AS u(line, n)",
        )
        .bind(target)
        .bind(after)
        .bind(&new)
        .execute(&mut **tx)
        .await
        .map_err(|e| self.err(e))?;
        let last = after + new.len() as i64;
        if new.is_empty() {
            return Ok(Some(None));
        }
        Ok(Some(Some(Synced {
            first,
            last,
            len: content.len() as u64,
            sha,
        })))
    }

    pub(super) fn scans_known(&self, target: &str) -> Option<Synced> {
        self.scan_rows
            .lock()
            .ok()
            .and_then(|m| m.get(target).cloned())
    }

    pub(super) fn scans_remember(&self, target: &str, synced: Option<Synced>) {
        if let Ok(mut m) = self.scan_rows.lock() {
            match synced {
                Some(s) => m.insert(target.to_string(), s),
                None => m.remove(target),
            };
        }
    }
}
