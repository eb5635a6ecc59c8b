//! Where a target's alerting records are in its folder: the outbox, the
//! delivery log, the alert state and the HTML reports alerts link to.
//! Alerting reads and writes them; the folder's layout is the store's.
//!
//! ```text
//! <store>/<target>/outbox/<id>.json             messages waiting
//! <store>/<target>/alerts/deliveries.jsonl      one line per delivery attempt
//! <store>/<target>/alerts/state.json            what was last alerted
//! <store>/<target>/reports/<time>.html          a report per alerting scan
//! ```

use super::TargetStore;
use crate::error::Result;
use std::path::PathBuf;

/// HTML reports kept per target (the oldest are removed).
pub const KEEP_REPORTS: usize = 50;

impl TargetStore {
    /// `<target>/outbox`: the messages waiting to be delivered.
    pub fn outbox_dir(&self) -> PathBuf {
        self.dir().join("outbox")
    }

    /// `<target>/alerts/deliveries.jsonl`: every delivery attempt.
    pub fn delivery_log(&self) -> PathBuf {
        self.dir().join("alerts").join("deliveries.jsonl")
    }

    /// `<target>/alerts/state.json`: what was last alerted.
    pub fn alert_state_file(&self) -> PathBuf {
        self.dir().join("alerts").join("state.json")
    }

    /// `<target>/reports`: the HTML reports alerts link to.
    pub fn reports_dir(&self) -> PathBuf {
        self.dir().join("reports")
    }

    /// Writes `html` as the report of the scan at `time` (RFC 3339),
    /// atomically, keeping the newest [`KEEP_REPORTS`]; returns its path.
    /// A second report of the same second is `<time>-2.html` (and so on):
    /// an alert already sent links to the first, which must not change.
    /// Callers hold the store lock.
    pub fn write_report(&self, time: &str, html: &str) -> Result<PathBuf> {
        let dir = self.reports_dir();
        let stem = super::time_stem(time);
        let mut path = dir.join(format!("{stem}.html"));
        let mut n = 2;
        while path.exists() {
            path = dir.join(format!("{stem}-{n}.html"));
            n += 1;
        }
        crate::util::write_atomic(&path, html.as_bytes())?;
        if let Ok(read) = std::fs::read_dir(&dir) {
            let mut files: Vec<PathBuf> = read
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "html"))
                .collect();
            files.sort();
            let excess = files.len().saturating_sub(KEEP_REPORTS);
            for old in &files[..excess] {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_reports_of_one_second_are_both_kept() {
        let root = tempfile::tempdir().unwrap();
        let store = TargetStore::new(root.path(), "shop").unwrap();
        let first = store.write_report("2026-12-07T10:00:00Z", "one").unwrap();
        let second = store.write_report("2026-12-07T10:00:00Z", "two").unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "two");
        assert!(second.ends_with("20261207T100000Z-2.html"), "{second:?}");
    }
}
