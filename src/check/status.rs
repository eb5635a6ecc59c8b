//! `status`: where each target stands, from its `scans.jsonl` alone.

use crate::alert::{DeliveryOutcome, DeliveryRecord, Outbox};
use crate::database::hide_url_paths;
use crate::error::Result;
use crate::report::ScanResult;
use crate::store::{ScanRecord, TargetStore};
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
    /// Its alerts: the outbox and recent deliveries (absent when it never
    /// alerted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertStatus>,
}

/// Where a target's alerts stand.
#[derive(Debug, Clone, Serialize)]
pub struct AlertStatus {
    /// Messages waiting in the outbox.
    pub outbox: usize,
    /// Outbox files that are not readable entries (set aside in
    /// `outbox/rejected/`, or to be at the next delivery).
    pub set_aside: usize,
    /// The last failure of a waiting message, and when it is retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_error: Option<String>,
    /// When a waiting message is tried next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
    /// The newest delivery that went through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sent: Option<DeliveryRecord>,
    /// Recipients that refused the newest messages (newest first, at most 5,
    /// only those after the last successful delivery to them).
    pub rejected: Vec<DeliveryRecord>,
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
        .map(|s| s.drift_since.clone().unwrap_or_else(|| s.time.clone()));
    TargetStatus {
        target: target.to_string(),
        scans: scans.len(),
        last: scans.last().cloned(),
        drift_since,
        failing_since,
        alerts: None,
    }
}

/// The alert standing kept in `outbox` (None when nothing was ever queued).
pub fn alert_status(outbox: &Outbox) -> Result<Option<AlertStatus>> {
    let entries = outbox.entries()?;
    let deliveries = outbox.deliveries()?;
    let set_aside = outbox.set_aside_count();
    if entries.is_empty() && deliveries.is_empty() && set_aside == 0 {
        return Ok(None);
    }
    let mut rejected: Vec<DeliveryRecord> = Vec::new();
    for d in deliveries.iter().rev() {
        if d.outcome != DeliveryOutcome::Rejected
            || rejected.len() >= 5
            || rejected.iter().any(|r| r.recipient == d.recipient)
        {
            continue;
        }
        // A later delivery to the same recipient went through: healed.
        let healed = deliveries.iter().any(|l| {
            l.recipient == d.recipient && l.outcome == DeliveryOutcome::Sent && l.time > d.time
        });
        if !healed {
            let mut d = d.clone();
            d.error = d.error.as_deref().map(hide_url_paths);
            rejected.push(d);
        }
    }
    let waiting = entries.iter().find(|e| e.last_error.is_some());
    Ok(Some(AlertStatus {
        outbox: entries.len(),
        set_aside,
        // Webhook URLs hold tokens: entries written before they were
        // shortened where they arise are shortened here.
        waiting_error: waiting.and_then(|e| e.last_error.as_deref().map(hide_url_paths)),
        next_attempt: waiting.and_then(|e| e.next_attempt.clone()),
        last_sent: deliveries
            .iter()
            .rev()
            .find(|d| d.outcome == DeliveryOutcome::Sent)
            .cloned(),
        rejected,
    }))
}

/// The standing of the target kept in `store`.
pub fn status(store: &TargetStore) -> Result<TargetStatus> {
    let mut s = standing(store.target(), &store.read_scans()?);
    s.alerts = alert_status(&Outbox::of(store))?;
    Ok(s)
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
            probe: None,
            since: Default::default(),
            drift_since: None,
            applied: None,
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
