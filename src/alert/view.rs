//! The words of an alert: its subject, a plain-text part and an HTML part
//! for email, and the one-line summary webhooks carry. Data in, strings
//! out. The HTML is written for mail clients: inline styles only (most
//! strip `<style>`), tables for layout, no script, no image, everything
//! from a database escaped, and nothing wider than a phone's screen.

use super::AlertKind;
use crate::diff::Severity;
use crate::escape::{html as escape_html, html_block, terminal};
use crate::report::text::{paint_diff, Style};
use crate::report::{CheckReport, Finding, FindingCode};
use crate::util::Named;
use std::fmt::Write as _;

/// What one alert says: the scan, which findings it is about, what
/// changed since the previous message.
#[derive(Debug, Clone)]
pub struct AlertView<'a> {
    /// The scan that caused it.
    pub report: &'a CheckReport,
    /// The kind of message.
    pub kind: AlertKind,
    /// The findings it is about (drift at or above the target's minimum
    /// severity), in report order.
    pub findings: Vec<&'a Finding>,
    /// Ids of those the previous message did not have.
    pub new_findings: &'a [String],
    /// Ids the previous message had that are gone.
    pub gone_findings: &'a [String],
    /// Failed scans in a row (scan failing).
    pub failures: u32,
    /// When the drift was first seen (the oldest `since`), for reminders.
    pub drift_since: Option<String>,
    /// Where the full report is (a path in the store).
    pub report_path: Option<String>,
}

