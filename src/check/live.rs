//! The live schema of a scan: a capture that reads only what changed since
//! the stored live snapshot (incremental, the default with a store), a full
//! capture when one is due, or, for the `watch` daemon's rescans, the last
//! live snapshot again when the catalog probe says nothing changed since it
//! was captured.
//!
//! # Incremental captures and the full ones that check them
//!
//! Each capture records its positions beside the live snapshot it keeps
//! (`live-state.json`, see [`crate::catalog::live_state`]); the next scan
//! starts from them. A full capture runs instead when the state is missing
//! or stale, when asked (`--full-capture`), at the daemon's first scan of a
//! target, and once `full_capture_every` has passed since the last full
//! one (default a day). That scheduled full capture is preceded by an
//! incremental one; when both read the same catalog state (equal sums) and
//! still differ, the incremental path missed something: it is logged as an
//! error with the objects involved and counted
//! (`driftwatch_incremental_mismatches_total`), and the full capture wins.
//!
//! # The probe
//!
//! The probe's fingerprint is recorded with each scan (`probe` in
//! `scans.jsonl`); it covers what else decides the capture's result too:
//! the capture options (schemas, history table left out) and driftwatch's
//! version (a newer driftwatch may capture more). The probe runs before the
//! capture it is recorded with, so DDL committed in between shows at the
//! next probe. The stored snapshot is reused only when the last scan's
//! probe equals this one and its live fingerprint is the newest kept live
//! snapshot's.
//!
//! What the reuse gives up: the capture's check for DDL holding a table
//! (`Error::Locked`, reported as a migration in progress). Uncommitted DDL
//! does not change the committed catalogs the probe reads, so the scan
//! reports the committed schema, which is what it compares anyway; the
//! tools' advisory locks are still checked before.

use super::ScanTarget;
use crate::catalog::{self, CaptureKind, CaptureOptions, DatabaseUrl, FullReason, LiveState};
use crate::error::Result;
use crate::model::Snapshot;
use crate::store::{ScanRecord, TargetStore};
use std::time::Duration;

/// What the probe said, to record with the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveProbe {
    /// The probe's fingerprint.
    pub key: String,
    /// True when the stored live snapshot was used instead of a capture.
    pub reused: bool,
}

/// How a scan captures the live schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePolicy {
    /// Start from the store's recorded positions and read only what
    /// changed (default true).
    pub incremental: bool,
    /// A full capture at least this often (`full_capture_every`, default
    /// 24h).
    pub full_every: Duration,
    /// Capture in full this time (`--full-capture`, the daemon's first
    /// scan of a target).
    pub full_now: Option<FullReason>,
}

impl Default for LivePolicy {
    fn default() -> Self {
        LivePolicy {
            incremental: true,
            full_every: crate::config::default_full_capture_every(),
            full_now: None,
        }
    }
}

/// How the live schema of one scan was read.
#[derive(Debug, Clone)]
pub struct LiveInfo {
    /// What the probe said (None when none ran).
    pub probe: Option<LiveProbe>,
    /// How it was read.
    pub kind: CaptureKind,
    /// The positions to record with it (None when nothing was captured).
    pub state: Option<LiveState>,
    /// The objects a full capture and the incremental state disagreed on
    /// (the full capture won).
    pub mismatch: Vec<String>,
}

