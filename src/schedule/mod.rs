//! Cron schedules for `driftwatch watch`: crontab(5) expressions evaluated in
//! a time zone. Pure: no I/O, no clock (callers pass "now").
//!
//! # Syntax
//!
//! As cronie and Vixie cron read a crontab line: five fields `minute hour
//! day-of-month month day-of-week`, or six with seconds first. Each field is
//! a comma list of `*`, `v`, `a-b`, `*/n`, `a-b/n` and `a/n` (`a` to the
//! field's maximum). Months take `jan`-`dec` and days `sun`-`sat`, in any
//! case, also in ranges; day of week 0 and 7 are both Sunday (`5-7` and
//! `fri-sun` are Friday to Sunday). When neither day field starts with `*`, a
//! day runs if it matches either one (`0 0 1,15 * 5`: the 1st, the 15th and
//! every Friday); otherwise it must match both. The shorthands `@yearly`
//! (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and
//! `@hourly` stand for their five-field forms; `@reboot` is refused.
//!
//! # Daylight saving time
//!
//! Vixie cron's rule, computed exactly instead of by watching the clock jump:
//!
//! - A schedule whose hour field is fixed (does not start with `*`, e.g.
//!   `30 2 * * *`, `*/15 2 * * *`, `0 9 * * 1-5`) runs on wall-clock time and
//!   never runs zero or two times for one wall-clock time. A time skipped
//!   by a spring-forward gap runs once, at the first instant after the gap
//!   (Europe/Berlin, 2026-03-29: `30 2 * * *` and `0 2 * * *` both run at
//!   03:00:00+02:00, and only then); several skipped times collapse into
//!   that one run. A time repeated by a fall-back overlap runs once, at its
//!   first occurrence (2026-10-25: `30 2 * * *` runs at 02:30+02:00, not at
//!   02:30+01:00).
//! - A schedule whose hour field starts with `*` (`0 * * * *`, `*/30 * * * *`,
//!   `@hourly`, `0 */2 * * *`) runs on real time: at every instant whose
//!   local time matches. Times in a gap do not exist and are not run
//!   (`30 * * * *` runs at 01:30+01:00, then 03:30+02:00); times in an
//!   overlap exist twice and run twice (`0 * * * *` runs at 02:00+02:00 and
//!   again at 02:00+01:00, an hour later).
//!
//! Vixie cron also counts a `*` minute field as "wildcard"; here only the
//! hour decides, so `*/15 2 * * *` still runs once on the spring-forward day
//! instead of not at all.

mod cron;

pub use cron::Field;

use cron::CronFields;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};

/// How many years past `after` [`Schedule::next_after`] looks before giving
/// up: enough for every satisfiable expression (Feb 29 can be 8 years away,
/// across 2100) while keeping an impossible one (`0 0 30 2 *`) cheap.
pub const SEARCH_YEARS: i32 = 10;

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    expression: String,
    fields: CronFields,
}

