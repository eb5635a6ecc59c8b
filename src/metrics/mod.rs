//! What `driftwatch watch` tells Prometheus: a registry the daemon updates as
//! scans, probes and ticks happen, rendered on demand in the text exposition
//! format 0.0.4, and served with `/healthz` by [`http::serve`].
//!
//! Everything sits behind one mutex: updates are a few additions per scan
//! and a render is a walk over a handful of targets, so contention is not
//! worth more machinery.

pub mod http;

use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Upper bounds (seconds) of `driftwatch_scan_duration_seconds`' buckets;
/// `+Inf` follows. From a quick catalog probe to a slow capture of a large
/// schema over a distant link.
pub const DURATION_BUCKETS: [f64; 11] =
    [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOutcome {
    /// The database matched its baseline.
    Clean,
    /// The scan completed and found drift.
    Drift,
    /// The scan could not complete (connection, capture, store error).
    Failed,
}

/// Findings of a completed scan, by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingCounts {
    /// Critical findings.
    pub critical: u64,
    /// Warnings.
    pub warning: u64,
    /// Informational findings.
    pub info: u64,
}

/// One target's series.
#[derive(Debug, Clone, Default)]
struct TargetSeries {
    scans: u64,
    failed: u64,
    /// Drift and findings of the last scan that completed: a failed scan
    /// says nothing about the schema, and clearing them on a flaky
    /// connection would make drift alerts flap.
    last_completed: Option<(bool, FindingCounts)>,
    last_scan: Option<i64>,
    last_success: Option<i64>,
    /// Per bucket of [`DURATION_BUCKETS`], not cumulative; the render adds
    /// them up.
    buckets: [u64; DURATION_BUCKETS.len()],
    /// Kept as a Duration so that the sum is exact to the nanosecond rather
    /// than drifting with each floating-point addition.
    duration_sum: Duration,
    probes_changed: u64,
    probes_unchanged: u64,
    captures_full: u64,
    captures_incremental: u64,
    captures_reused: u64,
    incremental_mismatches: u64,
    ticks_skipped: u64,
    outbox_depth: u64,
    outbox_set_aside: u64,
    /// When the next scan starts (Unix seconds); None when the schedule
    /// has no next run.
    next_scan: Option<i64>,
}

#[derive(Debug, Default)]
struct State {
    targets: BTreeMap<String, TargetSeries>,
    in_flight: u64,
}

/// The daemon's metrics registry. Updates for a target that is not (or no
/// longer) known through [`Metrics::set_targets`] are ignored, so that a scan
/// finishing after a reload removed its target does not bring it back.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

impl Metrics {
    /// An empty registry: no targets, nothing in flight.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Sets the known targets. New ones start with every counter at 0;
    /// targets not in `names` are forgotten with all their series, so that
    /// a removed target stops being exported rather than looking stale.
    pub fn set_targets(&self, names: &[String]) {
        let mut state = self.lock();
        state
            .targets
            .retain(|name, _| names.iter().any(|n| n == name));
        for name in names {
            state.targets.entry(name.clone()).or_default();
        }
    }

    /// Records a finished scan: its outcome, how long it took, its findings
    /// (ignored when it failed) and when it finished (Unix seconds).
    pub fn scan_finished(
        &self,
        target: &str,
        outcome: ScanOutcome,
        duration: Duration,
        findings: FindingCounts,
        at_unix: i64,
    ) {
        self.with_target(target, |t| {
            t.scans += 1;
            t.last_scan = Some(at_unix);
            match outcome {
                ScanOutcome::Failed => t.failed += 1,
                ScanOutcome::Clean | ScanOutcome::Drift => {
                    t.last_success = Some(at_unix);
                    t.last_completed = Some((outcome == ScanOutcome::Drift, findings));
                }
            }
            let secs = duration.as_secs_f64();
            // Past the last bound the scan only counts in +Inf, which the
            // render derives from the scan count.
            if let Some(i) = DURATION_BUCKETS.iter().position(|&le| secs <= le) {
                t.buckets[i] += 1;
            }
            t.duration_sum += duration;
        });
    }

    /// Records a catalog probe: `changed` when the catalog moved (a full
    /// capture follows), unchanged when the capture was skipped.
    pub fn probe(&self, target: &str, changed: bool) {
        self.with_target(target, |t| {
            if changed {
                t.probes_changed += 1;
            } else {
                t.probes_unchanged += 1;
            }
        });
    }

