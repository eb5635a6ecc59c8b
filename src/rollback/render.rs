//! Renderers of a [`RollbackReport`]: text is an SQL script (what it
//! undoes, the verdict, warnings and data loss as comments, then the
//! statements), so `-o FILE` can be read and run; Markdown for a review.
//! JSON is the report serialized. Pure.

use super::{RollbackReport, Verification};
use crate::ddl::quote::comment;
use crate::escape::{markdown, markdown_code, markdown_fence};
use std::fmt::Write;

/// The report as an SQL script with its findings as comments.
pub fn render_text(r: &RollbackReport) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        // Database text (names, server messages) stays inside one comment.
        out.push_str(&comment(&text));
        out.push('\n');
    };
    line(format!(
        "driftwatch rollback of target {}: from {} back to {}",
        r.target,
        r.from.label(),
        r.to.as_ref()
            .map_or_else(|| "before every migration".to_string(), |t| t.label())
    ));
    let undone: Vec<String> = r.rolled_back.iter().map(|m| m.name.label()).collect();
    line(format!("undoes, in order: {}", undone.join("; ")));
    line(format!("verified: {}", r.verification.line()));
    for l in differences(&r.verification) {
        line(l);
    }
    for l in &r.data_loss {
        line(format!("data loss: {l}"));
    }
    for w in &r.warnings {
        line(format!("warning: {w}"));
    }
    if let Some(h) = &r.history {
        line(format!(
            "history: {}'s rollback removes from {} the row{} of version {}; afterwards {}",
            h.tool.as_str(),
            h.table,
            if h.rows_removed.len() == 1 { "" } else { "s" },
            h.rows_removed.join(", "),
            h.afterwards
        ));
    }
    for w in &r.written {
        line(format!(
            "{} {}: {}",
            match (w.written, w.appended) {
                (true, true) => "appended a -- migrate:down section to",
                (true, false) => "wrote",
                (false, _) => "not written (a down file did not verify):",
            },
            w.path,
            w.verification.line()
        ));
        for l in differences(&w.verification) {
            line(l);
        }
    }
    if r.plan.is_empty() {
        out.push_str("-- no statement: the schema is the same before and after\n");
    } else {
        out.push_str(&r.plan.to_sql());
    }
    out
}

/// The summary line of each difference, then its DDL diff, indented.
fn differences(v: &Verification) -> Vec<String> {
    match v {
        Verification::Differs { changes, ddl } => changes
            .iter()
            .map(|c| c.summary())
            .chain(ddl.iter().flat_map(|d| d.lines().map(str::to_string)))
            .map(|l| format!("  {l}"))
            .collect(),
        _ => Vec::new(),
    }
}

/// The report as Markdown: verdict, what is undone, warnings, the SQL.
pub fn render_markdown(r: &RollbackReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Rollback of {}: {} back to {}\n",
        markdown(&r.target),
        markdown(&r.from.label()),
        r.to.as_ref().map_or_else(
            || "before every migration".to_string(),
            |t| markdown(&t.label())
        )
    );
    let _ = writeln!(out, "**verified: {}**\n", markdown(&r.verification.line()));
    if let Verification::Differs { changes, ddl } = &r.verification {
        for c in changes {
            let _ = writeln!(out, "- {}", markdown(&c.summary()));
        }
        for d in ddl {
            out.push_str(&markdown_fence(d, "diff"));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Undoes, in order:\n");
    for m in &r.rolled_back {
        let _ = writeln!(
            out,
            "- {} ({})",
            markdown(&m.name.label()),
            markdown_code(&m.file)
        );
    }
    out.push('\n');
    for l in &r.data_loss {
        let _ = writeln!(out, "- **data loss:** {}", markdown(l));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "- warning: {}", markdown(w));
    }
    if let Some(h) = &r.history {
        let _ = writeln!(
            out,
            "- history: {} removes from {} the rows of version {}; afterwards {}",
            h.tool.as_str(),
            markdown_code(&h.table),
            markdown(&h.rows_removed.join(", ")),
            markdown(&h.afterwards)
        );
    }
    for w in &r.written {
        let _ = writeln!(
            out,
            "- {} {}: {}",
            if w.written { "wrote" } else { "not written:" },
            markdown_code(&w.path),
            markdown(&w.verification.line())
        );
    }
    out.push('\n');
    if !r.plan.is_empty() {
        out.push_str(&markdown_fence(&r.plan.to_sql(), "sql"));
    }
    out
}
