//! The report of `replay --verify-down`: per migration, what its down file
//! does. Data here; text and Markdown renderers below, JSON is the report
//! serialized.

use crate::escape::{markdown, terminal};
use crate::migrations::{DownCheck, DownVerdict};
use serde::Serialize;

/// One migration's down file and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct DownRow {
    /// Version; None for repeatables.
    pub version: Option<String>,
    /// Description.
    pub description: String,
    /// The verdict, its file, what differs or how it failed.
    #[serde(flatten)]
    pub check: DownCheck,
}

/// The down files of one target's migrations.
#[derive(Debug, Clone, Serialize)]
pub struct DownReport {
    /// The target.
    pub target: String,
    /// Migrations in run order (those verified).
    pub migrations: Vec<DownRow>,
}

impl DownReport {
    /// Down files that do not undo their migration.
    pub fn wrong(&self) -> usize {
        self.count(DownVerdict::is_wrong)
    }

    fn count(&self, f: impl Fn(DownVerdict) -> bool) -> usize {
        self.migrations
            .iter()
            .filter(|r| f(r.check.verdict))
            .count()
    }

    /// The closing line: how many restore, are wrong, are absent.
    pub fn summary(&self) -> String {
        let restores = self.count(|v| v == DownVerdict::Restores);
        let absent = self.count(|v| v == DownVerdict::NoDownFile);
        format!(
            "{}: {} down file{} verified: {restores} restore{}, {} wrong; {absent} migration{} without one",
            self.target,
            restores + self.wrong(),
            if restores + self.wrong() == 1 { "" } else { "s" },
            if restores == 1 { "s" } else { "" },
            self.wrong(),
            if absent == 1 { "" } else { "s" },
        )
    }
}

fn heading(r: &DownRow) -> String {
    let version = r.version.as_deref().unwrap_or("R");
    let file = r
        .check
        .file
        .as_deref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    format!(
        "{version} {}: {}{file}",
        r.description,
        r.check.verdict.as_str()
    )
}

/// A line per migration, the differences or the failure indented under
/// it, and the summary.
pub fn render_down_text(report: &DownReport) -> String {
    let mut out = String::new();
    for r in &report.migrations {
        out.push_str(&terminal(&heading(r)));
        out.push('\n');
        for line in r.check.failure.iter().chain(&r.check.differences) {
            out.push_str("    ");
            out.push_str(&terminal(line));
            out.push('\n');
        }
    }
    out.push_str(&terminal(&report.summary()));
    out.push('\n');
    out
}

/// A list item per migration, the differences or the failure nested.
pub fn render_down_markdown(report: &DownReport) -> String {
    let mut out = format!("# Down files: {}\n\n", markdown(&report.target));
    for r in &report.migrations {
        out.push_str(&format!("- {}\n", markdown(&heading(r))));
        for line in r.check.failure.iter().chain(&r.check.differences) {
            out.push_str(&format!("  - {}\n", markdown(line)));
        }
    }
    out.push_str(&format!("\n{}\n", markdown(&report.summary())));
    out
}

/// How `log` marks a migration's down file: verified, wrong (and why) or
/// absent.
pub fn down_mark(check: &DownCheck) -> String {
    match check.verdict {
        DownVerdict::Restores => "down file: verified".into(),
        DownVerdict::NoDownFile => "down file: absent".into(),
        wrong => format!("down file: wrong ({})", wrong.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: &str, verdict: DownVerdict, failure: Option<&str>) -> DownRow {
        DownRow {
            version: Some(version.into()),
            description: "add\x1b[2J index".into(),
            check: DownCheck {
                verdict,
                file: (verdict != DownVerdict::NoDownFile).then(|| format!("{version}_x.down.sql")),
                checksum: None,
                differences: if verdict == DownVerdict::LeavesDifferences {
                    vec!["index public.t.t_x_idx added".into()]
                } else {
                    Vec::new()
                },
                failure: failure.map(String::from),
            },
        }
    }

    #[test]
    fn text_names_each_verdict_and_escapes_database_text() {
        let report = DownReport {
            target: "shop".into(),
            migrations: vec![
                row("1", DownVerdict::Restores, None),
                row("2", DownVerdict::LeavesDifferences, None),
                row(
                    "3",
                    DownVerdict::Fails,
                    Some("3_x.down.sql:2: statement failed"),
                ),
                row("4", DownVerdict::NoDownFile, None),
            ],
        };
        assert_eq!(report.wrong(), 2);
        assert_eq!(
            render_down_text(&report),
            "1 add\\x1b[2J index: down restores (1_x.down.sql)\n\
             2 add\\x1b[2J index: down leaves differences (2_x.down.sql)\n    index public.t.t_x_idx added\n\
             3 add\\x1b[2J index: down fails (3_x.down.sql)\n    3_x.down.sql:2: statement failed\n\
             4 add\\x1b[2J index: no down file\n\
             shop: 3 down files verified: 1 restores, 2 wrong; 1 migration without one\n"
        );
        let md = render_down_markdown(&report);
        assert!(
            md.contains("  - index public.t.t\\_x\\_idx added\n")
                || md.contains("  - index public.t.t_x_idx added\n"),
            "{md}"
        );
        assert_eq!(
            down_mark(&report.migrations[1].check),
            "down file: wrong (down leaves differences)"
        );
        assert_eq!(
            down_mark(&report.migrations[0].check),
            "down file: verified"
        );
    }
}
