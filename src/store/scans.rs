//! What `check` keeps per target besides the replayed migrations:
//!
//! ```text
//! <store>/<target>/scans.jsonl              one line per scan
//! <store>/<target>/live/<time>.json         the live snapshot, when it changed
//! <store>/<target>/baselines/<time>.json    accepted states (newest wins)
//! <store>/<target>/baselines/audit.jsonl    who accepted which, when, why
//! ```
//!
//! `scans.jsonl` is appended with one `write` of a whole line and fsynced;
//! a crash can only leave a torn last line, which readers skip (a torn line
//! elsewhere is a corrupt store and an error naming its line).

use super::TargetStore;
use crate::error::{Error, Result};
use crate::model::Snapshot;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanResult {
    /// The live schema is the expected one and the history is in order.
    Clean,
    /// Findings at or above the target's `fail_on`.
    Drift,
    /// Findings, all below `fail_on` (pending migrations, info only).
    Notice,
    /// The migration tool held its lock: a deployment was running, no
    /// schema comparison was made.
    MigrationInProgress,
    /// No expected state existed: the live schema was recorded as the
    /// accepted state (first scan of a target without replayable files).
    Recorded,
    /// The scan could not be made (target down, bad credentials, …).
    Failed,
}

impl ScanResult {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanResult::Clean => "clean",
            ScanResult::Drift => "drift",
            ScanResult::Notice => "notice",
            ScanResult::MigrationInProgress => "migration-in-progress",
            ScanResult::Recorded => "recorded",
            ScanResult::Failed => "failed",
        }
    }

    /// True when the scan compared the schema (its findings say something
    /// about drift).
    pub fn compared(self) -> bool {
        matches!(
            self,
            ScanResult::Clean | ScanResult::Drift | ScanResult::Notice | ScanResult::Recorded
        )
    }
}

/// Findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Info.
    pub info: usize,
}

/// One line of `scans.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRecord {
    /// When the scan started, RFC 3339 UTC.
    pub time: String,
    /// The target.
    pub target: String,
    /// How it ended.
    pub result: ScanResult,
    /// SHA-256 over the sorted finding ids: equal fingerprints, same drift
    /// state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Counts by severity.
    #[serde(default)]
    pub counts: Counts,
    /// The findings' stable ids (`code object`), for "since when".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// Fingerprint of the live schema, when captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// Fingerprint of the expected schema, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Why the scan failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The catalog probe's fingerprint taken before the live capture
    /// (`watch` rescans): the next scan reuses the live snapshot when the
    /// probe still says this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<String>,
}

/// One line of `baselines/audit.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRecord {
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The snapshot file in `baselines/`.
    pub file: String,
    /// Who: the OS user, or `driftwatch` for a first scan.
    pub by: String,
    /// Why.
    pub reason: String,
    /// Fingerprint of the accepted schema.
    pub fingerprint: String,
    /// The applied version when it was accepted: the accepted state stands
    /// in for the replay of that version (and no other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_version: Option<String>,
    /// Fingerprint of the expected state it replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
    /// Ids of the findings it accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<String>,
    /// The migration written for it (`--write-migration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    /// True when that migration was recorded in the target's history table.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub history_recorded: bool,
}

/// What an accepted state's audit record says beyond its file and time.
#[derive(Debug, Clone, Default)]
pub struct BaselineAudit {
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// The applied version at the time.
    pub applied_version: Option<String>,
    /// The expected state's fingerprint it replaced.
    pub replaced: Option<String>,
    /// The findings accepted.
    pub accepted: Vec<String>,
    /// The migration written.
    pub migration: Option<String>,
    /// The history row recorded.
    pub history_recorded: bool,
}

/// `2026-12-02T04:15:00Z` as a file name stem: `20261202T041500Z`.
pub fn time_stem(time: &str) -> String {
    time.chars().filter(|c| *c != '-' && *c != ':').collect()
}

impl TargetStore {
    fn scans_path(&self) -> PathBuf {
        self.dir().join("scans.jsonl")
    }

    /// `<store>/<target>/live`.
    pub fn live_dir(&self) -> PathBuf {
        self.dir().join("live")
    }

    /// `<store>/<target>/baselines`.
    pub fn baselines_dir(&self) -> PathBuf {
        self.dir().join("baselines")
    }

    /// Every scan, oldest first. A torn last line (a crash mid-append) is
    /// skipped; any other unreadable line is an error naming it.
    pub fn read_scans(&self) -> Result<Vec<ScanRecord>> {
        read_jsonl(&self.scans_path(), "run driftwatch check again")
    }

    /// Appends one scan record (the caller holds the store lock).
    pub fn append_scan(&self, record: &ScanRecord) -> Result<()> {
        append_jsonl(&self.scans_path(), record)
    }

    /// The newest live snapshot kept, with its file name.
    pub fn latest_live(&self) -> Result<Option<(String, Snapshot)>> {
        newest_snapshot(&self.live_dir())
    }

