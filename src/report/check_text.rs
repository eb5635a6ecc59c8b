//! Text and Markdown renderings of a [`CheckReport`].

use super::check::{CheckReport, Finding, FindingCode};
use super::markdown::details;
use super::text::{paint_diff, severity_tag, Style};
use crate::diff::Severity;
use crate::escape::{markdown, terminal};
use crate::report::ScanResult;
use std::fmt::Write as _;

/// The headline: `drift: 2 critical, 1 warning, 0 info`.
pub fn headline(report: &CheckReport) -> String {
    let c = &report.counts;
    let counts = format!(
        "{} critical, {} warning, {} info",
        c.critical, c.warning, c.info
    );
    // Named after what the scan compared with: a replay of the migrations
    // or an accepted baseline.
    let with = report.compared_with();
    let schema_drift = report
        .findings
        .iter()
        .any(|f| matches!(f.code, FindingCode::Schema(_)));
    match report.result {
        ScanResult::Clean => format!("clean: the live schema matches {with}"),
        ScanResult::Drift if schema_drift => {
            format!("drift: the live schema differs from {with}: {counts}")
        }
        ScanResult::Drift => format!("drift in the migration history: {counts}"),
        ScanResult::Notice => format!(
            "no drift at or above {}: {counts}",
            severity_name(report.fail_on)
        ),
        ScanResult::MigrationInProgress => "migration in progress: not compared".to_string(),
        ScanResult::Recorded => {
            "nothing compared: first scan, the live schema is recorded as the accepted state"
                .to_string()
        }
        ScanResult::Failed => format!(
            "scan failed: {}",
            report.error.as_deref().unwrap_or("unknown error")
        ),
    }
}

fn severity_name(s: Severity) -> &'static str {
    crate::util::Named::name(s)
}

/// The context line: server, history, applied version, expected state.
pub fn context(report: &CheckReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(v) = &report.server_version {
        lines.push(format!("PostgreSQL {v}"));
    }
    if let Some(h) = &report.history {
        lines.push(format!("history: {h}"));
    }
    if let Some(v) = &report.applied_version {
        lines.push(format!("applied version: {v}"));
    }
    if let Some(e) = &report.expected {
        lines.push(format!("expected state: {}", e.source));
    }
    lines
}

/// Renders the report for a terminal.
pub fn render_check_text(report: &CheckReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({}) at {}",
        style.paint("1", "driftwatch check"),
        terminal(&report.target),
        terminal(&report.url),
        terminal(&report.time)
    );
    let ctx = context(report);
    if !ctx.is_empty() {
        let _ = writeln!(out, "{}", terminal(&ctx.join(" · ")));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "{} {}", style.paint("33", "warning:"), terminal(w));
    }
    let head = terminal(&headline(report)).into_owned();
    let head = match report.result {
        ScanResult::Drift | ScanResult::Failed => style.paint("1;31", &head),
        ScanResult::Clean => style.paint("32", &head),
        ScanResult::Recorded => style.paint("1;33", &head),
        _ => head,
    };
    let _ = writeln!(out, "{head}");
    for f in &report.findings {
        out.push('\n');
        render_finding(&mut out, f, style);
    }
    out
}

fn render_finding(out: &mut String, f: &Finding, style: Style) {
    let _ = writeln!(
        out,
        "{} {} {}",
        severity_tag(style, f.severity),
        f.code,
        terminal(&f.message)
    );
    if let Some(a) = &f.attribution {
        let _ = writeln!(out, "    attribution: {}", terminal(&a.label()));
    }
    if let Some(m) = f.migration.as_ref().and_then(|m| m.file.as_ref()) {
        let _ = writeln!(out, "    file: {}", terminal(m));
    }
    let _ = writeln!(out, "    since: {}", terminal(&f.since));
    let _ = writeln!(out, "    fix: {}", terminal(&f.hint));
    if let Some(ddl) = &f.ddl {
        out.push_str(&paint_diff(style, ddl, "    "));
    }
}

/// Renders the report as Markdown (pull requests, tickets).
pub fn render_check_markdown(report: &CheckReport) -> String {
    let mut out = format!("# driftwatch check: {}\n\n", markdown(&report.target));
    let _ = writeln!(
        out,
        "**{}** ({})\n",
        markdown(&headline(report)),
        markdown(&report.time)
    );
    for line in context(report) {
        let _ = writeln!(out, "- {}", markdown(&line));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "- warning: {}", markdown(w));
    }
    if report.findings.is_empty() {
        return out;
    }
    out.push_str("\n| severity | code | finding | attribution | since |\n|---|---|---|---|---|\n");
    for f in &report.findings {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            severity_name(f.severity),
            f.code,
            markdown(&f.message),
            markdown(
                &f.attribution
                    .as_ref()
                    .map(|a| a.label())
                    .unwrap_or_default()
            ),
            markdown(&f.since)
        );
    }
    for f in report.findings.iter().filter(|f| f.ddl.is_some()) {
        let name = f
            .object
            .as_ref()
            .map(|o| o.name.as_str())
            .unwrap_or_default();
        out.push_str(&details(name, f.ddl.as_deref().unwrap_or_default()));
    }
    out
}
