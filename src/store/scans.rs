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
use crate::report::{Counts, ScanResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// In a record carried over when `scans.jsonl` was rotated: when each
    /// of its findings was first seen, for those seen before this scan in
    /// the scans rotated away.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub since: BTreeMap<String, String>,
    /// In a record carried over: when the drift run it belongs to began,
    /// when that was before this scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_since: Option<String>,
    /// The newest applied version the target's history table held at the
    /// scan (what `preflight --snapshot store:NAME@live` starts from
    /// without a connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
}

/// When `scans.jsonl` is rotated: once it reaches `max_bytes`, it becomes
/// `scans.jsonl.1` (the older ones shift to `.2` …, the oldest beyond
/// `keep` removed), and the new file starts with the few records that
/// carry "since when" over ([`carried`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRotation {
    /// Size that triggers a rotation (default 10 MiB, about 30,000 scans).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Rotated files kept (default 5; 0 keeps none).
    #[serde(default = "default_keep")]
    pub keep: usize,
}

fn default_max_bytes() -> u64 {
    10 * 1024 * 1024
}

fn default_keep() -> usize {
    5
}

impl Default for ScanRotation {
    fn default() -> Self {
        ScanRotation {
            max_bytes: default_max_bytes(),
            keep: default_keep(),
        }
    }
}

/// When finding `id` was first seen: the first of the unbroken run of
/// `compared` scans (oldest first, comparing scans only) that ends with
/// the newest and has it (or the time a carried record gives). None when
/// the newest does not have it.
pub fn first_seen(compared: &[&ScanRecord], id: &str) -> Option<String> {
    let mut since = None;
    for s in compared.iter().rev() {
        if !s.findings.iter().any(|f| f == id) {
            break;
        }
        since = Some(s.since.get(id).unwrap_or(&s.time).clone());
    }
    since
}

