//! The crontab(5) field parser and the search for the next matching civil
//! (wall-clock) time. Nothing here knows about time zones: [`super`] maps
//! the civil times this finds onto instants.

use super::ScheduleError;
use jiff::civil::DateTime;

/// One of the six fields of a schedule, named as messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Seconds (0-59), the first of six fields.
    Second,
    /// Minutes (0-59).
    Minute,
    /// Hours (0-23).
    Hour,
    /// Day of the month (1-31).
    DayOfMonth,
    /// Month (1-12 or jan-dec).
    Month,
    /// Day of the week (0-7 or sun-sat; 0 and 7 are Sunday).
    DayOfWeek,
}

impl Field {
    /// The smallest and largest value written in this field.
    pub fn bounds(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            // 7 is accepted as a second spelling of Sunday (0).
            Field::DayOfWeek => (0, 7),
        }
    }

    /// The next larger unit, for saying where a step restarts.
    pub(crate) fn enclosing_unit(self) -> &'static str {
        match self {
            Field::Second => "minute",
            Field::Minute => "hour",
            Field::Hour => "day",
            Field::DayOfMonth => "month",
            Field::Month => "year",
            Field::DayOfWeek => "week",
        }
    }

    /// What a message adds after the range: the names this field accepts.
    pub(crate) fn range_note(self) -> &'static str {
        match self {
            Field::Month => " (or jan-dec)",
            Field::DayOfWeek => " (0 and 7 are Sunday)",
            _ => "",
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &[
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ],
            Field::DayOfWeek => &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
            _ => &[],
        }
    }

    /// The value a name stands for (months count from 1, days from 0).
    fn name_value(self, text: &str) -> Option<u32> {
        let first = if self == Field::Month { 1 } else { 0 };
        self.names()
            .iter()
            .position(|name| name.eq_ignore_ascii_case(text))
            .map(|i| i as u32 + first)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        })
    }
}

/// The parsed fields as bit sets (bit `n` set: value `n` matches).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CronFields {
    pub seconds: u64,
    pub minutes: u64,
    pub hours: u64,
    /// Bits 1-31.
    pub days_of_month: u64,
    /// Bits 1-12.
    pub months: u64,
    /// Bits 0-6, Sunday = 0 (a written 7 is stored as 0).
    pub days_of_week: u64,
    /// The day-of-month field starts with `*` (cron's DOM_STAR).
    pub dom_star: bool,
    /// The day-of-week field starts with `*` (cron's DOW_STAR).
    pub dow_star: bool,
    /// The hour field starts with `*` (cron's HR_STAR): such a schedule runs
    /// at least every few hours and follows real time across DST changes.
    pub hour_star: bool,
}

