//! Parsing, field semantics, errors and formatting; DST cases are in `dst`.

use super::*;
use jiff::civil::Weekday;

mod dst;

fn sched(expr: &str) -> Schedule {
    Schedule::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn tz(name: &str) -> TimeZone {
    parse_timezone(name).unwrap_or_else(|e| panic!("{e}"))
}

fn at(rfc: &str) -> Timestamp {
    rfc.parse().unwrap_or_else(|e| panic!("{rfc}: {e}"))
}

/// The next `n` runs after `from`, as RFC 3339 strings.
fn runs(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
    sched(expr)
        .upcoming(at(from), &tz(zone), n)
        .iter()
        .map(rfc3339)
        .collect()
}

fn err(expr: &str) -> String {
    match Schedule::parse(expr) {
        Ok(s) => panic!("{expr:?} parsed as {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn weekdays_at_nine_for_two_weeks_from_a_saturday() {
    for (zone, offset) in [("UTC", "+00:00"), ("Europe/Berlin", "+02:00")] {
        let from = format!("2026-06-06T00:00:00{offset}"); // a Saturday
        let end = at(&format!("2026-06-20T00:00:00{offset}"));
        let got: Vec<String> = sched("0 9 * * 1-5")
            .upcoming(at(&from), &tz(zone), 20)
            .iter()
            .filter(|z| z.timestamp() < end)
            .map(rfc3339)
            .collect();
        let want: Vec<String> = [8, 9, 10, 11, 12, 15, 16, 17, 18, 19]
            .iter()
            .map(|d| format!("2026-06-{d:02}T09:00:00{offset}"))
            .collect();
        assert_eq!(got, want, "{zone}");
    }
}

#[test]
fn weekdays_at_nine_keep_local_time_across_spring_forward() {
    let got = runs(
        "0 9 * * mon-fri",
        "Europe/Berlin",
        "2026-03-27T10:00:00+01:00",
        2,
    );
    assert_eq!(
        got,
        ["2026-03-30T09:00:00+02:00", "2026-03-31T09:00:00+02:00"]
    );
}

#[test]
fn sunday_is_0_7_and_sun() {
    let from = at("2026-01-01T00:00:00Z");
    let zone = tz("Europe/Berlin");
    let reference = sched("0 0 * * 0").upcoming(from, &zone, 8);
    assert_eq!(reference.len(), 8);
    for z in &reference {
        assert_eq!(z.weekday(), Weekday::Sunday, "{z}");
        assert_eq!((z.hour(), z.minute()), (0, 0), "{z}");
    }
    for expr in ["0 0 * * 7", "0 0 * * sun", "0 0 * * SUN", "0 0 * * 0,7"] {
        assert_eq!(sched(expr).upcoming(from, &zone, 8), reference, "{expr}");
    }
}

#[test]
fn day_ranges_with_sunday_as_7() {
    let fri_to_sun = runs("0 0 * * 5-7", "UTC", "2026-06-01T00:00:00Z", 4);
    assert_eq!(
        fri_to_sun,
        [
            "2026-06-05T00:00:00+00:00",
            "2026-06-06T00:00:00+00:00",
            "2026-06-07T00:00:00+00:00",
            "2026-06-12T00:00:00+00:00",
        ]
    );
    assert_eq!(
        runs("0 0 * * fri-sun", "UTC", "2026-06-01T00:00:00Z", 4),
        fri_to_sun
    );
}

/// The days of June 2026 (UTC) on which `expr` runs.
fn june_days(expr: &str) -> Vec<i8> {
    sched(expr)
        .upcoming(at("2026-05-31T12:00:00Z"), &TimeZone::UTC, 40)
        .iter()
        .filter(|z| z.year() == 2026 && z.month() == 6)
        .map(|z| z.day())
        .collect()
}

#[test]
fn day_of_month_or_day_of_week_when_both_are_restricted() {
    // June 2026: the 1st is a Monday; Fridays are the 5th, 12th, 19th, 26th.
    assert_eq!(june_days("0 0 1,15 * 5"), [1, 5, 12, 15, 19, 26]);
    assert_eq!(june_days("0 0 1,15 * fri"), [1, 5, 12, 15, 19, 26]);
    // One field starting with `*`: both must match.
    assert_eq!(june_days("0 0 1,15 * *"), [1, 15]);
    assert_eq!(june_days("0 0 * * 5"), [5, 12, 19, 26]);
    // cron's quirk: `*/2` starts with `*`, so it is ANDed (odd Fridays).
    assert_eq!(june_days("0 0 */2 * 5"), [5, 19]);
}

#[test]
fn shorthands_equal_their_expansions() {
    let from = at("2026-02-27T13:14:15Z");
    for (short, long) in [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@Daily", "0 0 * * *"),
    ] {
        for zone in ["UTC", "Europe/Berlin"] {
            let zone = tz(zone);
            let got = sched(short).upcoming(from, &zone, 5);
            assert_eq!(got.len(), 5);
            assert_eq!(got, sched(long).upcoming(from, &zone, 5), "{short}");
        }
        assert_eq!(sched(short).expression(), short);
        assert_eq!(sched(short).is_wall_clock(), sched(long).is_wall_clock());
    }
}

#[test]
fn six_fields_put_seconds_first() {
    let got = runs("*/10 * * * * *", "UTC", "2026-01-01T00:00:03Z", 7);
    let want: Vec<String> = ["10", "20", "30", "40", "50"]
        .iter()
        .map(|s| format!("2026-01-01T00:00:{s}+00:00"))
        .chain([
            "2026-01-01T00:01:00+00:00".to_string(),
            "2026-01-01T00:01:10+00:00".to_string(),
        ])
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        runs("30 15 10 * * *", "UTC", "2026-01-01T10:15:30Z", 1),
        ["2026-01-02T10:15:30+00:00"]
    );
}

#[test]
fn next_after_is_strictly_after_even_within_a_second() {
    let s = sched("0 * * * *");
    let utc = TimeZone::UTC;
    assert_eq!(
        s.next_after(at("2026-01-01T10:00:00Z"), &utc),
        Some(at("2026-01-01T11:00:00Z"))
    );
    assert_eq!(
        s.next_after(at("2026-01-01T09:59:59.999Z"), &utc),
        Some(at("2026-01-01T10:00:00Z"))
    );
    assert_eq!(
        s.next_after(at("2026-01-01T10:00:00.001Z"), &utc),
        Some(at("2026-01-01T11:00:00Z"))
    );
    assert_eq!(
        s.next_after(at("1969-12-31T23:59:59.5Z"), &utc),
        Some(at("1970-01-01T00:00:00Z"))
    );
}

#[test]
fn leap_days_and_impossible_dates() {
    assert_eq!(
        runs("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", 2),
        ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"]
    );
    // 2100 is not a leap year: eight years between leap days.
    assert_eq!(
        runs("0 0 29 2 *", "Europe/Berlin", "2096-03-01T00:00:00Z", 1),
        ["2104-02-29T00:00:00+01:00"]
    );
    let zone = tz("Europe/Berlin");
    for never in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 *"] {
        assert_eq!(
            sched(never).next_after(at("2026-01-01T00:00:00Z"), &zone),
            None,
            "{never}"
        );
        assert!(sched(never)
            .upcoming(at("2026-01-01T00:00:00Z"), &zone, 3)
            .is_empty());
    }
    // With a day of week too, the day of week alone still runs (OR).
    assert_eq!(
        runs("0 0 30 2 1", "UTC", "2026-02-01T00:00:00Z", 1),
        ["2026-02-02T00:00:00+00:00"]
    );
}

const SPRING: &str = "2026-03-29T00:45:00+01:00"; // Berlin: 02:00+01 -> 03:00+02
const FALL: &str = "2026-10-25T00:45:00+02:00"; // Berlin: 03:00+02 -> 02:00+01

#[test]
fn error_messages_name_the_field() {
    let cases = [
        ("1 2 3 4", "found 4"),
        ("1 2 3 4 5 6 7", "found 7"),
        ("61 * * * *", "minute value 61 is out of range 0-59"),
        (
            "* * * * 8",
            "day-of-week value 8 is out of range 0-7 (0 and 7 are Sunday)",
        ),
        ("* * 0 * *", "day-of-month value 0 is out of range 1-31"),
        ("* 24 * * *", "hour value 24 is out of range 0-23"),
        ("* * * 13 *", "month value 13 is out of range 1-12"),
        ("60 * * * * *", "second value 60 is out of range 0-59"),
        (
            "99999999999 * * * *",
            "minute value 99999999999 is out of range",
        ),
        ("*/0 * * * *", "minute step 0"),
        ("*/61 * * * *", "minute step 61"),
        ("5-1 * * * *", "minute range 5-1 is reversed"),
        (
            "* * * foo *",
            "month value \"foo\" is not a number 1-12 or a month name (jan-dec)",
        ),
        ("* * * * funday", "day-of-week value \"funday\""),
        ("* * * * sat-mon", "day-of-week range 6-1 is reversed"),
        ("1,,2 * * * *", "minute field \"1,,2\" has an empty item"),
        ("* 5, * * *", "hour field \"5,\" has an empty item"),
        ("* * 5- * *", "day-of-month item \"5-\""),
        ("*/x * * * *", "minute item \"*/x\""),
        ("1/2/3 * * * *", "minute item \"1/2/3\""),
        ("* * -1 * *", "day-of-month item \"-1\""),
        (
            "@reboot",
            "@reboot has no meaning for a daemon; use @hourly, @daily",
        ),
        ("@often", "unknown shorthand @often"),
        ("", "the schedule is empty"),
        ("   ", "the schedule is empty"),
    ];
    for (expr, want) in cases {
        let message = err(expr);
        assert!(message.contains(want), "{expr:?}: {message}");
    }
    assert!(err("1 2 3 4").starts_with(
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first"
    ));
    assert!("61 * * * *".parse::<Schedule>().is_err());
}

#[test]
fn time_zones() {
    let message = parse_timezone("Mars/Olympus")
        .expect_err("no such zone")
        .to_string();
    assert!(message.contains("\"Mars/Olympus\""), "{message}");
    assert!(message.contains("Europe/Berlin"), "{message}");
    assert_eq!(parse_timezone("UTC").ok(), Some(TimeZone::UTC));
    assert_eq!(
        parse_timezone("Europe/Berlin")
            .ok()
            .and_then(|z| z.iana_name().map(String::from)),
        Some("Europe/Berlin".into())
    );
    assert!(parse_timezone("").is_err());
}

#[test]
fn upcoming_is_strictly_increasing() {
    let zone = tz("Europe/Berlin");
    for expr in ["*/30 * * * *", "0 9 * * 1-5", "@hourly", "*/10 * * * * *"] {
        let got = sched(expr).upcoming(at(FALL), &zone, 5);
        assert_eq!(got.len(), 5, "{expr}");
        assert!(got[0].timestamp() > at(FALL), "{expr}");
        assert!(
            got.windows(2).all(|w| w[0].timestamp() < w[1].timestamp()),
            "{expr}"
        );
    }
    assert!(sched("@daily").upcoming(at(FALL), &zone, 0).is_empty());
}

#[test]
fn rfc3339_shows_seconds_and_offset() {
    let z = |s: &str, zone: &str| at(s).to_zoned(tz(zone));
    assert_eq!(
        rfc3339(&z("2026-12-02T08:00:00Z", "Europe/Berlin")),
        "2026-12-02T09:00:00+01:00"
    );
    assert_eq!(
        rfc3339(&z("2026-07-01T12:00:05.75Z", "America/New_York")),
        "2026-07-01T08:00:05-04:00"
    );
    assert_eq!(
        rfc3339(&z("2026-01-01T00:00:00Z", "UTC")),
        "2026-01-01T00:00:00+00:00"
    );
    assert_eq!(
        rfc3339(&z("2026-01-01T00:00:00Z", "Asia/Kolkata")),
        "2026-01-01T05:30:00+05:30"
    );
    assert_eq!(
        rfc3339(&z("2026-01-01T00:00:00Z", "America/St_Johns")),
        "2025-12-31T20:30:00-03:30"
    );
}

#[test]
fn expression_display_and_from_str() {
    let s: Schedule = "  0 9 * * 1-5\n".parse().expect("valid");
    assert_eq!(s.expression(), "0 9 * * 1-5");
    assert_eq!(s.to_string(), "0 9 * * 1-5");
    assert_eq!(s, sched("0 9 * * 1-5"));
    assert!(s.is_wall_clock());
    assert!(!sched("0 */2 * * *").is_wall_clock());
    assert!(!sched("@hourly").is_wall_clock());
}
