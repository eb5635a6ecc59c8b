//! Daylight saving time: the examples from the module docs, then a
//! brute-force cross-check around transitions in several zones.

use super::*;
use jiff::tz::AmbiguousOffset;
use std::collections::BTreeSet;

#[test]
fn berlin_spring_forward_fixed_hour_runs_once_after_the_gap() {
    let berlin = "Europe/Berlin";
    let prev = "2026-03-28T12:00:00+01:00";
    assert_eq!(
        runs("30 2 * * *", berlin, prev, 2),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    );
    assert_eq!(
        runs("0 2 * * *", berlin, prev, 2),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]
    );
    // Every skipped time collapses into the one run as the gap ends, also
    // with 03:00 itself scheduled.
    assert_eq!(
        runs("*/15 2 * * *", berlin, prev, 2),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]
    );
    assert_eq!(
        runs("0,30 2,3 * * *", berlin, prev, 3),
        [
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:30:00+02:00",
            "2026-03-30T02:00:00+02:00"
        ]
    );
    // Asked from just before, at and just after the gap.
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-03-29T01:59:59.5+01:00", 1),
        ["2026-03-29T03:00:00+02:00"]
    );
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-03-29T01:59:59+01:00", 1),
        ["2026-03-29T03:00:00+02:00"]
    );
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-03-29T03:00:00+02:00", 1),
        ["2026-03-30T02:30:00+02:00"]
    );
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-03-29T03:10:00+02:00", 1),
        ["2026-03-30T02:30:00+02:00"]
    );
}

#[test]
fn berlin_spring_forward_hourly_runs_on_real_time() {
    let berlin = "Europe/Berlin";
    assert_eq!(
        runs("0 * * * *", berlin, SPRING, 3),
        [
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T04:00:00+02:00"
        ]
    );
    assert_eq!(
        runs("30 * * * *", berlin, SPRING, 2),
        ["2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00"]
    );
    assert_eq!(
        runs("*/30 * * * *", berlin, SPRING, 4),
        [
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:30:00+02:00",
        ]
    );
}

#[test]
fn berlin_fall_back_fixed_hour_runs_at_the_first_occurrence_only() {
    let berlin = "Europe/Berlin";
    let prev = "2026-10-24T12:00:00+02:00";
    assert_eq!(
        runs("30 2 * * *", berlin, prev, 2),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    );
    assert_eq!(
        runs("0 2 * * *", berlin, prev, 2),
        ["2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"]
    );
    assert_eq!(
        runs("*/20 2 * * *", berlin, prev, 4),
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:20:00+02:00",
            "2026-10-25T02:40:00+02:00",
            "2026-10-26T02:00:00+01:00",
        ]
    );
    // Asked during the repeated hour: today's 02:30 already ran.
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-10-25T02:10:00+01:00", 1),
        ["2026-10-26T02:30:00+01:00"]
    );
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-10-25T02:00:00+01:00", 1),
        ["2026-10-26T02:30:00+01:00"]
    );
    assert_eq!(
        runs("30 2 * * *", berlin, "2026-10-25T02:40:00+02:00", 1),
        ["2026-10-26T02:30:00+01:00"]
    );
    // The hour after the overlap is not affected.
    assert_eq!(
        runs("15 3 * * *", berlin, "2026-10-25T02:10:00+01:00", 1),
        ["2026-10-25T03:15:00+01:00"]
    );
}

#[test]
fn berlin_fall_back_hourly_runs_both_real_hours() {
    let berlin = "Europe/Berlin";
    assert_eq!(
        runs("0 * * * *", berlin, FALL, 4),
        [
            "2026-10-25T01:00:00+02:00",
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ]
    );
    assert_eq!(
        runs("30 * * * *", berlin, FALL, 4),
        [
            "2026-10-25T01:30:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T03:30:00+01:00",
        ]
    );
    assert_eq!(
        runs("*/30 * * * *", berlin, "2026-10-25T01:45:00+02:00", 5),
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ]
    );
    // Asked from within the second pass of the hour.
    assert_eq!(
        runs("30 * * * *", berlin, "2026-10-25T02:10:00+01:00", 1),
        ["2026-10-25T02:30:00+01:00"]
    );
}

