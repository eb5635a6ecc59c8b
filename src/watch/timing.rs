//! When each target's next scan starts: its schedule's next tick, plus a
//! fixed share of jitter so that many targets on one schedule do not all
//! connect in the same second. Pure: no clock, no I/O.

use crate::schedule::Schedule;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// One target's timing.
#[derive(Debug, Clone)]
pub struct Timing {
    schedule: Schedule,
    offset: SignedDuration,
}

/// A tick: the schedule's time (the same on every replica, so it names the
/// run in the fleet store) and when this process starts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// The scheduled time.
    pub at: Timestamp,
    /// `at` plus the target's jitter.
    pub start: Timestamp,
}

impl Timing {
    /// The timing of target `name`: its jitter is a share of `max_jitter`
    /// fixed by its name (stable across restarts and replicas), at most a
    /// tenth of the schedule's interval.
    pub fn new(name: &str, schedule: Schedule, tz: &TimeZone, max_jitter: Duration) -> Timing {
        let interval = interval(&schedule, tz);
        let cap = max_jitter.min(interval / 10);
        let millis = cap.as_millis() as u64;
        let offset = if millis == 0 {
            SignedDuration::ZERO
        } else {
            SignedDuration::from_millis((fnv1a(name) % millis) as i64)
        };
        Timing { schedule, offset }
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The jitter this target's ticks start after their scheduled time.
    pub fn offset(&self) -> Duration {
        self.offset.unsigned_abs()
    }

    /// The first tick scheduled strictly after `after`.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Tick> {
        let at = self.schedule.next_after(after, tz)?;
        Some(Tick {
            at,
            start: at.saturating_add(self.offset).unwrap_or(at),
        })
    }

    /// The tick after `done` (the one just started). When the next one's
    /// start is already past `now` (a scan overran it, or the machine
    /// slept), the ticks missed are counted and the first tick after `now`
    /// is returned with their number.
    pub fn following(&self, done: Tick, now: Timestamp, tz: &TimeZone) -> (Option<Tick>, u64) {
        let mut missed = 0;
        let mut next = self.next_after(done.at, tz);
        while let Some(t) = next {
            if t.start >= now {
                break;
            }
            missed += 1;
            if missed > 1000 {
                // A long sleep on a seconds schedule: jump instead of
                // walking every tick.
                next = self.next_after(now, tz);
                break;
            }
            next = self.next_after(t.at, tz);
        }
        (next, missed)
    }
}

/// The gap between the schedule's next two runs from now (a day when it
/// runs once or never: jitter is capped by it, nothing more).
fn interval(schedule: &Schedule, tz: &TimeZone) -> Duration {
    let now = Timestamp::now();
    let first = schedule.next_after(now, tz);
    let second = first.and_then(|f| schedule.next_after(f, tz));
    match (first, second) {
        (Some(a), Some(b)) => b.duration_since(a).unsigned_abs(),
        _ => Duration::from_secs(86_400),
    }
}

/// FNV-1a: a stable hash of the target's name (std's hasher is seeded per
/// process, and replicas must agree).
fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_minute() -> Schedule {
        Schedule::parse("* * * * *").unwrap()
    }

    #[test]
    fn jitter_is_fixed_per_name_and_spreads_targets_within_a_tenth_of_the_interval() {
        let tz = TimeZone::UTC;
        let offsets: Vec<Duration> = (0..200)
            .map(|i| {
                Timing::new(
                    &format!("db{i}"),
                    every_minute(),
                    &tz,
                    Duration::from_secs(30),
                )
                .offset()
            })
            .collect();
        assert!(offsets.iter().all(|o| *o < Duration::from_secs(6)));
        let mut seconds: Vec<u64> = offsets.iter().map(|o| o.as_secs()).collect();
        seconds.sort();
        seconds.dedup();
        assert_eq!(seconds.len(), 6, "200 targets spread over 6 seconds");
        let again = Timing::new("db7", every_minute(), &tz, Duration::from_secs(30));
        assert_eq!(again.offset(), offsets[7]);
        let none = Timing::new("db7", every_minute(), &tz, Duration::ZERO);
        assert_eq!(none.offset(), Duration::ZERO);
    }

    #[test]
    fn ticks_missed_while_a_scan_overran_are_counted_and_skipped() {
        let tz = TimeZone::UTC;
        let t = Timing::new("a", every_minute(), &tz, Duration::ZERO);
        let start: Timestamp = "2026-12-02T10:00:30Z".parse().unwrap();
        let first = t.next_after(start, &tz).unwrap();
        assert_eq!(first.at.to_string(), "2026-12-02T10:01:00Z");
        // Finished in time: the next minute, nothing missed.
        let (next, missed) = t.following(first, "2026-12-02T10:01:20Z".parse().unwrap(), &tz);
        assert_eq!(
            (next.unwrap().at.to_string(), missed),
            ("2026-12-02T10:02:00Z".into(), 0)
        );
        // Overran three ticks.
        let (next, missed) = t.following(first, "2026-12-02T10:04:10Z".parse().unwrap(), &tz);
        assert_eq!(
            (next.unwrap().at.to_string(), missed),
            ("2026-12-02T10:05:00Z".into(), 3)
        );
    }
}
