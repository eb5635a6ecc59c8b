//! Applied migrations against the migration files: which applied rows have
//! their file, unchanged; which have none; which files were never applied.
//! Pure: the caller reads the table and the directory.

use super::{AppliedMigration, Tool};
use crate::migrations::{same_version, Format, Migration, MigrationKind, MigrationSet};
use serde::Serialize;

/// How an applied row stands against the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// A file has its version (and, where both sides keep one, its checksum).
    Ok,
    /// The file changed after it was applied: the checksums differ.
    ChecksumChanged,
    /// No file has its version.
    MissingFile,
    /// A baseline or marker row: no file is expected.
    NoFileExpected,
    /// A Flyway repeatable whose file changed after it ran: Flyway runs it
    /// again on the next migrate ("outdated").
    Outdated,
    /// Applied by a migration that is no SQL file (Flyway's Java/JDBC and
    /// script migrations): no file is expected in the directory.
    NonSqlMigration,
    /// golang-migrate's dirty version: it failed part-way, and the tool
    /// refuses to go on until `migrate force`.
    Failed,
    /// Prisma's `migrate resolve --rolled-back`: the attempt no longer
    /// counts; the migration is pending unless a later row applied it.
    RolledBack,
}

/// The files beside a history.
#[derive(Debug, Clone, Serialize)]
pub struct FileComparison {
    /// Per applied row, in the history's order.
    pub rows: Vec<FileStatus>,
    /// Files with a version no row has (and, for tools that keep only the
    /// current version, above it).
    pub pending: Vec<String>,
}

/// True when the tool's stored checksum is computed like the directory's.
fn same_checksums(tool: Tool, format: Format) -> bool {
    matches!(
        (tool, format),
        (Tool::Flyway, Format::Flyway)
            | (Tool::Sqlx, Format::Sqlx)
            | (Tool::Prisma, Format::Prisma)
    )
}

/// True when `stored`, the row's checksum, is `tool`'s checksum of `file`
/// (Prisma also accepts the file with other line endings, as it does).
fn checksum_matches(tool: Tool, stored: &str, file: &Migration) -> bool {
    match tool {
        Tool::Prisma => {
            *stored == file.checksum
                || crate::migrations::checksum::prisma_matches(&file.sql, stored)
        }
        _ => *stored == file.checksum,
    }
}

/// True for a row that Prisma's `migrate resolve --rolled-back` set aside.
fn rolled_back(row: &AppliedMigration) -> bool {
    row.kind == "ROLLED_BACK"
}

/// Tools whose history rows name SQL files driftwatch reads (and
/// replays): their expected state is the replay.
pub fn compares_with_files(tool: Tool) -> bool {
    matches!(
        tool,
        Tool::Flyway
            | Tool::Sqlx
            | Tool::GolangMigrate
            | Tool::Dbmate
            | Tool::Generic
            | Tool::Refinery
            | Tool::Prisma
            | Tool::Diesel
            | Tool::Driftwatch
    )
}

/// The file of `set` that an applied row names: same version
/// (numerically), or, for repeatables, same description.
pub fn file_for<'a>(set: &'a MigrationSet, row: &AppliedMigration) -> Option<&'a Migration> {
    set.migrations
        .iter()
        .find(|m| match (&m.version, &row.version) {
            (Some(v), Some(w)) => same_version(v, w),
            (None, None) => m.description == row.description,
            _ => false,
        })
}

