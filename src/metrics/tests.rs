//! The registry's rendering, read back by the format checker of
//! [`format`].

mod format;

use super::*;
use format::{check_format, value};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

const NO_FINDINGS: FindingCounts = FindingCounts {
    critical: 0,
    warning: 0,
    info: 0,
};

#[test]
fn two_targets_after_a_few_scans() {
    let m = Metrics::new();
    // Out of order on purpose: the render sorts.
    m.set_targets(&names(&["beta", "alpha"]));
    let found = FindingCounts {
        critical: 1,
        warning: 2,
        info: 3,
    };
    let durations = [
        Duration::from_millis(30),
        Duration::from_millis(700),
        Duration::from_secs(3),
    ];
    m.scan_finished("alpha", ScanOutcome::Clean, durations[0], NO_FINDINGS, 100);
    m.scan_finished("alpha", ScanOutcome::Drift, durations[1], found, 200);
    m.scan_finished("alpha", ScanOutcome::Failed, durations[2], NO_FINDINGS, 300);
    m.scan_finished(
        "beta",
        ScanOutcome::Clean,
        Duration::from_secs(200),
        NO_FINDINGS,
        250,
    );
    m.probe("alpha", true);
    m.probe("alpha", false);
    m.probe("alpha", false);
    m.tick_skipped("beta");
    m.set_outbox_depth("alpha", 4);
    m.set_outbox_set_aside("beta", 2);
    m.scan_began();
    m.scan_began();
    m.scan_began();
    m.scan_ended();

    let text = m.render();
    let s = check_format(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let a = [("target", "alpha")];
    let b = [("target", "beta")];
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(value(&s, "driftwatch_build_info", &version), Some(1.0));
    assert_eq!(value(&s, "driftwatch_targets", &[]), Some(2.0));
    assert_eq!(value(&s, "driftwatch_scans_in_flight", &[]), Some(2.0));
    assert_eq!(value(&s, "driftwatch_scans_total", &a), Some(3.0));
    assert_eq!(value(&s, "driftwatch_scans_failed_total", &a), Some(1.0));
    assert_eq!(value(&s, "driftwatch_scans_total", &b), Some(1.0));
    assert_eq!(value(&s, "driftwatch_scans_failed_total", &b), Some(0.0));
    // The failed scan leaves the drift and findings of the one before.
    assert_eq!(value(&s, "driftwatch_scan_drift", &a), Some(1.0));
    assert_eq!(value(&s, "driftwatch_scan_drift", &b), Some(0.0));
    let severity = |sev| [("target", "alpha"), ("severity", sev)];
    assert_eq!(
        value(&s, "driftwatch_findings", &severity("critical")),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "driftwatch_findings", &severity("warning")),
        Some(2.0)
    );
    assert_eq!(
        value(&s, "driftwatch_findings", &severity("info")),
        Some(3.0)
    );
    assert_eq!(
        value(&s, "driftwatch_last_scan_timestamp_seconds", &a),
        Some(300.0)
    );
    assert_eq!(
        value(&s, "driftwatch_last_success_timestamp_seconds", &a),
        Some(200.0)
    );
    assert_eq!(
        value(&s, "driftwatch_last_success_timestamp_seconds", &b),
        Some(250.0)
    );

    let bucket = |target, le| {
        value(
            &s,
            "driftwatch_scan_duration_seconds_bucket",
            &[("target", target), ("le", le)],
        )
    };
    assert_eq!(bucket("alpha", "0.05"), Some(1.0));
    assert_eq!(bucket("alpha", "0.5"), Some(1.0));
    assert_eq!(bucket("alpha", "1"), Some(2.0));
    assert_eq!(bucket("alpha", "2.5"), Some(2.0));
    assert_eq!(bucket("alpha", "5"), Some(3.0));
    assert_eq!(bucket("alpha", "+Inf"), Some(3.0));
    // Past the last bound: only in +Inf.
    assert_eq!(bucket("beta", "120"), Some(0.0));
    assert_eq!(bucket("beta", "+Inf"), Some(1.0));
    let sum = value(&s, "driftwatch_scan_duration_seconds_sum", &a).unwrap();
    assert_eq!(sum, durations.iter().sum::<Duration>().as_secs_f64());
    assert!((sum - 3.73).abs() < 1e-9, "{sum}");
    assert_eq!(
        value(&s, "driftwatch_scan_duration_seconds_sum", &b),
        Some(200.0)
    );

    let probes = |result| [("target", "alpha"), ("result", result)];
    assert_eq!(
        value(&s, "driftwatch_catalog_probes_total", &probes("changed")),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "driftwatch_catalog_probes_total", &probes("unchanged")),
        Some(2.0)
    );
    assert_eq!(value(&s, "driftwatch_ticks_skipped_total", &b), Some(1.0));
    assert_eq!(value(&s, "driftwatch_outbox_depth", &a), Some(4.0));
    assert_eq!(value(&s, "driftwatch_outbox_depth", &b), Some(0.0));
    assert_eq!(value(&s, "driftwatch_outbox_set_aside", &b), Some(2.0));
    assert_eq!(value(&s, "driftwatch_outbox_set_aside", &a), Some(0.0));

    // Within every family, alpha before beta.
    let order: Vec<(&str, &str)> = s
        .iter()
        .filter_map(|(n, l, _)| {
            Some((
                n.as_str(),
                l.iter().find(|(k, _)| k == "target")?.1.as_str(),
            ))
        })
        .collect();
    for w in order.windows(2) {
        assert!(w[0].0 != w[1].0 || w[0].1 <= w[1].1, "{w:?} out of order");
    }
    for family in [
        "driftwatch_scans_total",
        "driftwatch_scan_duration_seconds",
        "driftwatch_outbox_depth",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
    }
    assert!(text.contains("# TYPE driftwatch_scan_duration_seconds histogram\n"));
    assert!(text.contains("# TYPE driftwatch_scans_total counter\n"));
}