impl AlertView<'_> {
    /// "2 critical, 1 warning" over the alerted findings.
    fn counts(&self) -> String {
        let parts: Vec<String> = [Severity::Critical, Severity::Warning, Severity::Info]
            .into_iter()
            .filter_map(|s| {
                let n = self.findings.iter().filter(|f| f.severity == s).count();
                (n > 0).then(|| format!("{n} {}", s.name()))
            })
            .collect();
        parts.join(", ")
    }

    /// True when the scan recorded the live schema instead of comparing it
    /// (a first scan without replayable migrations): its findings are the
    /// history's, and no schema drift was looked for.
    fn not_compared(&self) -> bool {
        self.report.result == crate::report::ScanResult::Recorded
    }

    /// The subject line (a header: one line, control characters visible).
    pub fn subject(&self) -> String {
        let t = terminal(&self.report.target);
        if self.not_compared() && self.kind == AlertKind::Drift {
            return format!(
                "[driftwatch] {t}: {} in the migration history (schema not compared)",
                self.counts()
            );
        }
        match self.kind {
            AlertKind::Drift => format!("[driftwatch] {t}: {} schema drift", self.counts()),
            AlertKind::Reminder => {
                format!(
                    "[driftwatch] {t}: {} schema drift (reminder)",
                    self.counts()
                )
            }
            AlertKind::Resolved => format!("[driftwatch] {t}: schema drift resolved"),
            AlertKind::ScanFailing => format!("[driftwatch] {t}: scan failing"),
            AlertKind::Recovered => format!("[driftwatch] {t}: scan recovered"),
        }
    }

    /// One sentence saying what happened.
    pub fn headline(&self) -> String {
        let t = terminal(&self.report.target);
        if self.not_compared() && self.kind == AlertKind::Drift {
            return format!(
                "{t}: nothing compared: the first scan recorded the live schema as the accepted state; the migration history has {}.",
                self.counts()
            );
        }
        match self.kind {
            AlertKind::Drift => {
                let new = self.new_findings.len();
                let schema_drift = self
                    .findings
                    .iter()
                    .any(|f| matches!(f.code, FindingCode::Schema(_)));
                let mut s = if schema_drift {
                    format!(
                        "{t}: the live schema differs from {} ({}).",
                        self.report.compared_with(),
                        self.counts()
                    )
                } else {
                    format!("{t}: the migration history has {}.", self.counts())
                };
                if new > 0 && new < self.findings.len() {
                    let _ = write!(s, " {new} new since the last alert.");
                }
                if !self.gone_findings.is_empty() {
                    let _ = write!(s, " {} fixed since.", self.gone_findings.len());
                }
                s
            }
            AlertKind::Reminder => format!(
                "{t}: the same schema drift is still there{} ({}).",
                self.drift_since
                    .as_deref()
                    .map(|s| format!(" since {s}"))
                    .unwrap_or_default(),
                self.counts()
            ),
            AlertKind::Resolved => format!(
                "{t}: the live schema matches {} again ({} finding{} gone).",
                self.report.compared_with(),
                self.gone_findings.len(),
                if self.gone_findings.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
            AlertKind::ScanFailing => format!(
                "{t}: the last {} scans failed: drift cannot be seen until this is fixed.",
                self.failures
            ),
            AlertKind::Recovered => {
                format!("{t}: scans work again after {} failed.", self.failures)
            }
        }
    }

    /// A short text for chat (the webhook's `text`): headline and the first
    /// findings.
    pub fn chat_text(&self) -> String {
        let mut s = self.headline();
        for f in self.findings.iter().take(10) {
            let _ = write!(s, "\n• {} {}", f.severity.name(), terminal(&f.message));
        }
        if self.findings.len() > 10 {
            let _ = write!(s, "\n• … and {} more", self.findings.len() - 10);
        }
        if let Some(p) = &self.report_path {
            let _ = write!(s, "\nFull report: {}", terminal(p));
        }
        s
    }

    fn is_new(&self, f: &Finding) -> bool {
        self.kind == AlertKind::Drift && self.new_findings.contains(&f.id())
    }

    fn footer_lines(&self) -> Vec<String> {
        let r = self.report;
        let mut lines = vec![format!("Scan: {} at {}", r.url, r.time)];
        if self.not_compared() {
            lines.push(
                "Nothing was compared: to compare with a source of truth, give the target the SQL migrations its tool applies (migrations = DIR), or accept the live schema with driftwatch baseline --reason.".into(),
            );
        }
        if let Some(e) = &r.error {
            lines.push(format!("Error: {e}"));
        }
        if let Some(p) = &self.report_path {
            lines.push(format!("Full report: {p}"));
        }
        lines.push(format!(
            "Where it stands: driftwatch status --target {}",
            r.target
        ));
        lines
    }

    /// The plain-text part.
    pub fn text(&self) -> String {
        let mut out = self.headline();
        out.push_str("\n\n");
        for f in &self.findings {
            let _ = writeln!(
                out,
                "{}{} {}",
                if self.is_new(f) { "[new] " } else { "" },
                f.severity.name().to_uppercase(),
                terminal(&f.message)
            );
            if let Some(a) = &f.attribution {
                let _ = writeln!(out, "    {}", terminal(&a.label()));
            }
            let _ = writeln!(out, "    since {}", terminal(&f.since));
            if let Some(d) = &f.ddl {
                out.push_str(&paint_diff(Style::Plain, d, "    "));
            }
            out.push('\n');
        }
        for id in self.gone_findings {
            let _ = writeln!(out, "[fixed] {}", terminal(&describe_id(id)));
        }
        if !self.gone_findings.is_empty() {
            out.push('\n');
        }
        for l in self.footer_lines() {
            out.push_str(&terminal(&l));
            out.push('\n');
        }
        out
    }

    /// The HTML part.
    pub fn html(&self) -> String {
        let e = escape_html;
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{}</title></head>\
             <body style=\"margin:0;padding:0;background:#f4f4f5\">\
             <div style=\"max-width:640px;margin:0 auto;padding:12px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;color:#18181b\">\
             <p class=\"headline\" style=\"margin:0 0 12px;padding:10px 12px;border-radius:6px;font-weight:600;overflow-wrap:anywhere;{}\">{}</p>",
            e(&self.subject()),
            match self.kind {
                AlertKind::Drift | AlertKind::Reminder | AlertKind::ScanFailing =>
                    "background:#fee2e2;color:#991b1b",
                AlertKind::Resolved | AlertKind::Recovered => "background:#dcfce7;color:#166534",
            },
            e(&self.headline())
        );
        if !self.findings.is_empty() {
            o.push_str(&self.summary_table());
        }
        for f in &self.findings {
            o.push_str(&self.finding_html(f));
        }
        if !self.gone_findings.is_empty() {
            o.push_str("<p style=\"margin:12px 0 4px;font-weight:600\">Fixed since the last alert</p><ul style=\"margin:0;padding-left:20px\">");
            for id in self.gone_findings {
                let _ = write!(
                    o,
                    "<li class=\"gone\" style=\"overflow-wrap:anywhere\">{}</li>",
                    e(&describe_id(id))
                );
            }
            o.push_str("</ul>");
        }
        o.push_str("<div style=\"margin-top:16px;padding-top:8px;border-top:1px solid #d4d4d8;font-size:13px;color:#52525b\">");
        for l in self.footer_lines() {
            let _ = write!(
                o,
                "<p style=\"margin:2px 0;overflow-wrap:anywhere\">{}</p>",
                e(&l)
            );
        }
        o.push_str("</div></div></body></html>\n");
        o
    }

    fn summary_table(&self) -> String {
        let cell = "padding:6px 8px;border:1px solid #e4e4e7;text-align:center";
        let mut o = String::from(
            "<table class=\"summary\" role=\"presentation\" style=\"border-collapse:collapse;width:100%;background:#fff;margin:0 0 8px;font-size:14px\"><tr>",
        );
        let new = self.findings.iter().filter(|f| self.is_new(f)).count();
        let mut columns: Vec<(String, usize, &str)> =
            [Severity::Critical, Severity::Warning, Severity::Info]
                .into_iter()
                .map(|s| {
                    (
                        s.name().to_string(),
                        self.findings.iter().filter(|f| f.severity == s).count(),
                        severity_color(s),
                    )
                })
                .filter(|(_, n, _)| *n > 0)
                .collect();
        if self.kind == AlertKind::Drift {
            columns.push(("new".into(), new, "#1d4ed8"));
        }
        for (name, n, color) in &columns {
            let _ = write!(
                o,
                "<td style=\"{cell}\"><div style=\"font-size:20px;font-weight:700;color:{color}\">{n}</div><div style=\"color:#52525b\">{name}</div></td>"
            );
        }
        o.push_str("</tr></table>");
        o
    }

    fn finding_html(&self, f: &Finding) -> String {
        let e = escape_html;
        let color = severity_color(f.severity);
        let object = match (&f.object, &f.migration) {
            (Some(o), _) => format!("{} {}", o.kind.as_str(), o.name),
            (None, Some(m)) => m.file.clone().unwrap_or_else(|| m.label()),
            _ => f.code.to_string(),
        };
        let mut o = format!(
            "<div class=\"finding\" data-severity=\"{}\" style=\"background:#fff;border:1px solid #e4e4e7;border-left:4px solid {color};border-radius:6px;padding:10px 12px;margin:10px 0\">\
             <div style=\"margin:0 0 4px\"><span style=\"display:inline-block;padding:1px 6px;border-radius:4px;font-size:12px;font-weight:700;color:#fff;background:{color}\">{}</span>",
            f.severity.name(),
            f.severity.name().to_uppercase()
        );
        if self.is_new(f) {
            o.push_str(" <span class=\"new\" style=\"display:inline-block;padding:1px 6px;border-radius:4px;font-size:12px;font-weight:700;color:#1d4ed8;border:1px solid #1d4ed8\">NEW</span>");
        }
        let _ = write!(
            o,
            " <span style=\"font-size:12px;color:#52525b\">{}</span></div>\
             <div class=\"object\" style=\"font-weight:600;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px;overflow-wrap:anywhere\">{}</div>\
             <div class=\"message\" style=\"margin:2px 0 6px;overflow-wrap:anywhere\">{}</div>\
             <table role=\"presentation\" style=\"border-collapse:collapse;font-size:13px;color:#3f3f46;width:100%\">",
            e(&f.code.to_string()),
            e(&object),
            e(&f.message)
        );
        let mut row = |k: &str, v: &str| {
            let _ = write!(
                o,
                "<tr><td style=\"padding:1px 8px 1px 0;width:1%;color:#71717a;white-space:nowrap;vertical-align:top\">{k}</td><td class=\"{}\" style=\"padding:1px 0;overflow-wrap:anywhere\">{}</td></tr>",
                k.to_lowercase(),
                e(v)
            );
        };
        if let Some(a) = &f.attribution {
            row("Attribution", &a.label());
        }
        row("Since", &f.since);
        o.push_str("</table>");
        if let Some(d) = &f.ddl {
            o.push_str(&diff_html(d));
        }
        o.push_str("</div>");
        o
    }
}