    /// Keeps `snapshot` as a live snapshot taken at `time`, unless the
    /// newest kept one has the same fingerprint; then removes all but the
    /// newest `keep` files. Returns the file name written, if any.
    pub fn keep_live(
        &self,
        time: &str,
        snapshot: &Snapshot,
        keep: usize,
    ) -> Result<Option<String>> {
        // A manifest says its fingerprint without reading its objects.
        if let Some(last) = snapshot_files(&self.live_dir())?.pop() {
            let path = self.live_dir().join(last);
            let fingerprint = match super::objects::read_manifest_file(&path) {
                Some(m) => m.fingerprint,
                None => super::read_snapshot_file(&path)?.fingerprint,
            };
            if fingerprint == snapshot.fingerprint {
                return Ok(None);
            }
        }
        let name = format!("{}.json", time_stem(time));
        self.write_stored(&self.live_dir().join(&name), snapshot)?;
        let files = snapshot_files(&self.live_dir())?;
        let excess = files.len().saturating_sub(keep.max(1));
        for old in &files[..excess] {
            let path = self.live_dir().join(old);
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        if excess > 0 {
            self.gc()?;
        }
        Ok(Some(name))
    }

    /// The newest accepted state (`baselines/`), with its file name.
    pub fn latest_baseline(&self) -> Result<Option<(String, Snapshot)>> {
        newest_snapshot(&self.baselines_dir())
    }

    /// Stores `snapshot` as an accepted state and appends its audit record.
    pub fn add_baseline(
        &self,
        time: &str,
        snapshot: &Snapshot,
        audit: BaselineAudit,
    ) -> Result<String> {
        let name = format!("{}.json", time_stem(time));
        self.write_stored(&self.baselines_dir().join(&name), snapshot)?;
        append_jsonl(
            &self.baselines_dir().join("audit.jsonl"),
            &BaselineRecord {
                time: time.to_string(),
                file: name.clone(),
                by: audit.by,
                reason: audit.reason,
                fingerprint: snapshot.fingerprint.clone(),
                applied_version: audit.applied_version,
                replaced: audit.replaced,
                accepted: audit.accepted,
                migration: audit.migration,
                history_recorded: audit.history_recorded,
            },
        )?;
        Ok(name)
    }

    /// The audit record of the newest accepted state (None without one).
    pub fn latest_baseline_record(&self) -> Result<Option<BaselineRecord>> {
        let Some(newest) = snapshot_files(&self.baselines_dir())?.pop() else {
            return Ok(None);
        };
        let path = self.baselines_dir().join("audit.jsonl");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        Ok(text
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<BaselineRecord>(l).ok())
            .find(|r| r.file == newest))
    }
}

/// `*.json` files of `dir` (hidden ones aside), sorted by name (live and
/// baseline names are times); none when `dir` does not exist.
pub(super) fn snapshot_files(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

fn newest_snapshot(dir: &Path) -> Result<Option<(String, Snapshot)>> {
    match snapshot_files(dir)?.pop() {
        Some(name) => {
            let snapshot = super::read_snapshot_file(&dir.join(&name))?;
            Ok(Some((name, snapshot)))
        }
        None => Ok(None),
    }
}

fn append_jsonl<T: Serialize>(path: &Path, record: &T) -> Result<()> {
    let mut line = serde_json::to_string(record).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: e.to_string(),
        hint: "report this".into(),
    })?;
    line.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    // A torn line left by a crash would glue onto this one: start afresh.
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > 0 && !ends_with_newline(path) {
        line.insert(0, '\n');
    }
    file.write_all(line.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(path, e))
}

fn ends_with_newline(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return true;
    };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] == b'\n'
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path, hint: &str) -> Result<Vec<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => out.push(r),
            // a torn line: the last one, or one a later append started afresh after
            Err(e) if e.is_eof() => continue,
            Err(e) => {
                return Err(Error::Input {
                    path: format!("{}:{}", path.display(), i + 1),
                    message: format!("is not a driftwatch record ({e})"),
                    hint: hint.to_string(),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time: &str, result: ScanResult) -> ScanRecord {
        ScanRecord {
            time: time.into(),
            target: "t".into(),
            result,
            fingerprint: None,
            counts: Counts::default(),
            findings: vec!["index-removed index:a.b".into()],
            live: None,
            expected: None,
            error: None,
            probe: None,
        }
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_append_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::new(dir.path(), "t").unwrap();
        store
            .append_scan(&record("2026-01-01T00:00:00Z", ScanResult::Clean))
            .unwrap();
        let path = store.scans_path();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"time":"2026-01-01T00:01:00Z","tar"#)
            .unwrap();
        assert_eq!(store.read_scans().unwrap().len(), 1);
        store
            .append_scan(&record("2026-01-01T00:02:00Z", ScanResult::Drift))
            .unwrap();
        let scans = store.read_scans().unwrap();
        assert_eq!(scans.len(), 2);
        assert_eq!(scans[1].result, ScanResult::Drift);
        std::fs::write(&path, "garbage\n{}\n").unwrap();
        let e = store.read_scans().unwrap_err().to_string();
        assert!(e.contains("scans.jsonl:1"), "{e}");
    }

    #[test]
    fn time_stems_sort_like_times() {
        assert_eq!(time_stem("2026-12-02T04:15:00Z"), "20261202T041500Z");
    }
}