    /// Records how a scan read the live schema.
    pub fn live_capture(&self, target: &str, kind: &crate::catalog::CaptureKind) {
        use crate::catalog::CaptureKind;
        self.with_target(target, |t| match kind {
            CaptureKind::Full { .. } => t.captures_full += 1,
            CaptureKind::Incremental { .. } => t.captures_incremental += 1,
            CaptureKind::Reused => t.captures_reused += 1,
        });
    }

    /// Records a scheduled full capture that disagreed with the incremental
    /// state on the same catalog state (the full capture won).
    pub fn incremental_mismatch(&self, target: &str) {
        self.with_target(target, |t| t.incremental_mismatches += 1);
    }

    /// Records a tick skipped because the target's previous scan was still
    /// running.
    pub fn tick_skipped(&self, target: &str) {
        self.with_target(target, |t| t.ticks_skipped += 1);
    }

    /// Sets how many alert messages wait in the target's outbox.
    pub fn set_outbox_depth(&self, target: &str, depth: u64) {
        self.with_target(target, |t| t.outbox_depth = depth);
    }

    /// Sets how many files of the target's outbox were set aside as not
    /// readable entries (kept in `outbox/rejected/`).
    pub fn set_outbox_set_aside(&self, target: &str, n: u64) {
        self.with_target(target, |t| t.outbox_set_aside = n);
    }

    /// Sets when the target's next scan starts (Unix seconds; None when
    /// its schedule has no next run): a reload's new schedule or time zone
    /// shows here at once, not when the next tick comes.
    pub fn set_next_scan(&self, target: &str, at_unix: Option<i64>) {
        self.with_target(target, |t| t.next_scan = at_unix);
    }

    /// Counts a scan that holds one of the `max_concurrent_scans` permits
    /// (a job still waiting for one is not running).
    pub fn scan_began(&self) {
        self.lock().in_flight += 1;
    }

    /// Counts off a scan counted by [`Metrics::scan_began`] (finished,
    /// failed or cancelled).
    pub fn scan_ended(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
    }

