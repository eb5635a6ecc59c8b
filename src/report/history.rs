//! Text rendering of a migration history (`driftwatch history`).

use crate::escape::terminal;
use crate::history::{FileComparison, FileStatus, History};

/// A header naming the tool and table, then one aligned line per row:
/// version, applied at, status, description, checksum; with `files`, the
/// status says how each row stands against its file, and pending files
/// follow.
pub fn render_history_text(history: &History, files: Option<&FileComparison>) -> String {
    let mut out = format!(
        "{} history in {}: {} row{}\n",
        history.tool.as_str(),
        terminal(&history.table),
        history.migrations.len(),
        if history.migrations.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if history.tool.keeps_only_current() {
        out.push_str("(this tool keeps only the current version, not every applied migration)\n");
    }
    let rows: Vec<[String; 5]> = history
        .migrations
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let file = files.and_then(|f| f.rows.get(i)).map(|s| match s {
                FileStatus::Ok | FileStatus::NoFileExpected | FileStatus::Failed => "",
                FileStatus::ChecksumChanged => ", file changed since",
                FileStatus::MissingFile => ", no file",
                FileStatus::Outdated => ", outdated, will re-run",
                FileStatus::NonSqlMigration => ", applied by a non-SQL migration",
                FileStatus::RolledBack => ", set aside (migrate resolve --rolled-back)",
            });
            let status = if m.kind == "ROLLED_BACK" {
                "rolled back".to_string()
            } else if !m.success {
                "FAILED".to_string()
            } else if m.kind == "SQL" {
                "ok".to_string()
            } else {
                m.kind.to_lowercase()
            };
            // Every cell is text from the history table: escaped before
            // the widths are measured.
            [
                m.version.clone().unwrap_or_else(|| "(repeatable)".into()),
                m.applied_at.clone().unwrap_or_else(|| "-".into()),
                format!("{status}{}", file.unwrap_or_default()),
                m.description.clone(),
                m.checksum.clone().unwrap_or_default(),
            ]
            .map(|cell| terminal(&cell).into_owned())
        })
        .collect();
    let header = ["VERSION", "APPLIED AT", "STATUS", "DESCRIPTION", "CHECKSUM"].map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for path in files.map(|f| f.pending.as_slice()).unwrap_or_default() {
        out.push_str(&format!("pending: {}\n", terminal(path)));
    }
    out
}
