//! Down files: the SQL each tool runs to undo a migration, read into the
//! forward migration it undoes, and the verdict `replay --verify-down`
//! stores for it. golang-migrate, sqlx and plain runners name it
//! `<version>_<desc>.down.sql`, dbmate keeps it in the `-- migrate:down`
//! section of the migration's own file, diesel and version folders hold a
//! `down.sql` beside `up.sql`, Flyway Teams names it `U<version>__<desc>.sql`.
//! Prisma has none.
//!
//! A down file that cannot be read (not UTF-8) does not stop reading the
//! directory: forward replay never runs it, so a junk down file must not
//! break it. It is kept in [`super::MigrationSet::unreadable_down`] and
//! refused by [`super::MigrationSet::require_readable_down`] when down files
//! are used.

use super::{names, read_utf8, Format, Migration, MigrationKind};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The SQL that undoes one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownScript {
    /// The file (for dbmate, the migration's own file).
    pub path: PathBuf,
    /// The SQL it runs.
    pub sql: String,
    /// 1-based line of the file where `sql` starts.
    pub first_line: usize,
    /// SHA-256 of `sql` in hex: a stored verdict holds for this text only.
    pub checksum: String,
    /// It asks to run outside a transaction (dbmate `transaction:false`,
    /// sqlx `-- no-transaction`).
    pub no_transaction: bool,
}

impl DownScript {
    fn new(path: PathBuf, sql: String, first_line: usize, no_transaction: bool) -> DownScript {
        let checksum = super::checksum::sha256(sql.as_bytes());
        DownScript {
            path,
            sql,
            first_line,
            checksum,
            no_transaction,
        }
    }

    /// The down script as a migration of its own, so that it is applied
    /// exactly as up files are (same splitting, transactions, routing of
    /// extension statements, file:line errors).
    pub fn as_migration(&self, up: &Migration) -> Migration {
        Migration {
            version: up.version.clone(),
            description: up.description.clone(),
            kind: MigrationKind::Down,
            path: self.path.clone(),
            sql: self.sql.clone(),
            first_line: self.first_line,
            checksum: self.checksum.clone(),
            no_transaction: self.no_transaction,
            down: None,
        }
    }
}

/// What `replay --verify-down` found for one migration's down file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DownVerdict {
    /// The down file brings the schema back to the state before the
    /// migration, and the migration applies again to the same state after.
    Restores,
    /// The down file runs but the schema differs from the state before.
    LeavesDifferences,
    /// The down file fails.
    Fails,
    /// The down file restores the state before, but the migration applied
    /// again fails or ends in another state than its first run.
    UpAgainDiffers,
    /// The migration has no down file.
    NoDownFile,
}

impl DownVerdict {
    /// True for the verdicts that make `--verify-down` exit 1.
    pub fn is_wrong(self) -> bool {
        matches!(
            self,
            DownVerdict::LeavesDifferences | DownVerdict::Fails | DownVerdict::UpAgainDiffers
        )
    }

    /// The verdict as `log` and `replay` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            DownVerdict::Restores => "down restores",
            DownVerdict::LeavesDifferences => "down leaves differences",
            DownVerdict::Fails => "down fails",
            DownVerdict::UpAgainDiffers => "up again differs",
            DownVerdict::NoDownFile => "no down file",
        }
    }
}

/// A stored verdict on a migration's down file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownCheck {
    /// The verdict.
    pub verdict: DownVerdict,
    /// The down file (None when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// [`DownScript::checksum`] of the down file verified (None when there
    /// is none): a rerun verifies again when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// What differs, one change a line as `diff` summarizes it: the state
    /// after the down file against the state before the migration (or the
    /// migration applied again against its first run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
    /// The failure as one line: file:line, the statement, the server's
    /// message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl DownCheck {
    /// True when this verdict was made for `down` (the same text, or no
    /// down file then and now).
    pub fn holds_for(&self, down: Option<&DownScript>) -> bool {
        self.checksum.as_deref() == down.map(|d| d.checksum.as_str())
    }
}