impl CronFields {
    /// Parses 5 or 6 whitespace-separated fields (already split).
    pub fn parse(fields: &[&str]) -> Result<CronFields, ScheduleError> {
        let (seconds, rest) = match fields.len() {
            5 => (1, fields),
            6 => (parse_field(Field::Second, fields[0])?, &fields[1..]),
            found => return Err(ScheduleError::FieldCount { found }),
        };
        let mut days_of_week = parse_field(Field::DayOfWeek, rest[4])?;
        // Sunday written as 7 is the same day as 0.
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week & !(1 << 7)) | 1;
        }
        Ok(CronFields {
            seconds,
            minutes: parse_field(Field::Minute, rest[0])?,
            hours: parse_field(Field::Hour, rest[1])?,
            days_of_month: parse_field(Field::DayOfMonth, rest[2])?,
            months: parse_field(Field::Month, rest[3])?,
            days_of_week,
            dom_star: rest[2].starts_with('*'),
            dow_star: rest[4].starts_with('*'),
            hour_star: rest[1].starts_with('*'),
        })
    }

    /// Whether the schedule runs on this date. `weekday` counts from Sunday = 0.
    fn day_matches(&self, day: u32, weekday: u32) -> bool {
        let dom = self.days_of_month & (1 << day) != 0;
        let dow = self.days_of_week & (1 << weekday) != 0;
        // crontab(5): with both day fields restricted a day matches either
        // one; with one of them starting with `*`, both must match (the `*`
        // one matches every day, so in effect the other one decides).
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first matching day in `year-month` on or after `day`.
    fn next_day(&self, year: i32, month: u32, day: u32) -> Option<u32> {
        let last = days_in_month(year, month);
        let mut weekday = weekday(year, month, day);
        for d in day..=last {
            if self.day_matches(d, weekday) {
                return Some(d);
            }
            weekday = (weekday + 1) % 7;
        }
        None
    }

    /// The first civil time at or after `from` (whole seconds; any fraction
    /// of `from` is ignored) whose fields all match, looking no further than
    /// the end of `last_year`. Steps field by field, largest first: a field
    /// that does not match moves to its next matching value and resets the
    /// smaller fields, a field with no match left carries into the next
    /// larger one.
    pub fn next_civil(&self, from: DateTime, last_year: i32) -> Option<DateTime> {
        let last_year = last_year.min(9999);
        let mut year = i32::from(from.year());
        let mut month = from.month() as u32;
        let mut day = from.day() as u32;
        let mut hour = from.hour() as u32;
        let mut minute = from.minute() as u32;
        let mut second = from.second() as u32;
        loop {
            if year > last_year {
                return None;
            }
            match next_bit(self.months, month) {
                Some(m) if m == month => {}
                Some(m) if m <= 12 => {
                    (month, day, hour, minute, second) = (m, 1, 0, 0, 0);
                }
                _ => {
                    (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0);
                    continue;
                }
            }
            match self.next_day(year, month, day) {
                Some(d) if d == day => {}
                Some(d) => (day, hour, minute, second) = (d, 0, 0, 0),
                None => {
                    (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0);
                    continue;
                }
            }
            match next_bit(self.hours, hour) {
                Some(h) if h == hour => {}
                Some(h) if h <= 23 => (hour, minute, second) = (h, 0, 0),
                _ => {
                    (day, hour, minute, second) = (day + 1, 0, 0, 0);
                    continue;
                }
            }
            match next_bit(self.minutes, minute) {
                Some(m) if m == minute => {}
                Some(m) if m <= 59 => (minute, second) = (m, 0),
                _ => {
                    (hour, minute, second) = (hour + 1, 0, 0);
                    continue;
                }
            }
            match next_bit(self.seconds, second) {
                Some(s) if s <= 59 => second = s,
                _ => {
                    (minute, second) = (minute + 1, 0);
                    continue;
                }
            }
            // Every value was range-checked on the way here, so this only
            // fails for years Jiff cannot represent (already excluded).
            return DateTime::new(
                year as i16,
                month as i8,
                day as i8,
                hour as i8,
                minute as i8,
                second as i8,
                0,
            )
            .ok();
        }
    }
}

/// The lowest set bit of `mask` at position `from` or above.
fn next_bit(mask: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = mask >> from;
    (rest != 0).then(|| from + rest.trailing_zeros())
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of the week, Sunday = 0, of a proleptic Gregorian date.
fn weekday(year: i32, month: u32, day: u32) -> u32 {
    // Count days from 0000-03-01 with March as the first month, so the leap
    // day is the last day of its "year" and needs no special case.
    let (y, m) = if month <= 2 {
        (i64::from(year) - 1, i64::from(month) + 9)
    } else {
        (i64::from(year), i64::from(month) - 3)
    };
    let days = 365 * y + y.div_euclid(4) - y.div_euclid(100)
        + y.div_euclid(400)
        + (153 * m + 2) / 5
        + i64::from(day)
        - 1;
    // 0000-03-01 was a Wednesday (3).
    (days + 3).rem_euclid(7) as u32
}

/// Parses one field into a bit set.
fn parse_field(field: Field, text: &str) -> Result<u64, ScheduleError> {
    let mut bits = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(ScheduleError::EmptyItem {
                field,
                text: text.to_string(),
            });
        }
        bits |= parse_item(field, item)?;
    }
    Ok(bits)
}

