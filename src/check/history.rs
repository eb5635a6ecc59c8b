//! History findings: the history table against the migration files, in
//! Flyway's vocabulary where it has one. Pure.

use crate::history::{compare, compares_with_files, file_for, FileStatus, History};
use crate::migrations::{compare_versions, MigrationKind, MigrationSet};
use crate::report::{Finding, FindingCode, HistoryCode, MigrationName};

/// What the history says.
#[derive(Debug, Clone)]
pub struct HistoryReading {
    /// Its findings (since = the scan's time; set later).
    pub findings: Vec<Finding>,
    /// The newest successfully applied version; None when nothing was
    /// applied or the newest attempt failed.
    pub applied_version: Option<String>,
    /// The history names no file at all: the expected state cannot be read
    /// from this directory.
    pub matches_no_file: bool,
}

fn finding(
    code: HistoryCode,
    migration: MigrationName,
    message: String,
    hint: &str,
    now: &str,
) -> Finding {
    Finding {
        code: FindingCode::History(code),
        severity: code.severity(),
        object: None,
        migration: Some(migration),
        message,
        attribution: None,
        since: now.to_string(),
        hint: hint.to_string(),
        attribute: None,
        expected: serde_json::Value::Null,
        actual: serde_json::Value::Null,
        ddl: None,
    }
}

