//! `status`: where each target stands, from its `scans.jsonl` alone.

use crate::error::Result;
use crate::store::{ScanRecord, ScanResult, TargetStore};
use serde::Serialize;

/// One target's standing.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    /// The target.
    pub target: String,
    /// Scans recorded.
    pub scans: usize,
    /// The newest scan, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<ScanRecord>,
    /// When the current drift was first seen: the first scan of the
    /// unbroken run of drift scans up to the newest comparing scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_since: Option<String>,
    /// When scans started failing, if the newest failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
}

/// The standing of `scans` (oldest first) of `target`.
pub fn standing(target: &str, scans: &[ScanRecord]) -> TargetStatus {
    let failing_since = scans
        .iter()
        .rev()
        .take_while(|s| s.result == ScanResult::Failed)
        .last()
        .map(|s| s.time.clone());
    let drift_since = scans
        .iter()
        .rev()
        .filter(|s| s.result.compared())
        .take_while(|s| s.result == ScanResult::Drift)
        .last()
        .map(|s| s.time.clone());
    TargetStatus {
        target: target.to_string(),
        scans: scans.len(),
        last: scans.last().cloned(),
        drift_since,
        failing_since,
    }
}

/// The standing of the target kept in `store`.
pub fn status(store: &TargetStore) -> Result<TargetStatus> {
    Ok(standing(store.target(), &store.read_scans()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(time: &str, result: ScanResult) -> ScanRecord {
        ScanRecord {
            time: time.into(),
            target: "t".into(),
            result,
            fingerprint: None,
            counts: Default::default(),
            findings: Vec::new(),
            live: None,
            expected: None,
            error: None,
        }
    }

    #[test]
    fn drift_and_failing_runs_are_measured_from_their_first_scan() {
        use ScanResult::*;
        let scans = [
            scan("1", Drift),
            scan("2", Clean),
            scan("3", Drift),
            scan("4", MigrationInProgress),
            scan("5", Drift),
            scan("6", Failed),
            scan("7", Failed),
        ];
        let s = standing("t", &scans);
        assert_eq!(s.drift_since.as_deref(), Some("3"));
        assert_eq!(s.failing_since.as_deref(), Some("6"));
        let s = standing("t", &scans[..5]);
        assert_eq!(s.failing_since, None);
        assert_eq!(standing("t", &scans[..2]).drift_since, None);
    }
}
