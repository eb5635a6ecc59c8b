//! The terminal report: changes grouped by schema and object, one summary
//! line each, then a unified DDL diff of the object.

use super::{by_top_object, object_diff, DiffReport};
use crate::diff::Severity;
use crate::escape::{terminal, terminal_block};
use crate::model::Snapshot;
use std::fmt::Write as _;

/// Colour or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// ANSI colours.
    Color,
    /// Plain text.
    Plain,
}

impl Style {
    pub(crate) fn paint(self, code: &str, text: &str) -> String {
        match self {
            Style::Color => format!("\x1b[{code}m{text}\x1b[0m"),
            Style::Plain => text.to_string(),
        }
    }
}

/// `[critical]`, `[warning]`, `[info]`, coloured.
pub(crate) fn severity_tag(style: Style, s: Severity) -> String {
    match s {
        Severity::Critical => style.paint("1;31", "[critical]"),
        Severity::Warning => style.paint("33", "[warning]"),
        Severity::Info => style.paint("2", "[info]"),
    }
}

/// A unified diff with added lines green, removed red, headers bold,
/// each line indented by `indent`. The diff holds database text: each line
/// keeps its tabs, every other control character is shown escaped.
pub(crate) fn paint_diff(style: Style, diff: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in super::diff_lines(diff) {
        let line = &*terminal_block(line);
        let painted = if line.starts_with("+++") || line.starts_with("---") {
            style.paint("1", line)
        } else if line.starts_with('+') {
            style.paint("32", line)
        } else if line.starts_with('-') {
            style.paint("31", line)
        } else if line.starts_with("@@") {
            style.paint("36", line)
        } else {
            line.to_string()
        };
        let _ = writeln!(out, "{indent}{painted}");
    }
    out
}

/// `table app.orders` for the group key `table:app.orders`: the kind's
/// dashes become spaces, the name is shown as it is, escaped.
pub(crate) fn top_label(top: &str) -> String {
    match top.split_once(':') {
        Some((kind, name)) => format!("{} {}", kind.replace('-', " "), terminal(name)),
        None => terminal(top).into_owned(),
    }
}

/// Renders the report for a terminal.
pub fn render_text(report: &DiffReport, from: &Snapshot, to: &Snapshot, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} → {}",
        style.paint("1", "driftwatch diff"),
        terminal(&report.from.source),
        terminal(&report.to.source)
    );
    for w in &report.warnings {
        let _ = writeln!(out, "{} {}", style.paint("33", "warning:"), terminal(w));
    }
    let s = &report.summary;
    if s.changes == 0 {
        let _ = writeln!(out, "No differences ({}).", report.to.fingerprint);
        return out;
    }
    let _ = writeln!(
        out,
        "{} change{}: {} critical, {} warning, {} info",
        s.changes,
        if s.changes == 1 { "" } else { "s" },
        s.critical,
        s.warning,
        s.info
    );
    let mut last_schema: Option<String> = None;
    for (top, changes) in by_top_object(&report.changes) {
        let schema = changes[0]
            .object
            .schema
            .clone()
            .unwrap_or_else(|| "(database)".into());
        if last_schema.as_ref() != Some(&schema) {
            let _ = writeln!(
                out,
                "\n{}",
                style.paint("1", &format!("schema {}", terminal(&schema)))
            );
            last_schema = Some(schema);
        }
        let _ = writeln!(out, "  {}", style.paint("1", &top_label(&top)));
        for c in &changes {
            let line = terminal(&c.summary()).into_owned();
            let painted = match line.chars().next() {
                Some('+') => style.paint("32", &line),
                Some('-') => style.paint("31", &line),
                _ => style.paint("36", &line),
            };
            let _ = writeln!(
                out,
                "    {painted}  {}  {}",
                severity_tag(style, c.severity),
                style.paint("2", &c.code.to_string())
            );
        }
        if let Some(diff) = object_diff(from, to, &top) {
            out.push_str(&paint_diff(style, &diff, "      "));
        }
    }
    out
}
