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
    pub fn write_report(&self, time: &str, html: &str) -> Result<PathBuf> {
        let dir = self.reports_dir();
        let path = dir.join(format!("{}.html", super::time_stem(time)));
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
