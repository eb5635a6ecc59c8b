//! When to alert: a pure function of the target's alert state, the scan's
//! report and the policy. Alertmanager's conventions, which alert readers
//! know: a message when the drift state changes (a new set of findings),
//! rare reminders while it persists, an explicit "resolved", and "scan
//! failing" after N failed scans in a row with a recovery message after.

use crate::config::AlertPolicy;
use crate::report::CheckReport;
use crate::report::ScanResult;
use serde::{Deserialize, Serialize};

/// What kind of message a decision sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// A new drift state: findings appeared or changed.
    Drift,
    /// The same drift, still there after `remind_after`.
    Reminder,
    /// The drift is gone: the scan is clean again.
    Resolved,
    /// N scans in a row failed.
    ScanFailing,
    /// Scans work again after a "scan failing" message.
    Recovered,
}

impl AlertKind {
    /// The kebab-case name (file names, logs, the webhook's `kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Drift => "drift",
            AlertKind::Reminder => "reminder",
            AlertKind::Resolved => "resolved",
            AlertKind::ScanFailing => "scan-failing",
            AlertKind::Recovered => "recovered",
        }
    }
}

/// A target's alert state, kept in the store (`alerts/state.json`) so a
/// restart neither re-sends nor forgets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// Fingerprint of the alerted findings last announced (None: no drift
    /// announced, or its resolution was).
    pub fingerprint: Option<String>,
    /// Their ids, to tell new findings from known ones in the next message.
    #[serde(default)]
    pub findings: Vec<String>,
    /// When the drift state was last announced or reminded (RFC 3339).
    pub announced_at: Option<String>,
    /// Failed scans in a row.
    #[serde(default)]
    pub failures: u32,
    /// True once "scan failing" went out for the current run of failures.
    #[serde(default)]
    pub failing_announced: bool,
    /// Messages made so far (numbers each message's id).
    #[serde(default)]
    pub sequence: u64,
    /// Message-ID of the target's first message: the thread every later
    /// message refers to.
    pub thread: Option<String>,
    /// Message-ID of the newest message (In-Reply-To of the next).
    pub last_message: Option<String>,
}

/// One message to make, with what it needs to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Its kind.
    pub kind: AlertKind,
    /// Ids of the alerted findings that the previous message did not have.
    pub new_findings: Vec<String>,
    /// Ids the previous message had that are gone now.
    pub gone_findings: Vec<String>,
    /// Failed scans in a row (scan-failing, recovered).
    pub failures: u32,
}

/// The findings of `report` that alert under `policy`: drift at or above
/// the minimum severity.
pub fn alerted<'a>(
    report: &'a CheckReport,
    policy: &AlertPolicy,
) -> Vec<&'a crate::report::Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.code.is_drift() && f.severity >= policy.min_severity)
        .collect()
}

/// SHA-256 over the sorted ids: the drift state.
fn fingerprint(ids: &[String]) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(ids.join("\n").as_bytes());
    Some(crate::util::hex(&digest))
}

