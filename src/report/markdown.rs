//! The Markdown report, for pull-request comments and tickets.

use super::{by_top_object, object_diff, DiffReport};
use crate::model::Snapshot;
use std::fmt::Write as _;

/// Text for a Markdown table cell: pipes escaped, one line, and `<`/`>` as
/// entities (Markdown viewers render raw HTML, and names, comments and
/// bodies come from the database).
pub(crate) fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

/// Renders the report as Markdown.
pub fn render_markdown(report: &DiffReport, from: &Snapshot, to: &Snapshot) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "### Schema drift: {} change{}",
        s.changes,
        if s.changes == 1 { "" } else { "s" }
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "`{}` → `{}`", report.from.source, report.to.source);
    let _ = writeln!(out);
    for w in &report.warnings {
        let _ = writeln!(out, "> **Warning:** {w}");
        let _ = writeln!(out);
    }
    if s.changes == 0 {
        let _ = writeln!(out, "No differences.");
        return out;
    }
    let _ = writeln!(
        out,
        "**{}** critical, **{}** warning, **{}** info",
        s.critical, s.warning, s.info
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| severity | code | object | change |");
    let _ = writeln!(out, "|---|---|---|---|");
    for c in &report.changes {
        let sev = match c.severity {
            crate::diff::Severity::Critical => "🔴 critical",
            crate::diff::Severity::Warning => "🟠 warning",
            crate::diff::Severity::Info => "⚪ info",
        };
        let _ = writeln!(
            out,
            "| {sev} | `{}` | `{}` | {} |",
            c.code,
            cell(&c.object.name),
            cell(&c.summary())
        );
    }
    for (top, _) in by_top_object(&report.changes) {
        if let Some(diff) = object_diff(from, to, &top) {
            let _ = writeln!(
                out,
                "\n<details><summary>{}</summary>\n\n```diff\n{}```\n</details>",
                cell(&top.replacen(':', " ", 1)),
                diff
            );
        }
    }
    out
}