/// The `-- migrate:down` section of a dbmate file: its SQL, first line and
/// whether it asks for `transaction:false`. None when the file has no such
/// section or the section holds no statement (dbmate's template writes an
/// empty one: the author wrote no down migration).
pub(crate) fn dbmate_section(path: &Path, text: &str) -> Option<DownScript> {
    let mut offset = 0;
    let mut line_no = 0;
    let mut found = None;
    for line in text.split_inclusive('\n') {
        line_no += 1;
        offset += line.len();
        if line.trim_start().starts_with("-- migrate:down") {
            found = Some((offset, line_no + 1, line.contains("transaction:false")));
        }
    }
    let (start, first_line, no_transaction) = found?;
    // The down section runs to the end of the file, or to an up section
    // written after it.
    let rest = &text[start..];
    let mut end = rest.len();
    let mut at = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_start().starts_with("-- migrate:up") {
            end = at;
            break;
        }
        at += line.len();
    }
    let sql = &rest[..end];
    let has_statement = sql.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    });
    has_statement.then(|| {
        DownScript::new(
            path.to_path_buf(),
            sql.to_string(),
            first_line,
            no_transaction,
        )
    })
}

/// A down file read whole; its path and message when it cannot be read.
fn down_file(path: PathBuf) -> std::result::Result<DownScript, (String, String)> {
    match read_utf8(&path) {
        Ok((_, text)) => {
            let no_transaction = text
                .lines()
                .next()
                .is_some_and(|l| l.trim() == "-- no-transaction");
            Ok(DownScript::new(path, text, 1, no_transaction))
        }
        Err(Error::Input { path, message, .. }) => Err((path, message)),
        Err(other) => Err((path.display().to_string(), other.to_string())),
    }
}

/// Attaches the down files of a file-per-migration layout to `migrations`
/// (Flyway `U` files, `.down.sql` files of the same version); the files
/// that cannot be read, with their message.
pub(crate) fn attach_files(
    dir: &Path,
    format: Format,
    file_names: &[String],
    migrations: &mut [Migration],
) -> Vec<(String, String)> {
    let mut unreadable = Vec::new();
    for name in file_names {
        let Some(parsed) = names::parse(format, name) else {
            continue;
        };
        let (Some(version), MigrationKind::Undo | MigrationKind::Down) =
            (parsed.version, parsed.kind)
        else {
            continue;
        };
        let Some(m) = migrations.iter_mut().find(|m| {
            m.kind != MigrationKind::Repeatable
                && m.version
                    .as_deref()
                    .is_some_and(|v| super::same_version(v, &version))
        }) else {
            continue;
        };
        match down_file(dir.join(name)) {
            Ok(down) => m.down = Some(down),
            Err(problem) => unreadable.push(problem),
        }
    }
    unreadable
}

/// Attaches each folder's `down.sql` (diesel, version folders) to the
/// migration read from the same folder; the files that cannot be read.
pub(crate) fn attach_folders(
    format: Format,
    migrations: &mut [Migration],
) -> Vec<(String, String)> {
    let mut unreadable = Vec::new();
    if !matches!(format, Format::Diesel | Format::VersionFolders) {
        return unreadable;
    }
    for m in migrations {
        let Some(folder) = m.path.parent() else {
            continue;
        };
        let path = folder.join("down.sql");
        if !path.is_file() {
            continue;
        }
        match down_file(path) {
            Ok(down) => m.down = Some(down),
            Err(problem) => unreadable.push(problem),
        }
    }
    unreadable
}