/// The records a rotated `scans.jsonl` starts with, so that "since when"
/// reads the same after the rotation: the newest comparing scan (with
/// `since` and `drift_since` carried), the newest that captured a live
/// schema (a rescan's probe reuses it), the first of a trailing run of
/// failed scans, and the newest scan; oldest first.
pub fn carried(scans: &[ScanRecord]) -> Vec<ScanRecord> {
    let compared: Vec<&ScanRecord> = scans.iter().filter(|s| s.result.compared()).collect();
    let mut keep: Vec<usize> = Vec::new();
    let mut last_compared = None;
    if let Some(i) = scans.iter().rposition(|s| s.result.compared()) {
        keep.push(i);
        last_compared = Some(i);
    }
    if let Some(i) = scans.iter().rposition(|s| s.live.is_some()) {
        keep.push(i);
    }
    let failing = scans
        .iter()
        .rev()
        .take_while(|s| s.result == ScanResult::Failed)
        .count();
    if failing > 0 {
        keep.push(scans.len() - failing);
    }
    if !scans.is_empty() {
        keep.push(scans.len() - 1);
    }
    keep.sort_unstable();
    keep.dedup();
    keep.into_iter()
        .map(|i| {
            let mut r = scans[i].clone();
            if Some(i) == last_compared {
                for id in &r.findings {
                    if let Some(t) = first_seen(&compared, id).filter(|t| *t != r.time) {
                        r.since.insert(id.clone(), t);
                    }
                }
                if r.result == ScanResult::Drift {
                    let run = compared
                        .iter()
                        .rev()
                        .take_while(|s| s.result == ScanResult::Drift)
                        .last()
                        .map(|s| s.drift_since.clone().unwrap_or_else(|| s.time.clone()));
                    r.drift_since = run.filter(|t| *t != r.time);
                }
            }
            r
        })
        .collect()
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

/// The targets of the file store at `root` that have a scan log, by
/// folder name (unsorted).
pub fn scanned_targets(root: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(root).map_err(|e| Error::Input {
        path: root.display().to_string(),
        message: format!("cannot read the store ({e})"),
        hint: "give the store with --store PATH or a config with --config FILE".into(),
    })?;
    Ok(entries
        .flatten()
        .filter(|e| e.path().join("scans.jsonl").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect())
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

    /// Appends one scan record (the caller holds the store lock), after
    /// rotating `scans.jsonl` when it reached `rotation.max_bytes`.
    pub fn append_scan(&self, record: &ScanRecord, rotation: ScanRotation) -> Result<()> {
        let path = self.scans_path();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size >= rotation.max_bytes.max(1) {
            self.rotate_scans(rotation.keep)?;
        }
        append_jsonl(&path, record)
    }

    /// `scans.jsonl` → `scans.jsonl.1` (older ones shifted, the oldest
    /// beyond `keep` removed), and a new `scans.jsonl` of the [`carried`]
    /// records. A crash midway leaves `scans.jsonl` whole: it is linked to
    /// `.1` first, then replaced atomically.
    fn rotate_scans(&self, keep: usize) -> Result<()> {
        let path = self.scans_path();
        let carry = carried(&self.read_scans()?);
        let rotated = |n: usize| self.dir().join(format!("scans.jsonl.{n}"));
        let _ = std::fs::remove_file(rotated(keep.max(1)));
        for n in (1..keep.max(1)).rev() {
            if rotated(n).exists() {
                std::fs::rename(rotated(n), rotated(n + 1))
                    .map_err(|e| Error::io(rotated(n), e))?;
            }
        }
        if keep > 0 {
            std::fs::hard_link(&path, rotated(1)).map_err(|e| Error::io(rotated(1), e))?;
        }
        let mut text = String::new();
        for r in &carry {
            text.push_str(&serde_json::to_string(r).unwrap_or_default());
            text.push('\n');
        }
        crate::util::write_atomic(&path, text.as_bytes())
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

    /// `<store>/<target>/live-state.json`: the positions of the newest live
    /// capture (beside `live/`, not in it: only snapshots are there).
    pub fn live_state_path(&self) -> PathBuf {
        self.dir().join("live-state.json")
    }

    /// The positions recorded with the newest live snapshot; None when
    /// there are none, or they are unreadable or of another format (the
    /// next capture is then a full one, which writes them again).
    pub fn read_live_state(&self) -> Option<crate::catalog::LiveState> {
        let text = std::fs::read(self.live_state_path()).ok()?;
        let state: crate::catalog::LiveState = serde_json::from_slice(&text).ok()?;
        (state.format == crate::catalog::live_state::STATE_FORMAT).then_some(state)
    }

    /// Records the positions of the live snapshot just kept (the caller
    /// holds the store lock), atomically.
    pub fn write_live_state(&self, state: &crate::catalog::LiveState) -> Result<()> {
        let text = serde_json::to_vec(state).map_err(|e| Error::Input {
            path: self.live_state_path().display().to_string(),
            message: e.to_string(),
            hint: "report this".into(),
        })?;
        crate::util::write_atomic(&self.live_state_path(), &text)
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
            since: BTreeMap::new(),
            drift_since: None,
            applied: None,
        }
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_append_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::new(dir.path(), "t").unwrap();
        store
            .append_scan(
                &record("2026-01-01T00:00:00Z", ScanResult::Clean),
                ScanRotation::default(),
            )
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
            .append_scan(
                &record("2026-01-01T00:02:00Z", ScanResult::Drift),
                ScanRotation::default(),
            )
            .unwrap();
        let scans = store.read_scans().unwrap();
        assert_eq!(scans.len(), 2);
        assert_eq!(scans[1].result, ScanResult::Drift);
        std::fs::write(&path, "garbage\n{}\n").unwrap();
        let e = store.read_scans().unwrap_err().to_string();
        assert!(e.contains("scans.jsonl:1"), "{e}");
    }

    /// Each scan appended to a store that never rotates and to one that
    /// rotates at every append: "since when" reads the same in both.
    #[test]
    fn a_rotation_carries_since_when_over() {
        use ScanResult::*;
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let whole = TargetStore::new(dirs.0.path(), "t").unwrap();
        let rotated = TargetStore::new(dirs.1.path(), "t").unwrap();
        let every = ScanRotation {
            max_bytes: 1,
            keep: 2,
        };
        let steps: [(ScanResult, &[&str], bool); 11] = [
            (Clean, &[], true),
            (Drift, &["a"], true),
            (Drift, &["a", "b"], false),
            (Failed, &[], false),
            (MigrationInProgress, &[], false),
            (Drift, &["a", "b"], true),
            (Notice, &["b"], false),
            (Drift, &["a", "b"], true),
            (Failed, &[], false),
            (Failed, &[], false),
            (Drift, &["a", "b", "c"], false),
        ];
        for (i, (result, ids, live)) in steps.iter().enumerate() {
            let mut r = record(&format!("2026-01-01T00:{i:02}:00Z"), *result);
            r.findings = ids.iter().map(|s| s.to_string()).collect();
            r.live = live.then(|| format!("live{i}"));
            whole.append_scan(&r, ScanRotation::default()).unwrap();
            rotated.append_scan(&r, every).unwrap();
            let (a, b) = (whole.read_scans().unwrap(), rotated.read_scans().unwrap());
            assert!(b.len() <= 4, "step {i}: {} records carried", b.len());
            let (sa, sb) = (
                crate::check::standing("t", &a),
                crate::check::standing("t", &b),
            );
            assert_eq!(sa.drift_since, sb.drift_since, "step {i}");
            assert_eq!(sa.failing_since, sb.failing_since, "step {i}");
            assert_eq!(sa.last.unwrap().time, sb.last.unwrap().time, "step {i}");
            let last_live = |s: &[ScanRecord]| s.iter().rev().find_map(|s| s.live.clone());
            assert_eq!(last_live(&a), last_live(&b), "step {i}");
            let compared = |s: &[ScanRecord]| -> Vec<ScanRecord> {
                s.iter().filter(|s| s.result.compared()).cloned().collect()
            };
            let (ca, cb) = (compared(&a), compared(&b));
            for id in ["a", "b", "c"] {
                assert_eq!(
                    first_seen(&ca.iter().collect::<Vec<_>>(), id),
                    first_seen(&cb.iter().collect::<Vec<_>>(), id),
                    "step {i}: {id}"
                );
            }
        }
        // Rotated files: the newest `keep`, the oldest removed.
        let dir = rotated.dir();
        assert!(dir.join("scans.jsonl.1").is_file());
        assert!(dir.join("scans.jsonl.2").is_file());
        assert!(!dir.join("scans.jsonl.3").exists());
        // a: the notice at 00:06 lacked it; b: every comparing scan since
        // 00:02 had it (failed scans and a migration in progress do not
        // break a run); c: new.
        let b = rotated.read_scans().unwrap();
        let c: Vec<&ScanRecord> = b.iter().filter(|s| s.result.compared()).collect();
        assert_eq!(first_seen(&c, "a").as_deref(), Some("2026-01-01T00:07:00Z"));
        assert_eq!(first_seen(&c, "b").as_deref(), Some("2026-01-01T00:02:00Z"));
        assert_eq!(first_seen(&c, "c").as_deref(), Some("2026-01-01T00:10:00Z"));
    }

    #[test]
    fn time_stems_sort_like_times() {
        assert_eq!(time_stem("2026-12-02T04:15:00Z"), "20261202T041500Z");
    }
}