/// A finding id (`code kind:name`) as people read it: `kind name (code)`.
fn describe_id(id: &str) -> String {
    match id.split_once(' ') {
        Some((code, what)) => match what.split_once(':') {
            // Only the kind is kebab-cased (`materialized-view`); the
            // object's name stays as it is.
            Some((kind, name)) => format!("{} {name} ({code})", kind.replace('-', " ")),
            None => format!("{what} ({code})"),
        },
        None => id.to_string(),
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b91c1c",
        Severity::Warning => "#b45309",
        Severity::Info => "#52525b",
    }
}

/// A unified diff with added lines green and removed ones red. On a narrow
/// screen a line wraps at token boundaries (spaces, and [`token_breaks`]),
/// never inside a name: `task_` / `id` on a phone reads as two names. A
/// single token wider than the screen scrolls inside its block.
fn diff_html(diff: &str) -> String {
    let mut out = String::from(
        "<pre class=\"ddl\" style=\"margin:8px 0 0;padding:6px;background:#fafafa;border:1px solid #e4e4e7;border-radius:4px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;line-height:1.35;white-space:pre-wrap;overflow-wrap:normal;word-break:normal;overflow-x:auto\">",
    );
    for line in crate::report::diff_lines(diff) {
        let style = if line.starts_with("+++") || line.starts_with("---") || line.starts_with("@@")
        {
            "color:#71717a"
        } else if line.starts_with('+') {
            "background:#dcfce7;color:#166534"
        } else if line.starts_with('-') {
            "background:#fee2e2;color:#991b1b"
        } else {
            "color:#3f3f46"
        };
        let class = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => " class=\"add\"",
            Some(b'-') if !line.starts_with("---") => " class=\"del\"",
            _ => "",
        };
        let _ = write!(
            out,
            "<span{class} style=\"display:block;{style}\">{}</span>",
            if line.is_empty() {
                "&nbsp;".to_string()
            } else {
                token_breaks(&html_block(line))
            }
        );
    }
    out.push_str("</pre>");
    out
}