#[test]
fn a_target_before_its_first_scan() {
    let m = Metrics::new();
    m.set_targets(&names(&["new"]));
    let text = m.render();
    let s = check_format(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let t = [("target", "new")];
    for counter in [
        "driftwatch_scans_total",
        "driftwatch_scans_failed_total",
        "driftwatch_ticks_skipped_total",
        "driftwatch_scan_duration_seconds_count",
        "driftwatch_scan_duration_seconds_sum",
    ] {
        assert_eq!(value(&s, counter, &t), Some(0.0), "{counter}");
    }
    for result in ["changed", "unchanged"] {
        let labels = [("target", "new"), ("result", result)];
        assert_eq!(
            value(&s, "driftwatch_catalog_probes_total", &labels),
            Some(0.0)
        );
    }
    // Nothing is known yet about its schema or its last scan.
    for unknown in [
        "driftwatch_scan_drift",
        "driftwatch_findings",
        "driftwatch_last_scan_timestamp_seconds",
        "driftwatch_last_success_timestamp_seconds",
    ] {
        assert!(s.iter().all(|(n, _, _)| n != unknown), "{unknown}\n{text}");
    }
}

#[test]
fn label_values_are_escaped() {
    let m = Metrics::new();
    m.set_targets(&names(&["a\"b\\c", "x\ny"]));
    m.scan_finished(
        "a\"b\\c",
        ScanOutcome::Clean,
        Duration::from_secs(1),
        NO_FINDINGS,
        1,
    );
    let text = m.render();
    assert!(
        text.contains("driftwatch_scans_total{target=\"a\\\"b\\\\c\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("driftwatch_scans_total{target=\"x\\ny\"} 0\n"),
        "{text}"
    );
    // And they read back as they were.
    let s = check_format(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        value(&s, "driftwatch_scans_total", &[("target", "a\"b\\c")]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "driftwatch_scans_total", &[("target", "x\ny")]),
        Some(0.0)
    );
}

#[test]
fn a_removed_target_is_forgotten() {
    let m = Metrics::new();
    m.set_targets(&names(&["keep", "gone"]));
    for target in ["keep", "gone"] {
        m.scan_finished(
            target,
            ScanOutcome::Drift,
            Duration::from_secs(1),
            NO_FINDINGS,
            9,
        );
        m.set_outbox_depth(target, 3);
    }
    m.set_targets(&names(&["keep"]));
    // A scan that was running when its target was removed.
    m.scan_finished(
        "gone",
        ScanOutcome::Clean,
        Duration::from_secs(1),
        NO_FINDINGS,
        10,
    );
    m.probe("gone", true);
    let text = m.render();
    let s = check_format(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(!text.contains("gone"), "{text}");
    assert_eq!(value(&s, "driftwatch_targets", &[]), Some(1.0));
    assert_eq!(
        value(&s, "driftwatch_scans_total", &[("target", "keep")]),
        Some(1.0)
    );

    // Added back, it starts afresh.
    m.set_targets(&names(&["keep", "gone"]));
    let s = check_format(&m.render()).unwrap();
    assert_eq!(
        value(&s, "driftwatch_scans_total", &[("target", "gone")]),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "driftwatch_outbox_depth", &[("target", "gone")]),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "driftwatch_scans_total", &[("target", "keep")]),
        Some(1.0)
    );
}

#[test]
fn bucket_bounds_are_inclusive() {
    let m = Metrics::new();
    m.set_targets(&names(&["t"]));
    m.scan_finished(
        "t",
        ScanOutcome::Clean,
        Duration::from_millis(50),
        NO_FINDINGS,
        1,
    );
    m.scan_finished(
        "t",
        ScanOutcome::Clean,
        Duration::from_millis(51),
        NO_FINDINGS,
        2,
    );
    let s = check_format(&m.render()).unwrap();
    let bucket = |le| {
        value(
            &s,
            "driftwatch_scan_duration_seconds_bucket",
            &[("target", "t"), ("le", le)],
        )
    };
    assert_eq!(bucket("0.05"), Some(1.0));
    assert_eq!(bucket("0.1"), Some(2.0));
}

#[test]
fn updates_from_many_threads_all_count() {
    fn shared<T: Send + Sync>(_: &T) {}
    let m = Metrics::new();
    shared(&m);
    m.set_targets(&names(&["t"]));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| (0..500).for_each(|_| m.probe("t", false)));
        }
    });
    let s = check_format(&m.render()).unwrap();
    let labels = [("target", "t"), ("result", "unchanged")];
    assert_eq!(
        value(&s, "driftwatch_catalog_probes_total", &labels),
        Some(2000.0)
    );
}