/// Compares `rows` written by `tool` with the files of `set`.
pub fn compare(tool: Tool, rows: &[AppliedMigration], set: &MigrationSet) -> FileComparison {
    let checksums = same_checksums(tool, set.format);
    let statuses = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if row.is_baseline() || row.kind == "SCHEMA" || row.kind == "DELETE" {
                return FileStatus::NoFileExpected;
            }
            if tool == Tool::GolangMigrate && !row.success {
                return FileStatus::Failed;
            }
            if rolled_back(row) {
                return FileStatus::RolledBack;
            }
            let repeatable = row.version.is_none();
            // A repeatable runs again whenever it changes: only its last
            // row says where it stands.
            let superseded = repeatable
                && rows[i + 1..]
                    .iter()
                    .any(|r| r.version.is_none() && r.description == row.description);
            match file_for(set, row) {
                _ if superseded => FileStatus::Ok,
                None if tool == Tool::Flyway && !row.kind.contains("SQL") => {
                    FileStatus::NonSqlMigration
                }
                None => FileStatus::MissingFile,
                Some(file) => match (&row.checksum, checksums) {
                    (Some(stored), true) if !checksum_matches(tool, stored, file) => {
                        if repeatable {
                            FileStatus::Outdated
                        } else {
                            FileStatus::ChecksumChanged
                        }
                    }
                    _ => FileStatus::Ok,
                },
            }
        })
        .collect();
    // The current version of a tool that keeps only it: a dirty one too
    // (golang-migrate's failed version; files before it were applied).
    let current = rows
        .iter()
        .filter(|r| r.success || tool.keeps_only_current())
        .filter_map(|r| r.version.as_deref())
        .max_by(|a, b| crate::migrations::compare_versions(a, b));
    let after_current = |version: &str| {
        current.map_or(true, |c| {
            crate::migrations::compare_versions(version, c).is_gt()
        })
    };
    let pending = set
        .migrations
        .iter()
        .filter(|m| m.kind != MigrationKind::Repeatable)
        .filter(|m| {
            let version = m.version.as_deref().unwrap_or_default();
            if tool.keeps_only_current() {
                after_current(version)
            } else {
                !rows.iter().filter(|r| !rolled_back(r)).any(|r| {
                    r.version
                        .as_deref()
                        .is_some_and(|v| same_version(v, version))
                })
            }
        })
        .map(|m| m.path.display().to_string())
        .collect();
    FileComparison {
        rows: statuses,
        pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn row(version: &str, checksum: Option<&str>, kind: &str) -> AppliedMigration {
        AppliedMigration {
            version: Some(version.into()),
            description: String::new(),
            checksum: checksum.map(String::from),
            applied_at: None,
            success: true,
            kind: kind.into(),
        }
    }

    fn file(version: &str, checksum: &str) -> Migration {
        Migration {
            version: Some(version.into()),
            description: "x".into(),
            kind: MigrationKind::Versioned,
            path: PathBuf::from(format!("V{version}__x.sql")),
            sql: String::new(),
            first_line: 1,
            checksum: checksum.into(),
            no_transaction: false,
            down: None,
        }
    }

    #[test]
    fn rows_and_files_are_matched_by_version_and_checksum() {
        let set = MigrationSet {
            dir: PathBuf::from("m"),
            format: Format::Flyway,
            migrations: vec![file("1", "11"), file("2", "22"), file("3", "33")],
            warnings: Vec::new(),
            found: Vec::new(),
            unreadable_down: Vec::new(),
        };
        let rows = [
            row("0", None, "BASELINE"),
            row("1", Some("11"), "SQL"),
            row("2", Some("99"), "SQL"),
            row("7", Some("77"), "SQL"),
        ];
        let c = compare(Tool::Flyway, &rows, &set);
        assert_eq!(
            c.rows,
            [
                FileStatus::NoFileExpected,
                FileStatus::Ok,
                FileStatus::ChecksumChanged,
                FileStatus::MissingFile
            ]
        );
        assert_eq!(c.pending, ["V3__x.sql"]);
        // Another tool's checksums are not compared with Flyway's.
        let c = compare(Tool::Generic, &rows[1..3], &set);
        assert_eq!(c.rows, [FileStatus::Ok, FileStatus::Ok]);
        // golang-migrate keeps the current version: older files are applied.
        let c = compare(Tool::GolangMigrate, &[row("2", None, "SQL")], &set);
        assert_eq!(c.pending, ["V3__x.sql"]);
    }
}