/// Parses `*`, `v`, `a-b`, `*/n`, `a-b/n` or `a/n`.
fn parse_item(field: Field, item: &str) -> Result<u64, ScheduleError> {
    let malformed = || ScheduleError::Malformed {
        field,
        item: item.to_string(),
    };
    let (min, max) = field.bounds();
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    let (start, end) = if range == "*" {
        (min, max)
    } else if let Some((a, b)) = range.split_once('-') {
        if a.is_empty() || b.is_empty() {
            return Err(malformed());
        }
        let start = parse_value(field, a)?;
        let mut end = parse_value(field, b)?;
        // `fri-sun` reads as Friday through Sunday: Sunday closing a range
        // is the 7 spelling, not the 0 one (cron would call it reversed).
        if field == Field::DayOfWeek && end == 0 && start > 0 && b.eq_ignore_ascii_case("sun") {
            end = 7;
        }
        if start > end {
            return Err(ScheduleError::Reversed { field, start, end });
        }
        (start, end)
    } else if range.is_empty() {
        return Err(malformed());
    } else {
        let value = parse_value(field, range)?;
        // `a/n` runs from a to the field's maximum; a lone value is itself.
        (value, if step.is_some() { max } else { value })
    };
    let step = match step {
        None => 1,
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            // Too many digits to fit is as wrong as any other huge step.
            let n = s.parse::<u32>().unwrap_or(u32::MAX);
            if n == 0 {
                return Err(ScheduleError::ZeroStep {
                    field,
                    item: item.to_string(),
                });
            }
            if n > max - min + 1 {
                return Err(ScheduleError::StepTooLarge {
                    field,
                    item: item.to_string(),
                    step: n,
                });
            }
            n
        }
        Some(_) => return Err(malformed()),
    };
    let mut bits = 0u64;
    let mut v = start;
    while v <= end {
        bits |= 1 << v;
        v += step;
    }
    Ok(bits)
}

/// A number in the field's range, or a month or day name.
fn parse_value(field: Field, text: &str) -> Result<u32, ScheduleError> {
    let (min, max) = field.bounds();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(ScheduleError::OutOfRange {
                field,
                value: text.to_string(),
            }),
        };
    }
    field
        .name_value(text)
        .ok_or_else(|| ScheduleError::BadValue {
            field,
            text: text.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_matches_known_dates() {
        // 2026-03-29 is a Sunday, 2000-02-29 a Tuesday, 1970-01-01 a Thursday.
        assert_eq!(weekday(2026, 3, 29), 0);
        assert_eq!(weekday(2000, 2, 29), 2);
        assert_eq!(weekday(1970, 1, 1), 4);
        assert_eq!(weekday(2100, 3, 1), 1);
    }

    #[test]
    fn items_expand_to_the_right_bits() {
        let bits = |f, t| parse_field(f, t).expect(t);
        assert_eq!(bits(Field::Minute, "*/15"), 1 | 1 << 15 | 1 << 30 | 1 << 45);
        assert_eq!(bits(Field::Minute, "50/5"), 1 << 50 | 1 << 55);
        assert_eq!(
            bits(Field::Hour, "1-5/2,20"),
            1 << 1 | 1 << 3 | 1 << 5 | 1 << 20
        );
        assert_eq!(bits(Field::Month, "JAN-mar"), 0b1110);
        assert_eq!(
            bits(Field::DayOfWeek, "fri-sun"),
            bits(Field::DayOfWeek, "5-7")
        );
        assert_eq!(
            bits(Field::DayOfWeek, "mon/2"),
            1 << 1 | 1 << 3 | 1 << 5 | 1 << 7
        );
    }
}
