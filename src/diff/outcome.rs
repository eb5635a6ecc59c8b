//! A comparison as `diff` and `check` both make it: the changes, the
//! ignore rules applied, and the warnings the two sides call for, in one
//! order.

use super::{diff, Change, IgnoreRules};
use crate::model::Snapshot;

/// The changes from one snapshot to another and what to say about them.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The changes left after the ignore rules.
    pub changes: Vec<Change>,
    /// Warnings: the sides' majors differ, an ignore rule matched nothing.
    pub warnings: Vec<String>,
}

/// The changes `from` → `to`, minus what `rules` ignore.
pub fn compare(from: &Snapshot, to: &Snapshot, rules: &IgnoreRules) -> Compared {
    let mut changes = diff(from, to);
    let mut warnings: Vec<String> = version_warning(from, to).into_iter().collect();
    warnings.extend(rules.apply(&mut changes));
    Compared { changes, warnings }
}

/// A warning when the two sides come from different PostgreSQL major
/// versions.
pub fn version_warning(from: &Snapshot, to: &Snapshot) -> Option<String> {
    let major = |s: &Snapshot| s.meta.server_version_num.map(|n| n / 10000);
    match (major(from), major(to)) {
        (Some(a), Some(b)) if a != b => Some(format!(
            "the sides come from different PostgreSQL major versions ({a} and {b}): some differences may be how each version prints the same definition"
        )),
        _ => None,
    }
}
