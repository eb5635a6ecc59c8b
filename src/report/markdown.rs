//! The Markdown report, for pull-request comments and tickets. Database
//! text goes into code spans, fences or escaped prose (see [`crate::escape`]):
//! a name or comment cannot add a link, an image, a mention, an HTML tag,
//! or leave its table cell or its fence.

use super::{by_top_object, object_diff, DiffReport};
use crate::escape::{html, markdown, markdown_cell_code, markdown_code, markdown_fence};
use crate::model::Snapshot;
use std::fmt::Write as _;

/// The `<details>` block of one object's DDL diff. Its summary is HTML (a
/// line starting with `<details>` is an HTML block, where Markdown is not
/// read), in `<code>`, where GitHub makes no mention or link.
pub(crate) fn details(summary: &str, diff: &str) -> String {
    format!(
        "\n<details><summary><code>{}</code></summary>\n\n{}\n</details>\n",
        html(summary),
        markdown_fence(&super::diff_lines(diff).join("\n"), "diff")
    )
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
    let _ = writeln!(
        out,
        "{} → {}",
        markdown_code(&report.from.source),
        markdown_code(&report.to.source)
    );
    let _ = writeln!(out);
    for w in &report.warnings {
        let _ = writeln!(out, "> **Warning:** {}", markdown(w));
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
            "| {sev} | `{}` | {} | {} |",
            c.code,
            markdown_cell_code(&c.object.name),
            markdown(&c.summary())
        );
    }
    for (top, _) in by_top_object(&report.changes) {
        if let Some(diff) = object_diff(from, to, &top) {
            out.push_str(&details(&top.replacen(':', " ", 1), &diff));
        }
    }
    out
}