/// The live schema; `scans` are the target's scan records, as the scan
/// read them.
pub async fn live_schema(
    target: &ScanTarget,
    store: &TargetStore,
    scans: &[ScanRecord],
    url: &DatabaseUrl,
    capture: &CaptureOptions,
) -> Result<(Snapshot, LiveInfo)> {
    let policy = &target.live;
    // A forced full capture needs nothing stored: not loading the previous
    // snapshot keeps it out of the capture's peak memory.
    let mut previous = if policy.incremental && policy.full_now != Some(FullReason::Forced) {
        previous_capture(store)?
    } else {
        None
    };
    let due = policy.full_now.clone().or_else(|| {
        previous
            .as_ref()
            .filter(|(_, st)| full_is_due(&st.full_at, policy.full_every))
            .map(|_| FullReason::Scheduled)
    });
    // A full capture that is due checks the stored snapshot too: the
    // probe cannot spare it.
    let probe = if target.probe {
        let probe = catalog::probe(url, capture).await?;
        let key = probe.fingerprint;
        let stored = match due {
            None => reusable(store, scans, &key, &mut previous)?,
            Some(_) => None,
        };
        if let Some(snapshot) = stored {
            let info = LiveInfo {
                probe: Some(LiveProbe { key, reused: true }),
                kind: CaptureKind::Reused,
                state: None,
                mismatch: Vec::new(),
            };
            return Ok((snapshot, info));
        }
        Some(LiveProbe { key, reused: false })
    } else {
        None
    };
    let mut mismatch = Vec::new();
    let taken = match (due, previous) {
        (Some(FullReason::Scheduled), Some(previous)) => {
            // The incremental capture first, then the full one that checks it.
            let incremental =
                catalog::capture_live_owned(url, capture, Some(previous), None).await?;
            let full = catalog::capture_live_owned(url, capture, None, Some(FullReason::Scheduled))
                .await?;
            mismatch = disagreement(&incremental, &full);
            if !mismatch.is_empty() {
                tracing::error!(
                    target = %target.name,
                    // names from the database: no terminal control in logs
                    objects = %crate::escape::terminal(&mismatch.join(", ")),
                    "the incremental capture disagreed with the full capture on the same catalog state; the full capture wins"
                );
            }
            full
        }
        (due, previous) => catalog::capture_live_owned(url, capture, previous, due).await?,
    };
    tracing::debug!(target = %target.name, capture = %taken.kind, ms = taken.stats.elapsed.as_millis() as u64, "live schema read");
    let info = LiveInfo {
        probe,
        kind: taken.kind,
        state: policy.incremental.then_some(taken.state),
        mismatch,
    };
    Ok((taken.snapshot, info))
}

/// The stored live snapshot with the positions recorded for it, when both
/// are there and belong together.
fn previous_capture(store: &TargetStore) -> Result<Option<(Snapshot, LiveState)>> {
    let Some(state) = store.read_live_state() else {
        return Ok(None);
    };
    let Some((_, snapshot)) = store.latest_live()? else {
        return Ok(None);
    };
    Ok((snapshot.fingerprint == state.snapshot).then_some((snapshot, state)))
}

/// True when the last full capture (`full_at`, RFC 3339) is `every` or
/// more ago (or unreadable).
fn full_is_due(full_at: &str, every: Duration) -> bool {
    let Ok(at) = full_at.parse::<jiff::Timestamp>() else {
        return true;
    };
    let age = jiff::Timestamp::now().duration_since(at);
    age.as_secs_f64() >= every.as_secs_f64()
}

/// The objects an incremental and a full capture disagree on, when both
/// read the same catalog state (equal sums: no DDL between them) and the
/// incremental one was incremental indeed.
fn disagreement(incremental: &catalog::LiveCapture, full: &catalog::LiveCapture) -> Vec<String> {
    let compared = matches!(incremental.kind, CaptureKind::Incremental { .. })
        && incremental.state.sums == full.state.sums;
    if !compared || incremental.snapshot.fingerprint == full.snapshot.fingerprint {
        return Vec::new();
    }
    catalog::differing_objects(&incremental.snapshot.objects, &full.snapshot.objects)
}

/// The newest live snapshot, when the last scan that captured one had
/// probe key `key` and captured that snapshot (taken out of `loaded` when
/// it was read already: not read, nor copied, twice).
fn reusable(
    store: &TargetStore,
    scans: &[ScanRecord],
    key: &str,
    loaded: &mut Option<(Snapshot, LiveState)>,
) -> Result<Option<Snapshot>> {
    let Some(last) = scans.iter().rev().find(|s| s.live.is_some()) else {
        return Ok(None);
    };
    if last.probe.as_deref() != Some(key) {
        return Ok(None);
    }
    let wanted = |s: &Snapshot| last.live.as_deref() == Some(s.fingerprint.as_str());
    if loaded.as_ref().is_some_and(|(s, _)| wanted(s)) {
        return Ok(loaded.take().map(|(s, _)| s));
    }
    Ok(store.latest_live()?.map(|(_, s)| s).filter(|s| wanted(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full capture is due once `every` has passed, or when the time
    /// recorded cannot be read.
    #[test]
    fn full_captures_fall_due() {
        let now = crate::util::now_rfc3339();
        assert!(!full_is_due(&now, Duration::from_secs(3600)));
        assert!(full_is_due(&now, Duration::ZERO));
        assert!(full_is_due(
            "2020-01-01T00:00:00Z",
            Duration::from_secs(86_400)
        ));
        assert!(full_is_due("yesterday", Duration::from_secs(86_400)));
    }
}