/// Why a schedule expression or time zone name was refused. Each message
/// says what is wrong and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Nothing but whitespace.
    #[error("the schedule is empty; write a crontab expression such as \"*/15 * * * *\" or a shorthand such as @hourly")]
    Empty,
    /// Not 5 or 6 fields.
    #[error("expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found {found}")]
    FieldCount {
        /// How many whitespace-separated fields there were.
        found: usize,
    },
    /// `@reboot`.
    #[error("@reboot has no meaning for a daemon; use @hourly, @daily, @weekly, @monthly or @yearly, or a crontab expression")]
    Reboot,
    /// An `@name` that is not a shorthand.
    #[error("unknown shorthand @{name}; use @hourly, @daily (@midnight), @weekly, @monthly or @yearly (@annually), or a crontab expression")]
    UnknownShorthand {
        /// The name after `@`.
        name: String,
    },
    /// A number outside the field's range.
    #[error("{field} value {value} is out of range {}-{}{}", field.bounds().0, field.bounds().1, field.range_note())]
    OutOfRange {
        /// The field.
        field: Field,
        /// The number as written.
        value: String,
    },
    /// Neither a number nor a name the field accepts.
    #[error("{field} value \"{text}\" is not {}", value_kinds(*field))]
    BadValue {
        /// The field.
        field: Field,
        /// The value as written.
        text: String,
    },
    /// `a-b` with `a` after `b`.
    #[error("{field} range {start}-{end} is reversed; ranges do not wrap around, so write {end}-{start} or a list such as {start}-{},{}-{end}", field.bounds().1, field.bounds().0)]
    Reversed {
        /// The field.
        field: Field,
        /// The first bound, as a number.
        start: u32,
        /// The second bound, as a number.
        end: u32,
    },
    /// `/0`.
    #[error("{field} step 0 in \"{item}\" never advances; a step must be 1 or more")]
    ZeroStep {
        /// The field.
        field: Field,
        /// The item with the step.
        item: String,
    },
    /// A step wider than the whole field.
    #[error("{field} step {step} in \"{item}\" is larger than the {field} range {}-{}; steps restart every {}, so write a list of the values instead", field.bounds().0, field.bounds().1, field.enclosing_unit())]
    StepTooLarge {
        /// The field.
        field: Field,
        /// The item with the step.
        item: String,
        /// The step.
        step: u32,
    },
    /// A list with an empty item (`1,,2`, `1,`).
    #[error("{field} field \"{text}\" has an empty item; remove the extra comma")]
    EmptyItem {
        /// The field.
        field: Field,
        /// The whole field as written.
        text: String,
    },
    /// An item that is not a value, range or step (`5-`, `1/2/3`, `*/x`).
    #[error("{field} item \"{item}\" is not a value, a range a-b, or a step */n, a-b/n or a/n")]
    Malformed {
        /// The field.
        field: Field,
        /// The item as written.
        item: String,
    },
    /// `timezone = "…"` names no zone in the bundled database.
    #[error("unknown time zone \"{name}\"; write an IANA name such as \"Europe/Berlin\" or \"America/New_York\", or \"UTC\"")]
    UnknownTimeZone {
        /// The name as written.
        name: String,
    },
}

fn value_kinds(field: Field) -> &'static str {
    match field {
        Field::Month => "a number 1-12 or a month name (jan-dec)",
        Field::DayOfWeek => "a number 0-7 or a day name (sun-sat)",
        _ => "a number",
    }
}

impl Schedule {
    /// Parses a crontab expression or `@` shorthand (see the module docs).
    /// Surrounding whitespace is dropped; fields are separated by any
    /// whitespace.
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        let expression = expr.trim();
        if expression.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let expanded = match expression.strip_prefix('@') {
            Some(name) => shorthand(name)?,
            None => expression,
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        Ok(Schedule {
            expression: expression.to_string(),
            fields: CronFields::parse(&parts)?,
        })
    }

    /// The expression as written (without surrounding whitespace).
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Whether the schedule runs on wall-clock time across DST changes
    /// (fixed hour field) rather than real time (hour field starting with
    /// `*`); see the module docs.
    pub fn is_wall_clock(&self) -> bool {
        !self.fields.hour_star
    }

    /// The first run strictly after `after`, in zone `tz`; None when it
    /// never runs (e.g. `0 0 30 2 *`), searching at most [`SEARCH_YEARS`]
    /// ahead. Runs fall on whole seconds.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        // Runs are on whole seconds: start at the first one after `after`
        // (as_second truncates towards zero; a negative fraction means the
        // whole second below was already passed).
        let mut second = after.as_second();
        if after.subsec_nanosecond() < 0 {
            second -= 1;
        }
        let mut t = Timestamp::from_second(second.checked_add(1)?).ok()?;
        let last_year = i32::from(tz.to_datetime(t).year()) + SEARCH_YEARS;
        let wall_clock = self.is_wall_clock();