/// The error for the first down file that cannot be read.
pub(crate) fn unreadable_error(problems: &[(String, String)]) -> Result<()> {
    match problems.first() {
        None => Ok(()),
        Some((path, message)) => Err(Error::Input {
            path: path.clone(),
            message: format!("down file {message}"),
            hint: "save it as UTF-8, or replay without --verify-down".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{checksum, read};
    use super::*;

    fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        dir
    }

    fn downs(dir: &tempfile::TempDir) -> Vec<Option<(String, usize)>> {
        read(dir.path(), None)
            .unwrap()
            .migrations
            .iter()
            .map(|m| m.down.as_ref().map(|d| (d.sql.clone(), d.first_line)))
            .collect()
    }

    #[test]
    fn golang_sqlx_and_plain_down_files_join_their_migration() {
        let golang = dir_with(&[
            ("1_a.up.sql", b"create table a ();"),
            ("1_a.down.sql", b"drop table a;"),
            ("2_b.up.sql", b"create table b ();"),
            ("3_c.down.sql", b"select 'orphan';"),
        ]);
        assert_eq!(
            downs(&golang),
            [Some(("drop table a;".to_string(), 1)), None]
        );
        let sqlx = dir_with(&[
            ("20240101000000_a.up.sql", b"create table a ();"),
            (
                "20240101000000_a.down.sql",
                b"-- no-transaction\ndrop table a;",
            ),
        ]);
        let set = read(sqlx.path(), Some(Format::Sqlx)).unwrap();
        let down = set.migrations[0].down.as_ref().unwrap();
        assert!(down.no_transaction);
        assert_eq!(
            down.checksum,
            checksum::sha256(b"-- no-transaction\ndrop table a;")
        );
        let plain = dir_with(&[
            ("001_a.up.sql", b"select 1;"),
            ("001_a.down.sql", b"select 0;"),
        ]);
        assert_eq!(downs(&plain), [Some(("select 0;".to_string(), 1))]);
    }

    #[test]
    fn flyway_undo_files_and_folder_layouts() {
        let flyway = dir_with(&[
            ("V1__a.sql", b"create table a ();"),
            ("V1_1__b.sql", b"create table b ();"),
            ("U1.1__b.sql", b"drop table b;"),
        ]);
        assert_eq!(
            downs(&flyway),
            [None, Some(("drop table b;".to_string(), 1))]
        );
        let diesel = dir_with(&[
            ("2024-01-01-000000_a/up.sql", b"create table a ();"),
            ("2024-01-01-000000_a/down.sql", b"drop table a;"),
            ("2024-01-02-000000_b/up.sql", b"create table b ();"),
        ]);
        assert_eq!(
            downs(&diesel),
            [Some(("drop table a;".to_string(), 1)), None]
        );
        let folders = dir_with(&[
            ("001_a/up.sql", b"select 1;"),
            ("001_a/down.sql", b"select 0;"),
        ]);
        let set = read(folders.path(), Some(Format::VersionFolders)).unwrap();
        assert_eq!(set.migrations[0].down.as_ref().unwrap().sql, "select 0;");
    }

    #[test]
    fn dbmate_down_section_and_unchanged_up_checksum() {
        let body = "-- migrate:up\ncreate table a ();\n\n-- migrate:down transaction:false\ndrop table a;\n";
        let empty = "-- migrate:up\ncreate table b ();\n-- migrate:down\n-- nothing\n\n";
        let dir = dir_with(&[
            ("20240101000000_a.sql", body.as_bytes()),
            ("20240102000000_b.sql", empty.as_bytes()),
        ]);
        let set = read(dir.path(), None).unwrap();
        assert_eq!(set.format, Format::Dbmate);
        let down = set.migrations[0].down.as_ref().unwrap();
        assert_eq!((down.sql.as_str(), down.first_line), ("drop table a;\n", 5));
        assert!(down.no_transaction);
        assert_eq!(set.migrations[0].sql, "create table a ();\n\n");
        assert_eq!(
            set.migrations[0].checksum,
            checksum::sha256(body.as_bytes())
        );
        assert!(
            set.migrations[1].down.is_none(),
            "an empty section is no down file"
        );
    }

    #[test]
    fn a_down_file_that_is_not_utf8_is_refused_only_when_used() {
        let dir = dir_with(&[
            ("1_a.up.sql", b"create table a ();"),
            ("1_a.down.sql", b"drop table \xe9;"),
        ]);
        let set = read(dir.path(), None).unwrap();
        assert!(set.migrations[0].down.is_none());
        assert_eq!(
            set.migrations[0].checksum,
            checksum::sha256(b"create table a ();")
        );
        let err = set.require_readable_down().unwrap_err().to_string();
        assert!(
            err.contains("1_a.down.sql: down file is not UTF-8 (invalid byte at offset 11); save it as UTF-8"),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn verdicts_hold_for_the_down_file_they_were_made_on() {
        let down = DownScript::new("1_a.down.sql".into(), "drop table a;".into(), 1, false);
        let check = DownCheck {
            verdict: DownVerdict::Restores,
            file: Some("1_a.down.sql".into()),
            checksum: Some(down.checksum.clone()),
            differences: Vec::new(),
            failure: None,
        };
        assert!(check.holds_for(Some(&down)));
        assert!(!check.holds_for(None));
        let edited = DownScript::new("1_a.down.sql".into(), "drop table b;".into(), 1, false);
        assert!(!check.holds_for(Some(&edited)));
        let json = serde_json::to_string(&check).unwrap();
        assert!(json.contains("\"verdict\":\"restores\""), "{json}");
    }
}