/// Reads `history` against `set` (when the target has migration files).
pub fn read(history: &History, set: Option<&MigrationSet>, now: &str) -> HistoryReading {
    let rows = &history.migrations;
    let tool = history.tool;
    let name_of = |i: usize| MigrationName {
        version: rows[i].version.clone(),
        description: rows[i].description.clone(),
        file: None,
    };
    let mut findings = Vec::new();
    let failed_row = |i: usize| !rows[i].success;
    // The newest applied version (tools that keep only the current one:
    // it, unless dirty).
    let applied_version = rows
        .iter()
        .filter(|r| r.success && r.version.is_some() && !r.kind.contains("UNDO"))
        .filter_map(|r| r.version.clone())
        .max_by(|a, b| compare_versions(a, b));
    let newest_failed = rows
        .iter()
        .rev()
        .find(|r| r.version.is_some())
        .is_some_and(|r| !r.success);
    let applied_version = if newest_failed && tool.keeps_only_current() {
        None
    } else {
        applied_version
    };

    let Some(set) = set.filter(|_| compares_with_files(tool)) else {
        for i in (0..rows.len()).filter(|&i| failed_row(i)) {
            findings.push(finding(
                HistoryCode::Failed,
                name_of(i),
                format!("migration {} is recorded as failed", name_of(i).label()),
                "repair the failed migration with your migration tool, then run it again",
                now,
            ));
        }
        return HistoryReading {
            findings,
            applied_version,
            matches_no_file: false,
        };
    };

    let cmp = compare(tool, rows, set);
    // A row's migration with the file it names, when the directory has it.
    let with_file = |i: usize| MigrationName {
        file: file_for(set, &rows[i]).map(|m| m.path.display().to_string()),
        ..name_of(i)
    };
    let versioned_rows: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].version.is_some() && cmp.rows[i] != FileStatus::NoFileExpected)
        .filter(|&i| {
            !matches!(
                cmp.rows[i],
                FileStatus::NonSqlMigration | FileStatus::RolledBack
            )
        })
        .collect();
    let missing = versioned_rows
        .iter()
        .filter(|&&i| cmp.rows[i] == FileStatus::MissingFile)
        .count();
    if !versioned_rows.is_empty() && missing == versioned_rows.len() && !set.migrations.is_empty() {
        let versions: Vec<String> = versioned_rows
            .iter()
            .filter_map(|&i| rows[i].version.clone())
            .take(3)
            .collect();
        findings.push(finding(
                HistoryCode::HistoryMatchesNoFile,
                MigrationName {
                    version: None,
                    description: String::new(),
                    file: Some(set.dir.display().to_string()),
                },
                format!(
                    "none of the {} applied versions ({}{}) has a file in {}: is this the target's migration directory?",
                    versioned_rows.len(),
                    versions.join(", "),
                    if versioned_rows.len() > 3 { ", …" } else { "" },
                    set.dir.display()
                ),
                "point the target's migrations at the directory its tool applies",
                now,
        ));
        return HistoryReading {
            findings,
            applied_version,
            matches_no_file: true,
        };
    }

    let newest_file = set
        .migrations
        .iter()
        .filter_map(|m| m.version.as_deref())
        .max_by(|a, b| compare_versions(a, b));
    for (i, status) in cmp.rows.iter().enumerate() {
        let name = with_file(i);
        let label = name.label();
        let (code, message, hint) = match status {
            FileStatus::ChecksumChanged => (
                HistoryCode::ChecksumChanged,
                format!("migration {label} was edited after it was applied (checksum {} applied, {} now)",
                    rows[i].checksum.clone().unwrap_or_default(),
                    file_for(set, &rows[i]).map(|m| m.checksum.as_str()).unwrap_or_default()),
                "restore the applied file from version control and put the change in a new migration",
            ),
            FileStatus::MissingFile => {
                let future = match (&rows[i].version, newest_file) {
                    (Some(v), Some(newest)) => compare_versions(v, newest).is_gt(),
                    (Some(_), None) => true,
                    _ => false,
                };
                if future {
                    (
                        HistoryCode::Future,
                        format!("migration {label} is applied but newer than every file: the directory is behind the database"),
                        "update the migration directory (pull the newest migrations)",
                    )
                } else {
                    (
                        HistoryCode::AppliedMissing,
                        format!("migration {label} is applied but its file is gone"),
                        "restore the file from version control (or, if it was removed on purpose, repair the history with the tool)",
                    )
                }
            }
            FileStatus::Failed => (
                HistoryCode::Failed,
                format!("migration {label} failed part-way (the history is dirty)"),
                "fix the schema by hand, then mark the version with the tool (golang-migrate: migrate force VERSION)",
            ),
            FileStatus::Outdated => (
                HistoryCode::OutdatedRepeatable,
                format!("repeatable migration {} changed since it last ran", rows[i].description),
                "it runs again on the next migrate",
            ),
            FileStatus::Ok if failed_row(i) => (
                HistoryCode::Failed,
                format!("migration {label} is recorded as failed"),
                "repair the failed migration with your migration tool, then run it again",
            ),
            _ => continue,
        };
        findings.push(finding(code, name, message, hint, now));
    }

    // Out of order: applied after a higher version (history order).
    let mut highest: Option<&str> = None;
    for &i in &versioned_rows {
        let Some(v) = rows[i].version.as_deref() else {
            continue;
        };
        if !rows[i].success {
            continue;
        }
        match highest {
            Some(h) if compare_versions(v, h).is_lt() => {
                let name = with_file(i);
                let message = format!(
                    "migration {} was applied after {h}, a higher version",
                    name.label()
                );
                findings.push(finding(
                    HistoryCode::OutOfOrder,
                    name,
                    message,
                    "fine when intended (Flyway -outOfOrder); other databases may have applied them in another order",
                    now,
                ));
            }
            _ => highest = Some(v),
        }
    }

    for path in &cmp.pending {
        let m = set
            .migrations
            .iter()
            .find(|m| m.path.display().to_string() == *path);
        if m.is_some_and(|m| m.kind == MigrationKind::Repeatable) {
            continue;
        }
        let name = MigrationName {
            version: m.and_then(|m| m.version.clone()),
            description: m.map(|m| m.description.clone()).unwrap_or_default(),
            file: Some(path.clone()),
        };
        findings.push(finding(
            HistoryCode::Pending,
            name.clone(),
            format!("migration {} is not applied yet", name.label()),
            "not drift: your migration tool applies it on its next run",
            now,
        ));
    }
    HistoryReading {
        findings,
        applied_version,
        matches_no_file: false,
    }
}