        // `floor`: the first civil time still to run. Walk the stretches of
        // constant offset between the zone's transitions; within one, civil
        // time and real time advance together.
        let mut floor = tz.to_datetime(t);
        if wall_clock {
            // Wall-clock times already passed before `t` do not run again:
            // right after a fall-back transition the clock shows times it
            // already showed, and exactly at a spring-forward one the times
            // in the gap are still owed (they run at the transition).
            if let Some((at, before)) = last_transition(tz, t) {
                let resume = before.to_datetime(at);
                floor = if at == t { resume } else { floor.max(resume) };
            }
        }
        loop {
            let offset = tz.to_offset(t);
            let here = offset.to_datetime(t);
            let civil = self.fields.next_civil(floor, last_year)?;
            if civil < here {
                // Only reached with `t` at a spring-forward transition: the
                // civil time is in the gap, so it runs as the gap ends.
                return Some(t);
            }
            let run = offset.to_timestamp(civil).ok()?;
            let Some(next) = tz.following(t).next() else {
                return Some(run);
            };
            let end = next.timestamp();
            if run < end {
                return Some(run);
            }
            // The next run is past this stretch: continue in the next one.
            // On wall-clock time the civil clock resumes where this stretch
            // left it (so a gap is still owed and an overlap is not run
            // twice); on real time it resumes at whatever the clock shows.
            floor = if wall_clock {
                offset.to_datetime(end)
            } else {
                next.offset().to_datetime(end)
            };
            t = end;
        }
    }

    /// The next `n` runs after `after` as zoned times, fewer if the schedule
    /// stops running (see [`Schedule::next_after`]).
    pub fn upcoming(&self, after: Timestamp, tz: &TimeZone, n: usize) -> Vec<Zoned> {
        let mut runs = Vec::with_capacity(n.min(1024));
        let mut at = after;
        while runs.len() < n {
            let Some(next) = self.next_after(at, tz) else {
                break;
            };
            runs.push(next.to_zoned(tz.clone()));
            at = next;
        }
        runs
    }
}

/// The latest transition of `tz` at or before `t`, with the offset in force
/// just before it.
fn last_transition(tz: &TimeZone, t: Timestamp) -> Option<(Timestamp, Offset)> {
    // `preceding` is strictly before its argument; transitions fall on whole
    // seconds, so one second later takes in a transition exactly at `t`.
    let probe = t.checked_add(jiff::SignedDuration::from_secs(1)).ok()?;
    let at = tz.preceding(probe).next()?.timestamp();
    let just_before = at.checked_sub(jiff::SignedDuration::from_nanos(1)).ok()?;
    Some((at, tz.to_offset(just_before)))
}

/// The five-field form of an `@` shorthand.
fn shorthand(name: &str) -> Result<&'static str, ScheduleError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "yearly" | "annually" => "0 0 1 1 *",
        "monthly" => "0 0 1 * *",
        "weekly" => "0 0 * * 0",
        "daily" | "midnight" => "0 0 * * *",
        "hourly" => "0 * * * *",
        "reboot" => return Err(ScheduleError::Reboot),
        _ => {
            return Err(ScheduleError::UnknownShorthand {
                name: name.to_string(),
            })
        }
    })
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Schedule, ScheduleError> {
        Schedule::parse(s)
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expression)
    }
}

/// `timezone = "…"`: an IANA name (or "UTC"), looked up in the time zone
/// database bundled into the binary, so the result does not depend on the
/// host's /usr/share/zoneinfo.
pub fn parse_timezone(name: &str) -> Result<TimeZone, ScheduleError> {
    let trimmed = name.trim();
    if trimmed.eq_ignore_ascii_case("UTC") {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(trimmed).map_err(|_| ScheduleError::UnknownTimeZone {
        name: name.to_string(),
    })
}

/// Formats a zoned time as RFC 3339 with its offset, seconds always shown
/// (`2026-12-02T09:00:00+01:00`; UTC as `+00:00`). Fractions of a second are
/// dropped: runs fall on whole seconds.
pub fn rfc3339(z: &Zoned) -> String {
    let dt: DateTime = z.datetime();
    let offset = z.offset().seconds();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs();
    // RFC 3339 offsets have no seconds; only pre-1900 local mean times have
    // them, and those round down to the minute.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        sign,
        offset / 3600,
        offset / 60 % 60,
    )
}

#[cfg(test)]
mod tests;