/// The messages this scan calls for, and the state after them. `now` is
/// seconds since the epoch (the scan's time).
pub fn decide(
    state: &AlertState,
    report: &CheckReport,
    policy: &AlertPolicy,
    now: i64,
) -> (Vec<Alert>, AlertState) {
    let mut next = state.clone();
    let mut alerts = Vec::new();
    let alert = |kind, failures| Alert {
        kind,
        new_findings: Vec::new(),
        gone_findings: Vec::new(),
        failures,
    };
    if report.result == ScanResult::Failed {
        next.failures = state.failures.saturating_add(1);
        if next.failures >= policy.failing_after && !state.failing_announced {
            next.failing_announced = true;
            alerts.push(alert(AlertKind::ScanFailing, next.failures));
        }
        return (alerts, next);
    }
    if state.failing_announced {
        alerts.push(alert(AlertKind::Recovered, state.failures));
    }
    next.failures = 0;
    next.failing_announced = false;
    // A deployment in progress says nothing about drift: keep the state.
    if report.result == ScanResult::MigrationInProgress {
        return (alerts, next);
    }
    let mut ids: Vec<String> = alerted(report, policy).iter().map(|f| f.id()).collect();
    ids.sort();
    ids.dedup();
    let fp = fingerprint(&ids);
    let now_text = crate::util::rfc3339_at(now);
    if fp != state.fingerprint {
        let new_findings: Vec<String> = ids
            .iter()
            .filter(|i| !state.findings.contains(i))
            .cloned()
            .collect();
        let gone_findings: Vec<String> = state
            .findings
            .iter()
            .filter(|i| !ids.contains(i))
            .cloned()
            .collect();
        alerts.push(Alert {
            kind: if fp.is_some() {
                AlertKind::Drift
            } else {
                AlertKind::Resolved
            },
            new_findings,
            gone_findings,
            failures: 0,
        });
        next.fingerprint = fp;
        next.findings = ids;
        next.announced_at = Some(now_text);
    } else if fp.is_some() {
        let due = match (policy.remind_after, &state.announced_at) {
            (Some(after), Some(at)) => match crate::util::unix_seconds(at) {
                Some(at) => now.saturating_sub(at) >= after.as_secs() as i64,
                None => true,
            },
            _ => false,
        };
        if due {
            alerts.push(alert(AlertKind::Reminder, 0));
            next.announced_at = Some(now_text);
        }
    }
    (alerts, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Severity;
    use crate::report::{Finding, FindingCode, HistoryCode, MigrationName};

    fn finding(version: &str, severity: Severity) -> Finding {
        Finding {
            code: FindingCode::History(HistoryCode::ChecksumChanged),
            severity,
            object: None,
            migration: Some(MigrationName {
                version: Some(version.into()),
                description: String::new(),
                file: None,
            }),
            message: String::new(),
            attribution: None,
            since: String::new(),
            hint: String::new(),
            attribute: None,
            expected: serde_json::Value::Null,
            actual: serde_json::Value::Null,
            ddl: None,
        }
    }

    fn report(result: ScanResult, findings: Vec<Finding>) -> CheckReport {
        CheckReport {
            format: crate::report::CHECK_FORMAT,
            target: "shop".into(),
            url: String::new(),
            time: String::new(),
            result,
            server_version: None,
            history: None,
            applied_version: None,
            expected: None,
            live_fingerprint: None,
            live_capture: None,
            fail_on: Severity::Info,
            counts: Default::default(),
            warnings: Vec::new(),
            findings,
            error: None,
        }
    }

    fn kinds(a: &[Alert]) -> Vec<AlertKind> {
        a.iter().map(|a| a.kind).collect()
    }

    const HOUR: i64 = 3600;

    /// The whole life of one drift: announced once, reminded after
    /// remind_after and not before, re-announced when it changes, resolved.
    #[test]
    fn state_changes_alert_repeats_are_rare_and_resolution_is_explicit() {
        let policy = AlertPolicy::default(); // warning and up, remind after 24h
        let one = report(ScanResult::Drift, vec![finding("1", Severity::Warning)]);
        let two = report(
            ScanResult::Drift,
            vec![
                finding("1", Severity::Warning),
                finding("2", Severity::Critical),
            ],
        );
        let clean = report(ScanResult::Clean, vec![]);
        let s0 = AlertState::default();
        let (a, s1) = decide(&s0, &clean, &policy, 0);
        assert!(a.is_empty(), "a clean first scan says nothing");
        let (a, s1) = decide(&s1, &one, &policy, HOUR);
        assert_eq!(kinds(&a), [AlertKind::Drift]);
        assert_eq!(a[0].new_findings, ["checksum-changed migration:1"]);
        let (a, s2) = decide(&s1, &one, &policy, 2 * HOUR);
        assert!(a.is_empty(), "the same drift is not repeated");
        let (a, s2) = decide(&s2, &one, &policy, 24 * HOUR);
        assert!(a.is_empty(), "23 hours later: still too early");
        let (a, s3) = decide(&s2, &one, &policy, 25 * HOUR);
        assert_eq!(kinds(&a), [AlertKind::Reminder]);
        let (a, s3) = decide(&s3, &one, &policy, 26 * HOUR);
        assert!(a.is_empty(), "the reminder restarts the clock");
        let (a, s4) = decide(&s3, &two, &policy, 27 * HOUR);
        assert_eq!(kinds(&a), [AlertKind::Drift]);
        assert_eq!(a[0].new_findings, ["checksum-changed migration:2"]);
        let (a, s5) = decide(&s4, &clean, &policy, 28 * HOUR);
        assert_eq!(kinds(&a), [AlertKind::Resolved]);
        assert_eq!(a[0].gone_findings.len(), 2);
        let (a, _) = decide(&s5, &clean, &policy, 29 * HOUR);
        assert!(a.is_empty(), "resolved once");
    }

    #[test]
    fn findings_below_the_minimum_severity_and_pending_files_do_not_alert() {
        let policy = AlertPolicy::default();
        let mut pending = finding("9", Severity::Critical);
        pending.code = FindingCode::History(HistoryCode::Pending);
        let quiet = report(
            ScanResult::Notice,
            vec![finding("1", Severity::Info), pending],
        );
        let (a, s) = decide(&AlertState::default(), &quiet, &policy, 0);
        assert!(a.is_empty() && s.fingerprint.is_none(), "{a:?}");
        let off = AlertPolicy {
            remind_after: None,
            ..AlertPolicy::default()
        };
        let one = report(ScanResult::Drift, vec![finding("1", Severity::Critical)]);
        let (_, s) = decide(&AlertState::default(), &one, &off, 0);
        let (a, _) = decide(&s, &one, &off, 1000 * HOUR);
        assert!(a.is_empty(), "remind_after = off never reminds");
    }

    #[test]
    fn failing_scans_alert_after_n_in_a_row_and_recovery_is_announced() {
        let policy = AlertPolicy {
            failing_after: 2,
            ..AlertPolicy::default()
        };
        let failed = report(ScanResult::Failed, vec![]);
        let drift = report(ScanResult::Drift, vec![finding("1", Severity::Warning)]);
        let (_, s) = decide(&AlertState::default(), &drift, &policy, 0);
        let (a, s) = decide(&s, &failed, &policy, 1);
        assert!(a.is_empty(), "one failure is not yet failing");
        let (a, s) = decide(&s, &failed, &policy, 2);
        assert_eq!(kinds(&a), [AlertKind::ScanFailing]);
        assert_eq!(a[0].failures, 2);
        let (a, s) = decide(&s, &failed, &policy, 3);
        assert!(a.is_empty(), "announced once per run of failures");
        let (a, s) = decide(&s, &drift, &policy, 4);
        assert_eq!(
            kinds(&a),
            [AlertKind::Recovered],
            "drift unchanged: no drift message"
        );
        assert_eq!(s.failures, 0);
        let in_progress = report(ScanResult::MigrationInProgress, vec![]);
        let (a, s2) = decide(&s, &in_progress, &policy, 5);
        assert!(a.is_empty() && s2.fingerprint == s.fingerprint);
    }
}