#[test]
fn new_york_transitions() {
    let ny = "America/New_York";
    // 2026-03-08: 02:00-05 -> 03:00-04.
    assert_eq!(
        runs("30 2 * * *", ny, "2026-03-07T12:00:00-05:00", 2),
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
    );
    // 2026-11-01: 02:00-04 -> 01:00-05.
    assert_eq!(
        runs("30 1 * * *", ny, "2026-10-31T12:00:00-04:00", 2),
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    );
    assert_eq!(
        runs("0 * * * *", ny, "2026-11-01T00:30:00-04:00", 3),
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T02:00:00-05:00"
        ]
    );
}

/// Whether `dt` matches the parsed fields, decided directly from the bits.
fn matches(f: &cron::CronFields, dt: DateTime) -> bool {
    let bit = |mask: u64, v: i8| mask & (1 << v) != 0;
    let dom = bit(f.days_of_month, dt.day());
    let dow = bit(f.days_of_week, dt.weekday().to_sunday_zero_offset());
    let day = if f.dom_star || f.dow_star {
        dom && dow
    } else {
        dom || dow
    };
    day && bit(f.months, dt.month())
        && bit(f.hours, dt.hour())
        && bit(f.minutes, dt.minute())
        && bit(f.seconds, dt.second())
}

/// The runs in `(from, to]` found by brute force, minute by minute, straight
/// from the rule in the module docs (5-field expressions only).
fn brute_force(s: &Schedule, zone: &TimeZone, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let minute = jiff::SignedDuration::from_secs(60);
    let mut found = BTreeSet::new();
    if s.is_wall_clock() {
        let end = zone.to_datetime(to);
        let mut dt = zone.to_datetime(from);
        while dt <= end {
            if matches(&s.fields, dt) {
                let run = match zone.to_ambiguous_timestamp(dt).offset() {
                    AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt),
                    AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt),
                    AmbiguousOffset::Gap { before, .. } => {
                        // Read with the old offset, dt lands in the hour(s)
                        // right after the transition that opened the gap.
                        let t = before.to_timestamp(dt).expect("in range");
                        let probe = t.checked_add(minute).expect("in range");
                        Ok(zone
                            .preceding(probe)
                            .next()
                            .expect("a transition")
                            .timestamp())
                    }
                };
                found.insert(run.expect("in range"));
            }
            dt = dt.checked_add(minute).expect("in range");
        }
    } else {
        let mut t = from;
        while t <= to {
            if matches(&s.fields, zone.to_datetime(t)) {
                found.insert(t);
            }
            t = t.checked_add(minute).expect("in range");
        }
    }
    found
        .into_iter()
        .filter(|t| *t > from && *t <= to)
        .collect()
}

#[test]
fn agrees_with_brute_force_around_transitions() {
    let exprs = [
        "30 2 * * *",
        "0 2 * * *",
        "*/15 2 * * *",
        "0,30 1-3 * * *",
        "45 0 * * *",
        "0 * * * *",
        "30 * * * *",
        "*/30 * * * *",
        "15 */2 * * *",
        "* 2 * * *",
        "*/7 * * * *",
        "0 0,12 * * 0",
    ];
    let windows = [
        (
            "Europe/Berlin",
            "2026-03-27T12:00:00Z",
            "2026-03-31T12:00:00Z",
        ),
        (
            "Europe/Berlin",
            "2026-10-23T12:00:00Z",
            "2026-10-27T12:00:00Z",
        ),
        (
            "America/New_York",
            "2026-03-06T12:00:00Z",
            "2026-03-10T12:00:00Z",
        ),
        (
            "America/New_York",
            "2026-10-30T12:00:00Z",
            "2026-11-03T12:00:00Z",
        ),
        // Half-hour DST.
        (
            "Australia/Lord_Howe",
            "2026-04-03T12:00:00Z",
            "2026-04-07T12:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-02T12:00:00Z",
            "2026-10-06T12:00:00Z",
        ),
        // Samoa skipped 2011-12-30 entirely.
        (
            "Pacific/Apia",
            "2011-12-28T12:00:00Z",
            "2012-01-01T12:00:00Z",
        ),
    ];
    for (zone_name, from, to) in windows {
        let zone = tz(zone_name);
        let (from, to) = (at(from), at(to));
        for expr in exprs {
            let s = sched(expr);
            let want = brute_force(&s, &zone, from, to);
            let mut got = Vec::new();
            let mut cursor = from;
            while let Some(next) = s.next_after(cursor, &zone) {
                if next > to {
                    break;
                }
                got.push(next);
                cursor = next;
            }
            assert_eq!(got, want, "{expr} in {zone_name}");
        }
    }
}
