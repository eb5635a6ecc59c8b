//! Renderers of [`PreflightReport`]: text for a terminal, Markdown for a
//! pull request, one self-contained HTML page. Database text goes through
//! `escape` in every one.

use super::preflight::{PendingMigration, PendingOutcome, PreflightReport, PreflightResult};
use crate::escape;

/// One line of a hazard: `rewrites-table public.orders (~1.2M rows, 96 MB)`.
fn hazard_line(h: &super::preflight::PreflightHazard) -> String {
    let size = h
        .size
        .map(|s| format!(" ({})", s.describe()))
        .unwrap_or_default();
    format!("{} {}{size}", h.code.as_str(), h.table)
}

fn headline(r: &PreflightReport) -> String {
    let pending = r.migrations.len();
    let applied = r.applied_version.as_deref().unwrap_or("nothing");
    let what = match r.result {
        PreflightResult::Ok => "every pending migration applies and no drift survives".to_string(),
        PreflightResult::Fails => "a pending migration fails on the live schema".to_string(),
        PreflightResult::DriftSurvives => {
            "every pending migration applies, but drift survives the deploy".to_string()
        }
    };
    format!(
        "preflight {}: {} ({pending} pending after {applied}; live schema: {})",
        r.target, what, r.live
    )
}

fn failure_lines(m: &PendingMigration) -> Vec<String> {
    let mut lines = Vec::new();
    if let PendingOutcome::Fails {
        at,
        message,
        explained_by,
        ..
    } = &m.outcome
    {
        let mut line = format!("{at}: {message}");
        let reasons: Vec<String> = explained_by
            .iter()
            .map(|e| match &e.since {
                Some(since) => format!("drift since {}: {}", day(since), e.finding),
                None => format!("drift: {}", e.finding),
            })
            .collect();
        if !reasons.is_empty() {
            line.push_str(" — ");
            line.push_str(&reasons.join("; "));
        }
        lines.push(line);
    }
    lines
}

/// `2026-11-03` of an RFC 3339 time.
fn day(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

fn verdict(m: &PendingMigration) -> &'static str {
    match m.outcome {
        PendingOutcome::Applies => "applies",
        PendingOutcome::Fails { .. } => "FAILS",
        PendingOutcome::NotRun => "not run",
    }
}

/// The report for a terminal.
pub fn render_preflight_text(r: &PreflightReport) -> String {
    let t = |s: &str| escape::terminal(s).into_owned();
    let mut out = format!("{}\n", t(&headline(r)));
    if !r.drift.is_empty() {
        out.push_str(&format!("\ndrift now ({}):\n", r.drift.len()));
        for d in &r.drift {
            out.push_str(&format!("  {}\n", t(&d.finding)));
        }
    }
    for m in &r.migrations {
        let count = match m.outcome {
            PendingOutcome::Applies => format!(", {} change(s)", m.changes.len()),
            _ => String::new(),
        };
        out.push_str(&format!(
            "\n{} {}: {}{count}\n",
            t(&m.version),
            t(&m.file),
            verdict(m),
        ));
        for line in failure_lines(m) {
            out.push_str(&format!("  {}\n", t(&line)));
        }
        for c in &m.changes {
            out.push_str(&format!("  {}\n", t(c)));
        }
        for h in &m.hazards {
            out.push_str(&format!("  hazard: {}\n", t(&hazard_line(h))));
        }
        if m.locks_unmeasured {
            out.push_str("  locks not measured: it runs outside one transaction\n");
        }
    }
    match &r.surviving_drift {
        Some(s) if s.is_empty() => {
            out.push_str("\nend state: as the history says (no drift survives)\n")
        }
        Some(s) => {
            out.push_str(&format!(
                "\ndrift that survives the deploy ({}):\n",
                s.len()
            ));
            for c in s {
                out.push_str(&format!("  {}\n", t(c)));
            }
        }
        None => out.push_str("\nend state: not compared (a migration fails)\n"),
    }
    for w in &r.warnings {
        out.push_str(&format!("warning: {}\n", t(w)));
    }
    out
}

/// The report as Markdown (a pull request comment).
pub fn render_preflight_markdown(r: &PreflightReport) -> String {
    let md = escape::markdown;
    let mut out = format!("### {}\n\n", md(&headline(r)));
    if !r.migrations.is_empty() {
        out.push_str("| version | file | result | changes | hazards |\n|---|---|---|---|---|\n");
        for m in &r.migrations {
            let hazards: Vec<String> = m.hazards.iter().map(hazard_line).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                escape::markdown_cell_code(&m.version),
                escape::markdown_cell_code(&m.file),
                verdict(m),
                m.changes.len(),
                md(&hazards.join("; "))
            ));
        }
        out.push('\n');
    }
    for m in &r.migrations {
        for line in failure_lines(m) {
            out.push_str(&format!("- **fails**: {}\n", md(&line)));
        }
    }
    if !r.drift.is_empty() {
        out.push_str("\n**Drift now**\n\n");
        for d in &r.drift {
            out.push_str(&format!("- {}\n", escape::markdown_code(&d.finding)));
        }
    }
    if let Some(s) = r.surviving_drift.as_ref().filter(|s| !s.is_empty()) {
        out.push_str("\n**Drift that survives the deploy**\n\n");
        for c in s {
            out.push_str(&format!("- {}\n", escape::markdown_code(c)));
        }
    }
    for w in &r.warnings {
        out.push_str(&format!("\n> warning: {}\n", md(w)));
    }
    out
}

/// The report as one self-contained HTML page (no scripts, no network).
pub fn render_preflight_html(r: &PreflightReport) -> String {
    let h = escape::html;
    let mut body = format!("<h1>{}</h1>\n", h(&headline(r)));
    if !r.drift.is_empty() {
        body.push_str("<h2>Drift now</h2>\n<ul>\n");
        for d in &r.drift {
            body.push_str(&format!("<li>{}</li>\n", h(&d.finding)));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<h2>Pending migrations</h2>\n<table>\n<tr><th>version</th><th>file</th><th>result</th><th>changes</th><th>hazards</th></tr>\n");
    for m in &r.migrations {
        let mut detail: Vec<String> = failure_lines(m).iter().map(|l| h(l)).collect();
        detail.extend(m.changes.iter().map(|c| h(c)));
        let hazards: Vec<String> = m.hazards.iter().map(|x| h(&hazard_line(x))).collect();
        body.push_str(&format!(
            "<tr class=\"{}\"><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            verdict(m).to_ascii_lowercase().replace(' ', "-"),
            h(&m.version),
            h(&m.file),
            verdict(m),
            detail.join("<br>"),
            hazards.join("<br>")
        ));
    }
    body.push_str("</table>\n");
    if let Some(s) = r.surviving_drift.as_ref().filter(|s| !s.is_empty()) {
        body.push_str("<h2>Drift that survives the deploy</h2>\n<ul>\n");
        for c in s {
            body.push_str(&format!("<li>{}</li>\n", h(c)));
        }
        body.push_str("</ul>\n");
    }
    for w in &r.warnings {
        body.push_str(&format!("<p class=\"warning\">warning: {}</p>\n", h(w)));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>{}</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}tr.fails{{background:#fdd}}.warning{{color:#a60}}</style></head>\n<body>\n{body}</body></html>\n",
        h(&format!("driftwatch preflight {}", r.target))
    )
}
