//! The live schema of a scan: a capture, or, for the `watch` daemon's
//! rescans, the last live snapshot again when the catalog probe says
//! nothing changed since it was captured.
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
use crate::catalog::{self, CaptureOptions, DatabaseUrl};
use crate::error::Result;
use crate::model::Snapshot;
use crate::store::{ScanRecord, TargetStore};

/// What the probe said, to record with the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveProbe {
    /// The probe's fingerprint.
    pub key: String,
    /// True when the stored live snapshot was used instead of a capture.
    pub reused: bool,
}

/// The live schema (and whether a probe spared its capture); `scans` are
/// the target's scan records, as the scan read them.
pub async fn live_schema(
    target: &ScanTarget,
    store: &TargetStore,
    scans: &[ScanRecord],
    url: &DatabaseUrl,
    capture: &CaptureOptions,
) -> Result<(Snapshot, Option<LiveProbe>)> {
    if !target.probe {
        let (snapshot, _) = catalog::capture(url, capture).await?;
        return Ok((snapshot, None));
    }
    let probe = catalog::probe(url, capture).await?;
    let key = probe.fingerprint;
    if let Some(snapshot) = reusable(store, scans, &key)? {
        return Ok((snapshot, Some(LiveProbe { key, reused: true })));
    }
    let (snapshot, _) = catalog::capture(url, capture).await?;
    Ok((snapshot, Some(LiveProbe { key, reused: false })))
}

/// The newest live snapshot, when the last scan that captured one had
/// probe key `key` and captured that snapshot.
fn reusable(store: &TargetStore, scans: &[ScanRecord], key: &str) -> Result<Option<Snapshot>> {
    let Some(last) = scans.iter().rev().find(|s| s.live.is_some()) else {
        return Ok(None);
    };
    if last.probe.as_deref() != Some(key) {
        return Ok(None);
    }
    Ok(store
        .latest_live()?
        .map(|(_, s)| s)
        .filter(|s| last.live.as_deref() == Some(s.fingerprint.as_str())))
}