    /// The exposition text (format 0.0.4), targets in name order.
    pub fn render(&self) -> String {
        // Format from a copy so that scans finishing meanwhile do not wait
        // on a scrape.
        let (targets, in_flight) = {
            let state = self.lock();
            (state.targets.clone(), state.in_flight)
        };
        let mut o = Exposition {
            out: String::with_capacity(2048 + targets.len() * 2048),
            targets: &targets,
        };

        o.family(
            "driftwatch_build_info",
            "gauge",
            "The running driftwatch's version (always 1).",
        );
        o.sample(
            "driftwatch_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );
        o.family("driftwatch_targets", "gauge", "Targets configured.");
        o.sample("driftwatch_targets", &[], targets.len());
        o.family(
            "driftwatch_scans_in_flight",
            "gauge",
            "Scans running now (at most max_concurrent_scans; ticks waiting for their turn are not counted).",
        );
        o.sample("driftwatch_scans_in_flight", &[], in_flight);

        o.per_target(
            "driftwatch_scans_total",
            "counter",
            "Scans finished, whatever their outcome.",
            |t| Some(t.scans),
        );
        o.per_target(
            "driftwatch_scans_failed_total",
            "counter",
            "Scans that could not complete.",
            |t| Some(t.failed),
        );
        o.per_target(
            "driftwatch_scan_drift",
            "gauge",
            "1 when the last completed scan found drift, else 0 (absent before the first).",
            |t| t.last_completed.map(|(drift, _)| u8::from(drift)),
        );

        o.family(
            "driftwatch_findings",
            "gauge",
            "Findings of the last completed scan, by severity (absent before the first).",
        );
        for (target, t) in &targets {
            if let Some((_, f)) = t.last_completed {
                for (severity, n) in [
                    ("critical", f.critical),
                    ("warning", f.warning),
                    ("info", f.info),
                ] {
                    o.sample(
                        "driftwatch_findings",
                        &[("target", target), ("severity", severity)],
                        n,
                    );
                }
            }
        }

        o.per_target(
            "driftwatch_last_scan_timestamp_seconds",
            "gauge",
            "When the last scan finished, failed or not (Unix time).",
            |t| t.last_scan,
        );
        o.per_target(
            "driftwatch_last_success_timestamp_seconds",
            "gauge",
            "When the last completed scan finished (Unix time).",
            |t| t.last_success,
        );

        o.family(
            "driftwatch_scan_duration_seconds",
            "histogram",
            "How long scans took, failed ones included.",
        );
        for (target, t) in &targets {
            let mut cumulative = 0;
            for (le, n) in DURATION_BUCKETS.iter().zip(t.buckets) {
                cumulative += n;
                o.sample(
                    "driftwatch_scan_duration_seconds_bucket",
                    &[("target", target), ("le", &le.to_string())],
                    cumulative,
                );
            }
            o.sample(
                "driftwatch_scan_duration_seconds_bucket",
                &[("target", target), ("le", "+Inf")],
                t.scans,
            );
            o.sample(
                "driftwatch_scan_duration_seconds_sum",
                &[("target", target)],
                t.duration_sum.as_secs_f64(),
            );
            o.sample(
                "driftwatch_scan_duration_seconds_count",
                &[("target", target)],
                t.scans,
            );
        }

        o.family(
            "driftwatch_catalog_probes_total",
            "counter",
            "Catalog probes, by whether the catalog had changed (unchanged: the full capture was skipped).",
        );
        for (target, t) in &targets {
            for (result, n) in [
                ("changed", t.probes_changed),
                ("unchanged", t.probes_unchanged),
            ] {
                o.sample(
                    "driftwatch_catalog_probes_total",
                    &[("target", target), ("result", result)],
                    n,
                );
            }
        }

        o.family(
            "driftwatch_live_captures_total",
            "counter",
            "Live schema reads, by kind: full, incremental (what changed since the last capture), reused (the probe saw no change).",
        );
        for (target, t) in &targets {
            for (kind, n) in [
                ("full", t.captures_full),
                ("incremental", t.captures_incremental),
                ("reused", t.captures_reused),
            ] {
                o.sample(
                    "driftwatch_live_captures_total",
                    &[("target", target), ("kind", kind)],
                    n,
                );
            }
        }
        o.per_target(
            "driftwatch_incremental_mismatches_total",
            "counter",
            "Scheduled full captures that disagreed with the incremental state on the same catalog state (the full capture won; each is logged as an error with the objects involved).",
            |t| Some(t.incremental_mismatches),
        );
        o.per_target(
            "driftwatch_next_scan_timestamp_seconds",
            "gauge",
            "When the target's next scheduled scan starts (Unix time; absent when its schedule has no next run).",
            |t| t.next_scan,
        );
        o.per_target(
            "driftwatch_ticks_skipped_total",
            "counter",
            "Ticks skipped because the previous scan was still running.",
            |t| Some(t.ticks_skipped),
        );
        o.per_target(
            "driftwatch_outbox_depth",
            "gauge",
            "Alert messages waiting in the outbox.",
            |t| Some(t.outbox_depth),
        );
        o.per_target(
            "driftwatch_outbox_set_aside",
            "gauge",
            "Outbox files that were not readable entries, set aside in outbox/rejected/.",
            |t| Some(t.outbox_set_aside),
        );
        o.out
    }

    fn with_target(&self, target: &str, update: impl FnOnce(&mut TargetSeries)) {
        if let Some(t) = self.lock().targets.get_mut(target) {
            update(t);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent (plain field writes), so
        // a panic elsewhere while holding the lock is no reason to stop
        // exporting.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The text being rendered.
struct Exposition<'a> {
    out: String,
    targets: &'a BTreeMap<String, TargetSeries>,
}

impl Exposition<'_> {
    /// The HELP and TYPE lines that open a family. Help texts are ours and
    /// hold neither backslashes nor newlines, so they need no escaping.
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                escape_label_value(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family with one `{target}` sample per target that has a value.
    fn per_target<V: Display>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        value: impl Fn(&TargetSeries) -> Option<V>,
    ) {
        self.family(name, kind, help);
        let targets = self.targets;
        for (target, t) in targets {
            if let Some(v) = value(t) {
                self.sample(name, &[("target", target)], v);
            }
        }
    }
}

/// Appends a label value escaped as the format requires: backslash, double
/// quote and line feed.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
