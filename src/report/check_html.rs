//! The HTML rendering of check reports: one self-contained page (inline
//! CSS, no script, no external resource), readable on a phone. Everything
//! that comes from a database or a file is escaped.

use super::check::{CheckReport, Finding};
use super::check_text::{context, headline};
use crate::diff::Severity;
use crate::escape::{html as escape_html, html_block};
use crate::report::ScanResult;
use std::fmt::Write as _;

const CSS: &str = "body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:0;padding:12px;color:#1b1f24;background:#fff;line-height:1.4}\
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.1em;margin:20px 0 6px}\
.ctx{color:#57606a;font-size:.9em;margin:0 0 8px}\
.head{padding:8px 10px;border-radius:6px;font-weight:600;margin:8px 0}\
.clean{background:#dafbe1;color:#116329}.drift,.failed{background:#ffebe9;color:#a40e26}\
.notice,.recorded,.migration-in-progress{background:#fff8c5;color:#7d4e00}\
table{border-collapse:collapse;width:100%;font-size:.9em}\
th,td{border-bottom:1px solid #d0d7de;padding:6px 4px;text-align:left;vertical-align:top;word-break:break-word}\
.sev{font-weight:600;white-space:nowrap}.critical{color:#a40e26}.warning{color:#9a6700}.info{color:#57606a}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}\
pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:.8em;margin:4px 0}\
.add{color:#116329;background:#dafbe1;display:block}.del{color:#a40e26;background:#ffebe9;display:block}\
.hint{color:#57606a;font-size:.85em}.warn{color:#9a6700}h1,.ctx,.head,.warn{overflow-wrap:anywhere}\
@media (max-width:640px){thead{display:none}table,tbody,tr,td{display:block}\
tr{border-bottom:1px solid #d0d7de;padding:6px 0}td{border:0;padding:2px 0}tr.finding td:last-child::before{content:\"since \"}}";

fn severity_class(s: Severity) -> &'static str {
    crate::util::Named::name(s)
}

fn diff_html(diff: &str) -> String {
    let mut out = String::from("<pre>");
    for line in super::diff_lines(diff) {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            None
        } else if line.starts_with('+') {
            Some("add")
        } else if line.starts_with('-') {
            Some("del")
        } else {
            None
        };
        match class {
            Some(c) => {
                let _ = write!(out, "<span class=\"{c}\">{}</span>", html_block(line));
            }
            None => {
                let _ = writeln!(out, "{}", html_block(line));
            }
        }
    }
    out.push_str("</pre>");
    out
}

fn finding_row(out: &mut String, f: &Finding) {
    let sev = severity_class(f.severity);
    let object = match (&f.object, &f.migration) {
        (Some(o), _) => format!("{} {}", o.kind.as_str(), o.name),
        (None, Some(m)) => m.file.clone().unwrap_or_else(|| m.label()),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<tr class=\"finding\" data-code=\"{code}\"><td class=\"sev {sev}\">{sev}</td><td><code>{code}</code><br>{object}</td><td>{message}<div class=\"hint\">{hint}</div>",
        code = escape_html(&f.code.to_string()),
        object = escape_html(&object),
        message = escape_html(&f.message),
        hint = escape_html(&f.hint),
    );
    let _ = write!(
        out,
        "</td><td>{}</td><td>{}</td></tr>",
        escape_html(
            &f.attribution
                .as_ref()
                .map(|a| a.label())
                .unwrap_or_default()
        ),
        escape_html(&f.since)
    );
    // The DDL diff gets a row of its own across the table: inside a cell it
    // squeezed the other columns.
    if let Some(ddl) = &f.ddl {
        let _ = write!(
            out,
            "<tr class=\"ddl\"><td colspan=\"5\">{}</td></tr>",
            diff_html(ddl)
        );
    }
}

fn section(out: &mut String, r: &CheckReport) {
    let _ = write!(
        out,
        "<section class=\"target\"><h1>{}</h1><p class=\"ctx\">{} · {}</p>",
        escape_html(&r.target),
        escape_html(&r.url),
        escape_html(&r.time)
    );
    let ctx = context(r);
    if !ctx.is_empty() {
        let _ = write!(
            out,
            "<p class=\"ctx\">{}</p>",
            escape_html(&ctx.join(" · "))
        );
    }
    let _ = write!(
        out,
        "<div class=\"head {}\">{}</div>",
        r.result.as_str(),
        escape_html(&headline(r))
    );
    for w in &r.warnings {
        let _ = write!(out, "<p class=\"warn\">warning: {}</p>", escape_html(w));
    }
    if !r.findings.is_empty() {
        out.push_str("<table><thead><tr><th>severity</th><th>finding</th><th>what</th><th>attribution</th><th>since</th></tr></thead><tbody>");
        for f in &r.findings {
            finding_row(out, f);
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

/// Renders one page for `reports`.
pub fn render_check_html(reports: &[CheckReport]) -> String {
    let title = match reports {
        [one] => format!("driftwatch: {} {}", one.target, one.result.as_str()),
        many => format!(
            "driftwatch: {} targets, {} with drift",
            many.len(),
            many.iter()
                .filter(|r| r.result == ScanResult::Drift)
                .count()
        ),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>{}</title><style>{CSS}</style></head><body>",
        escape_html(&title)
    );
    for r in reports {
        section(&mut out, r);
    }
    out.push_str("</body></html>\n");
    out
}