/// `escaped` (HTML-escaped text) with a break opportunity (`<wbr>`) after
/// each `,` `.` `(` and the URL separators `/` `?` `@` `=`: between the
/// parts of `schema.table`, the items of a list, a call's arguments and the
/// parts of the `+++ live postgres://…` header, where a reader expects a
/// line to break. Escaped text holds no `<`, and an entity (`&lt;`,
/// `&#x1b;`) holds none of these.
fn token_breaks(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + escaped.len() / 8);
    for c in escaped.chars() {
        out.push(c);
        if matches!(c, ',' | '.' | '(' | '/' | '?' | '@' | '=') {
            out.push_str("<wbr>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{ChangeCode, ObjectKind, ObjectRef};
    use crate::report::ScanResult;
    use crate::report::{Attribution, FindingCode, MigrationName};

    /// A message of `kind` about all of `r`'s findings, none marked new or
    /// gone, no report path.
    fn plain_view(r: &CheckReport, kind: AlertKind) -> AlertView<'_> {
        AlertView {
            report: r,
            kind,
            findings: r.findings.iter().collect(),
            new_findings: &[],
            gone_findings: &[],
            failures: 0,
            drift_since: None,
            report_path: None,
        }
    }

    fn report() -> CheckReport {
        let finding = |kind, name: &str, severity, attribution, ddl: Option<&str>| Finding {
            code: FindingCode::Schema(ChangeCode::Added(kind)),
            severity,
            object: Some(ObjectRef {
                kind,
                schema: Some("shop".into()),
                name: name.into(),
                parent: None,
            }),
            migration: None,
            message: format!("+ {} {name} added", kind.as_str()),
            attribution: Some(attribution),
            since: "2026-12-01T09:00:00Z".into(),
            hint: String::new(),
            attribute: None,
            expected: serde_json::Value::Null,
            actual: serde_json::Value::Null,
            ddl: ddl.map(str::to_string),
        };
        let findings = vec![
            finding(
                ObjectKind::Index,
                "shop.orders.by_hand",
                Severity::Warning,
                Attribution::OutOfBand,
                Some("--- expected\n+++ live\n@@ -1 +1,2 @@\n CREATE TABLE shop.orders (…);\n+CREATE INDEX by_hand ON shop.orders (status);\n"),
            ),
            finding(
                ObjectKind::Table,
                "shop.<script>x</script>",
                Severity::Critical,
                Attribution::Migration {
                    migration: MigrationName {
                        version: Some("3".into()),
                        description: "order total".into(),
                        file: None,
                    },
                },
                None,
            ),
        ];
        CheckReport {
            format: crate::report::CHECK_FORMAT,
            target: "shop".into(),
            url: "postgres://scanner@db.internal/shop".into(),
            time: "2026-12-01T10:00:00Z".into(),
            result: ScanResult::Drift,
            server_version: None,
            history: None,
            applied_version: None,
            expected: Some(crate::report::Expected {
                from: crate::report::ExpectedFrom::Replay,
                source: "store:shop@3:after".into(),
                fingerprint: "f".into(),
            }),
            live_fingerprint: None,
            live_capture: None,
            fail_on: Severity::Info,
            counts: CheckReport::count(&findings),
            warnings: Vec::new(),
            findings,
            error: None,
        }
    }

    /// The words of each kind of alert, pinned: subject, headline, text.
    #[test]
    fn each_kind_reads_as_intended() {
        let r = report();
        let new = vec![r.findings[1].id()];
        let gone = vec!["index-added index:shop.orders.old".to_string()];
        let mut out = String::new();
        for kind in [
            AlertKind::Drift,
            AlertKind::Reminder,
            AlertKind::Resolved,
            AlertKind::ScanFailing,
            AlertKind::Recovered,
        ] {
            let drift = matches!(kind, AlertKind::Drift | AlertKind::Reminder);
            let view = AlertView {
                report: &r,
                kind,
                findings: if drift {
                    r.findings.iter().collect()
                } else {
                    Vec::new()
                },
                new_findings: &new,
                gone_findings: if matches!(kind, AlertKind::Drift | AlertKind::Resolved) {
                    &gone
                } else {
                    &[]
                },
                failures: 3,
                drift_since: Some("2026-12-01T09:00:00Z".into()),
                report_path: Some("/var/lib/driftwatch/shop/reports/20261201T100000Z.html".into()),
            };
            out.push_str(&format!(
                "=== {}\nSubject: {}\n{}\n",
                kind.as_str(),
                view.subject(),
                view.text()
            ));
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn the_html_part_escapes_database_text_and_uses_inline_styles_only() {
        let r = report();
        let view = plain_view(&r, AlertKind::Drift);
        let html = view.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("shop.&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<style") && !html.contains("<link"));
        assert_eq!(html.matches("class=\"finding\"").count(), 2);
        assert!(html.contains("class=\"add\""), "added DDL lines are marked");
    }

    /// A target and a finding that carry header injection, terminal control
    /// and bidi characters: the subject, text and HTML show them escaped.
    #[test]
    fn subject_and_parts_show_control_characters_escaped() {
        let mut r = report();
        r.target = "shop\r\nBcc: x@evil.example\x1b[2J\u{202e}".into();
        r.findings[0].message = "+ index \x1b]8;;http://evil\x07x\x1b]8;;\x07\rHIDDEN added".into();
        r.error = Some("relation \"t\u{2066}\" \x07".into());
        let gone = vec!["table-added table:shop.a\x1bb".to_string()];
        let view = AlertView {
            report: &r,
            kind: AlertKind::Drift,
            findings: r.findings.iter().collect(),
            new_findings: &[],
            gone_findings: &gone,
            failures: 0,
            drift_since: None,
            report_path: Some("/store/shop\x1b.html".into()),
        };
        let acts = |c: char| crate::escape::is_control(c);
        let subject = view.subject();
        assert!(!subject.chars().any(acts), "{subject:?}");
        assert!(
            subject.starts_with("[driftwatch] shop\\r\\nBcc: x@evil.example\\x1b[2J\\u202e: "),
            "{subject}"
        );
        let text = view.text();
        assert!(!text.chars().any(|c| acts(c) && c != '\n'), "{text:?}");
        assert!(text.contains("\\x1b]8;;http://evil\\x07x\\x1b]8;;\\x07\\rHIDDEN"));
        assert!(
            text.contains("[fixed] table shop.a\\x1bb (table-added)"),
            "{text}"
        );
        assert!(
            text.contains("Error: relation \"t\\u2066\" \\x07"),
            "{text}"
        );
        let html = view.html();
        assert!(!html.chars().any(|c| acts(c) && c != '\n'), "{html:?}");
        assert!(html.contains("\\x1b]8;;http://evil\\x07x"), "{html}");
        let chat = view.chat_text();
        assert!(!chat.chars().any(|c| acts(c) && c != '\n'), "{chat:?}");
    }

    /// A first scan that recorded the live schema alerts only on its
    /// history findings, and says that no schema was compared.
    #[test]
    fn a_recorded_first_scan_never_reads_as_schema_drift() {
        let mut r = report();
        r.result = ScanResult::Recorded;
        r.findings.truncate(1);
        let view = plain_view(&r, AlertKind::Drift);
        assert_eq!(
            view.subject(),
            "[driftwatch] shop: 1 warning in the migration history (schema not compared)"
        );
        assert!(
            view.headline().contains("nothing compared"),
            "{}",
            view.headline()
        );
        assert!(!view.headline().contains("differs"), "{}", view.headline());
        for part in [view.text(), view.html()] {
            assert!(
                part.contains("Nothing was compared: to compare with a source of truth"),
                "{part}"
            );
            assert!(part.contains("driftwatch baseline"), "{part}");
        }
    }

    /// The headline names what the live schema was compared with: after a
    /// baseline it is the accepted baseline, not the migrations; only
    /// history findings are no schema difference at all.
    #[test]
    fn headlines_name_the_expected_state() {
        let mut r = report();
        let view = |r: &CheckReport, kind| plain_view(r, kind).headline();
        assert_eq!(
            view(&r, AlertKind::Drift),
            "shop: the live schema differs from its migrations (1 critical, 1 warning)."
        );
        r.expected.as_mut().unwrap().from = crate::report::ExpectedFrom::Baseline;
        assert_eq!(
            view(&r, AlertKind::Drift),
            "shop: the live schema differs from the accepted baseline (1 critical, 1 warning)."
        );
        assert!(view(&r, AlertKind::Resolved)
            .starts_with("shop: the live schema matches the accepted baseline again"));
        r.findings = vec![Finding {
            code: FindingCode::History(crate::report::HistoryCode::ChecksumChanged),
            object: None,
            migration: Some(MigrationName {
                version: Some("2".into()),
                description: "order lines".into(),
                file: None,
            }),
            ..r.findings[0].clone()
        }];
        assert_eq!(
            view(&r, AlertKind::Drift),
            "shop: the migration history has 1 warning."
        );
    }
}