#[test]
fn the_next_scan_time_is_exported_once_known() {
    let m = Metrics::new();
    m.set_targets(&names(&["a", "b"]));
    let series = "driftwatch_next_scan_timestamp_seconds";
    let s = check_format(&m.render()).unwrap();
    assert!(s.iter().all(|(n, _, _)| n != series), "absent before known");
    m.set_next_scan("a", Some(1_798_761_600));
    m.set_next_scan("b", None);
    let s = check_format(&m.render()).unwrap();
    assert_eq!(value(&s, series, &[("target", "a")]), Some(1_798_761_600.0));
    assert_eq!(value(&s, series, &[("target", "b")]), None);
    m.set_next_scan("a", Some(1_798_700_000));
    let s = check_format(&m.render()).unwrap();
    assert_eq!(value(&s, series, &[("target", "a")]), Some(1_798_700_000.0));
}

/// How scans read the live schema, and the scheduled full captures that
/// disagreed with the incremental state, per target.
#[test]
fn live_captures_and_incremental_mismatches() {
    use crate::catalog::{CaptureKind, FullReason};
    let m = Metrics::new();
    m.set_targets(&names(&["alpha", "beta"]));
    m.live_capture(
        "alpha",
        &CaptureKind::Full {
            reason: FullReason::First,
        },
    );
    m.live_capture("alpha", &CaptureKind::Incremental { objects: 3 });
    m.live_capture("alpha", &CaptureKind::Incremental { objects: 0 });
    m.live_capture("beta", &CaptureKind::Reused);
    m.incremental_mismatch("beta");
    let text = m.render();
    let s = check_format(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let kind = |t, k| [("target", t), ("kind", k)];
    let count = |t, k| value(&s, "driftwatch_live_captures_total", &kind(t, k));
    assert_eq!(count("alpha", "full"), Some(1.0));
    assert_eq!(count("alpha", "incremental"), Some(2.0));
    assert_eq!(count("alpha", "reused"), Some(0.0));
    assert_eq!(count("beta", "reused"), Some(1.0));
    let mismatches = |t| {
        value(
            &s,
            "driftwatch_incremental_mismatches_total",
            &[("target", t)],
        )
    };
    assert_eq!(mismatches("alpha"), Some(0.0));
    assert_eq!(mismatches("beta"), Some(1.0));
}
