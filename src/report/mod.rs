//! Reports are data ([`DiffReport`] is `Serialize`); renderers turn them
//! into text, Markdown or JSON. Pure: no I/O.

mod changelog;
mod check;
mod check_html;
mod check_text;

mod history;
mod markdown;
mod preflight;
mod preflight_text;
pub(crate) mod text;

pub use crate::escape::html as escape_html;
pub use changelog::{
    ddl_diffs, render_changelog_markdown, render_changelog_text, Changelog, ChangelogEntry,
};
pub use check::{
    schema_findings, Attribution, CheckReport, Counts, Expected, ExpectedFrom, Finding,
    FindingCode, HistoryCode, MigrationName, ScanResult, CHECK_FORMAT,
};
pub use check_html::render_check_html;
pub use check_text::{render_check_markdown, render_check_text};
pub use history::render_history_text;

pub use markdown::render_markdown;
pub use preflight::{
    Explanation, PendingMigration, PendingOutcome, PreflightHazard, PreflightHazardCode,
    PreflightReport, PreflightResult, TableSize, PREFLIGHT_FORMAT,
};
pub use preflight_text::{render_preflight_html, render_preflight_markdown, render_preflight_text};
pub use text::{render_text, Style};

use crate::diff::{Change, Severity};
use crate::model::Snapshot;
use serde::Serialize;

/// The `format` of a diff report's JSON.
pub const DIFF_FORMAT: &str = "driftwatch.diff/1";

/// One side of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Where the snapshot came from (passwords hidden).
    pub source: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Server version, for captured sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

impl Side {
    fn of(s: &Snapshot) -> Side {
        Side {
            source: s.meta.source.clone(),
            fingerprint: s.fingerprint.clone(),
            server_version: s.meta.server_version.clone(),
        }
    }
}

/// Change counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// All changes reported.
    pub changes: usize,
    /// Critical ones.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Info.
    pub info: usize,
}

/// The outcome of `driftwatch diff`.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// Always [`DIFF_FORMAT`].
    pub format: &'static str,
    /// The `FROM` side.
    pub from: Side,
    /// The `TO` side.
    pub to: Side,
    /// Counts by severity.
    pub summary: Summary,
    /// Things the reader should know (version mismatch, unused ignore rules…).
    pub warnings: Vec<String>,
    /// Every change, in report order.
    pub changes: Vec<Change>,
}

impl DiffReport {
    /// Builds the report of `changes` from `from` to `to`.
    pub fn new(
        from: &Snapshot,
        to: &Snapshot,
        changes: Vec<Change>,
        warnings: Vec<String>,
    ) -> DiffReport {
        let count = |s: Severity| changes.iter().filter(|c| c.severity == s).count();
        DiffReport {
            format: DIFF_FORMAT,
            from: Side::of(from),
            to: Side::of(to),
            summary: Summary {
                changes: changes.len(),
                critical: count(Severity::Critical),
                warning: count(Severity::Warning),
                info: count(Severity::Info),
            },
            warnings,
            changes,
        }
    }

    /// True when some change is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.changes.iter().any(|c| c.severity >= threshold)
    }
}

/// Groups changes by their top-level object (`kind:identity`), in order.
pub(crate) fn by_top_object(changes: &[Change]) -> Vec<(String, Vec<&Change>)> {
    let mut groups: Vec<(String, Vec<&Change>)> = Vec::new();
    for c in changes {
        let top = c
            .object
            .parent
            .clone()
            .unwrap_or_else(|| format!("{}:{}", c.object.kind.as_str(), c.object.name));
        match groups.last_mut() {
            Some((t, list)) if *t == top => list.push(c),
            _ => groups.push((top, vec![c])),
        }
    }
    groups
}

/// The lines of a unified diff as `similar` writes it: a line ends at `\n`
/// (not kept) or after a bare `\r` (kept, to be shown escaped), since
/// `similar` splits its input at both and writes each line's own ending.
/// `str::lines` would drop a `\r` before `\n` and join lines at a bare one.
pub(crate) fn diff_lines(diff: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = diff.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            lines.push(&diff[start..i]);
            start = i + 1;
        } else if b == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            lines.push(&diff[start..=i]);
            start = i + 1;
        }
    }
    if start < diff.len() {
        lines.push(&diff[start..]);
    }
    lines
}

/// Unified diff of the rendered top-level object on both sides.
pub(crate) fn object_diff(from: &Snapshot, to: &Snapshot, top: &str) -> Option<String> {
    let (kind, identity) = top.split_once(':')?;
    let kind = crate::diff::ObjectKind::parse(kind)?;
    let a = crate::ddl::render(&from.objects, kind, identity).unwrap_or_default();
    let b = crate::ddl::render(&to.objects, kind, identity).unwrap_or_default();
    if a == b {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&a, &b);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&from.meta.source, &to.meta.source)
        .to_string();
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::diff_lines;

    #[test]
    fn diff_lines_end_at_newline_and_after_a_bare_carriage_return() {
        assert_eq!(
            diff_lines("-a\r\n+b\r+c\n d\n\n+e"),
            ["-a\r", "+b\r", "+c", " d", "", "+e"]
        );
        assert!(diff_lines("").is_empty());
    }
}
