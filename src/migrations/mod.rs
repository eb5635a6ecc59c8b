//! Migration directories: which files are migrations in each tool's
//! layout, their versions, the order they run in, the SQL they run and
//! their checksums computed as the owning tool computes them.
//!
//! Formats: Flyway (`V1.1__x.sql`, `R__x.sql`, `B…`, `U…`), golang-migrate
//! (`1_x.up.sql`/`.down.sql`), sqlx (`<timestamp>_x.sql`, or `.up.sql`),
//! dbmate (`<version>_x.sql` with `-- migrate:up` / `-- migrate:down`
//! sections), plain numbered files (`001_x.sql`, `001_x.up.sql`), and
//! folder-per-migration layouts: diesel (`2024-01-01-000000_x/up.sql`),
//! Prisma (`20240101000000_x/migration.sql`) and version folders
//! (`001_x/up.sql`).

pub mod checksum;
pub mod down;
mod folders;
pub mod meta;
mod names;

pub use down::{DownCheck, DownScript, DownVerdict};
pub use names::{compare_versions, same_version};

use crate::error::{Error, Result};
use serde::Serialize;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// The layout (and so the tool) of a migration directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Flyway: `V<version>__<desc>.sql`, `R__<desc>.sql`, `B…`, `U…`.
    Flyway,
    /// golang-migrate: `<version>_<desc>.up.sql` / `.down.sql`.
    GolangMigrate,
    /// sqlx: `<timestamp>_<desc>.sql`, or `.up.sql` / `.down.sql`.
    Sqlx,
    /// dbmate: `<version>_<desc>.sql` with `-- migrate:up` / `-- migrate:down`.
    Dbmate,
    /// Plain numbered files: `001_desc.sql`, `001_desc.up.sql` / `.down.sql`.
    Plain,
    /// diesel: `2024-01-01-000000_<desc>/up.sql` (and `down.sql`).
    Diesel,
    /// Prisma: `20240101000000_<desc>/migration.sql`.
    Prisma,
    /// Folders named by version holding an `up.sql`: `001_<desc>/up.sql`.
    VersionFolders,
}

impl crate::util::Named for Format {
    const ALL: &'static [Format] = &[
        Format::Flyway,
        Format::GolangMigrate,
        Format::Sqlx,
        Format::Dbmate,
        Format::Plain,
        Format::Diesel,
        Format::Prisma,
        Format::VersionFolders,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Format {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Flyway => "flyway",
            Format::GolangMigrate => "golang-migrate",
            Format::Sqlx => "sqlx",
            Format::Dbmate => "dbmate",
            Format::Plain => "plain",
            Format::Diesel => "diesel",
            Format::Prisma => "prisma",
            Format::VersionFolders => "version-folders",
        }
    }
}

/// The layouts driftwatch reads, as named in messages.
pub const LAYOUTS: &str = "Flyway (V1__x.sql), golang-migrate (1_x.up.sql), sqlx (20240101000000_x.sql), dbmate (-- migrate:up), plain numbered files (001_x.sql), diesel (2024-01-01-000000_x/up.sql), Prisma (20240101000000_x/migration.sql) or version folders (001_x/up.sql)";

/// What a migration file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    /// Runs once, in version order.
    Versioned,
    /// Flyway baseline migration (`B…`): replaces the versioned ones up to
    /// its version on an empty database.
    Baseline,
    /// Flyway repeatable (`R__…`): runs after the versioned ones, again
    /// whenever its checksum changes.
    Repeatable,
    /// Flyway undo (`U…`): not run forward.
    Undo,
    /// A `.down.sql` file: not run forward.
    Down,
}

/// One migration that runs forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Version as written (`1.1`, `20240101120000`, `001`); None for repeatables.
    pub version: Option<String>,
    /// Description from the file name, `_` shown as spaces.
    pub description: String,
    /// Versioned, baseline or repeatable.
    pub kind: MigrationKind,
    /// The file.
    pub path: PathBuf,
    /// The SQL that runs (for dbmate, the `-- migrate:up` section).
    pub sql: String,
    /// 1-based line of the file where `sql` starts (dbmate sections).
    pub first_line: usize,
    /// The checksum as the owning tool computes it: Flyway's signed CRC32
    /// in decimal, sqlx's SHA-384 in hex, otherwise SHA-256 in hex.
    pub checksum: String,
    /// The file asks to run outside a transaction (dbmate
    /// `transaction:false`, sqlx `-- no-transaction`).
    pub no_transaction: bool,
    /// The SQL that undoes it, when the directory has some (see [`down`]).
    pub down: Option<DownScript>,
}

impl Migration {
    /// `version` for versioned migrations, `R:<description>` for repeatables:
    /// unique within a directory, used to name stored snapshots.
    pub fn key(&self) -> String {
        match &self.version {
            Some(v) => v.clone(),
            None => format!("R:{}", self.description),
        }
    }

    /// A file-name-safe slug: `<version>__<description>` (`R__<description>`
    /// for repeatables), lowercase, non-alphanumerics as `_`.
    pub fn slug(&self) -> String {
        let desc: String = self
            .description
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        match &self.version {
            Some(v) => format!("{v}__{desc}"),
            None => format!("R__{desc}"),
        }
    }
}

/// The migrations of one directory, in the order they run.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    /// The directory.
    pub dir: PathBuf,
    /// Its layout, as given or detected.
    pub format: Format,
    /// Versioned (and baseline) migrations by version, then repeatables by
    /// description.
    pub migrations: Vec<Migration>,
    /// Files skipped with a reason (names the format does not know).
    pub warnings: Vec<String>,
    /// The names of the directory's entries (folders with a trailing `/`),
    /// for messages about a directory that holds no migrations.
    pub found: Vec<String>,
    /// Down files that cannot be read (path, message): ignored unless
    /// down files are used ([`MigrationSet::require_readable_down`]).
    pub unreadable_down: Vec<(String, String)>,
}

impl MigrationSet {
    /// An error naming what the directory holds and the layouts driftwatch
    /// reads when it holds no migration, unless `allow_empty`: an empty or
    /// wrong directory must not read as a schema with nothing in it.
    pub fn require_some(&self, allow_empty: bool) -> Result<()> {
        if allow_empty || !self.migrations.is_empty() {
            return Ok(());
        }
        let what = if self.found.is_empty() {
            "the directory is empty".to_string()
        } else {
            let shown: Vec<&str> = self.found.iter().take(5).map(String::as_str).collect();
            let more = self.found.len().saturating_sub(shown.len());
            format!(
                "found {} entr{}: {}{}; none is a {} migration",
                self.found.len(),
                if self.found.len() == 1 { "y" } else { "ies" },
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                },
                self.format.as_str()
            )
        };
        Err(Error::Input {
            path: self.dir.display().to_string(),
            message: format!("holds no migrations ({what})"),
            hint: format!(
                "driftwatch reads {LAYOUTS}; check the path, or pass --allow-empty if no migration is expected"
            ),
        })
    }

    /// An error naming the first down file that cannot be read, for
    /// commands that run down files.
    pub fn require_readable_down(&self) -> Result<()> {
        down::unreadable_error(&self.unreadable_down)
    }

    /// The migrations up to and including `version` (all when None); an
    /// error naming the directory when no migration has that version.
    pub fn up_to(&self, version: Option<&str>) -> Result<&[Migration]> {
        let Some(want) = version else {
            return Ok(&self.migrations);
        };
        match self
            .migrations
            .iter()
            .position(|m| m.version.as_deref().is_some_and(|v| same_version(v, want)))
        {
            Some(i) => Ok(&self.migrations[..=i]),
            None => Err(Error::Input {
                path: format!("{}@{want}", self.dir.display()),
                message: format!("no migration has version {want}"),
                hint: "give a version that one of its files has".into(),
            }),
        }
    }
}

/// Reads the file names of `dir` and decides its format: Flyway when a
/// file is named like one, dbmate when a file has a `-- migrate:up`
/// section, golang-migrate when files end in `.up.sql`, sqlx when every
/// version is a 14-digit timestamp, plain numbered files otherwise.
fn detect(dir: &Path, names: &[String]) -> Format {
    let flyway = names.iter().any(|n| {
        names::parse(Format::Flyway, n)
            .is_some_and(|p| p.kind != MigrationKind::Undo || n.starts_with('U'))
    });
    if flyway {
        return Format::Flyway;
    }
    let dbmate = names.iter().filter(|n| n.ends_with(".sql")).any(|n| {
        std::fs::read(dir.join(n))
            .map(|bytes| dbmate_up_marker(&String::from_utf8_lossy(&bytes)).is_some())
            .unwrap_or(false)
    });
    if dbmate {
        return Format::Dbmate;
    }
    if names.iter().any(|n| n.ends_with(".up.sql")) {
        return Format::GolangMigrate;
    }
    let versions: Vec<String> = names
        .iter()
        .filter_map(|n| names::parse(Format::Plain, n).and_then(|p| p.version))
        .collect();
    if !versions.is_empty() && versions.iter().all(|v| v.len() == 14) {
        return Format::Sqlx;
    }
    Format::Plain
}

/// Byte offset of the `-- migrate:up` line in a dbmate file.
fn dbmate_up_marker(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("-- migrate:up") {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The `-- migrate:up` section of a dbmate file: its SQL, first line and
/// whether it asks for `transaction:false`.
fn dbmate_up(path: &Path, text: &str) -> Result<(String, usize, bool)> {
    let start = dbmate_up_marker(text).ok_or_else(|| Error::Input {
        path: path.display().to_string(),
        message: "has no `-- migrate:up` section".into(),
        hint: "dbmate migrations start their SQL with a `-- migrate:up` line".into(),
    })?;
    let marker_end = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let marker = &text[start..marker_end];
    let no_transaction = marker.contains("transaction:false");
    let rest = &text[marker_end..];
    let mut end = rest.len();
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_start().starts_with("-- migrate:down") {
            end = offset;
            break;
        }
        offset += line.len();
    }
    let first_line = text[..marker_end].matches('\n').count() + 1;
    Ok((rest[..end].to_string(), first_line, no_transaction))
}

/// Reads a file as UTF-8; an error with the byte offset when it is not.
pub fn read_utf8(path: &Path) -> Result<(Vec<u8>, String)> {
    let bytes = std::fs::read(path).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("cannot be read ({e})"),
        hint: "check the path and its permissions".into(),
    })?;
    match std::str::from_utf8(&bytes) {
        Ok(text) => {
            let text = text.to_string();
            Ok((bytes, text))
        }
        Err(e) => Err(Error::Input {
            path: path.display().to_string(),
            message: format!("is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
            hint: "save it as UTF-8".into(),
        }),
    }
}

/// The layout of `dir` (`format` when given), read from its file names
/// alone (and dbmate's `-- migrate:up` markers): what [`read`] would
/// detect, without reading every migration.
pub fn layout(dir: &Path, format: Option<Format>) -> Result<Format> {
    if let Some(format) = format {
        return Ok(format);
    }
    let (file_names, dirs) = list(dir)?;
    Ok(folders::detect(&dirs).unwrap_or_else(|| detect(dir, &file_names)))
}

/// A directory's file names, and its folders with the file names in each.
type Listing = (Vec<String>, Vec<(String, Vec<String>)>);

/// The file names of `dir` and its folders with the file names in each,
/// sorted.
fn list(dir: &Path) -> Result<Listing> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Input {
        path: dir.display().to_string(),
        message: format!("cannot be read as a migration directory ({e})"),
        hint: format!("give a directory of migrations: {LAYOUTS}"),
    })?;
    let mut file_names: Vec<String> = Vec::new();
    let mut dirs: Vec<(String, Vec<String>)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        match entry.file_type() {
            Ok(t) if t.is_file() => file_names.push(name),
            Ok(t) if t.is_dir() => {
                let mut inside: Vec<String> = std::fs::read_dir(entry.path())
                    .map(|rd| {
                        rd.flatten()
                            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                            .map(|e| e.file_name().to_string_lossy().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                inside.sort();
                dirs.push((name, inside));
            }
            _ => {}
        }
    }
    file_names.sort();
    dirs.sort();
    Ok((file_names, dirs))
}

/// Reads the migrations of `dir` in `format` (detected when None). A
/// directory with no migration in it reads as an empty set: callers refuse
/// it with [`MigrationSet::require_some`] unless the user allowed it.
pub fn read(dir: &Path, format: Option<Format>) -> Result<MigrationSet> {
    let (file_names, dirs) = list(dir)?;
    let format = format
        .or_else(|| folders::detect(&dirs))
        .unwrap_or_else(|| detect(dir, &file_names));
    let mut found: Vec<String> = file_names.clone();
    found.extend(dirs.iter().map(|(d, _)| format!("{d}/")));
    found.sort();

    let (mut migrations, warnings) = match folders::up_file(format) {
        Some(up) => read_folders(dir, format, up, &dirs)?,
        None => read_files(dir, format, &file_names)?,
    };
    let unreadable_down = match folders::up_file(format) {
        Some(_) => down::attach_folders(format, &mut migrations),
        None => down::attach_files(dir, format, &file_names, &mut migrations),
    };
    migrations.sort_by(|a, b| match (&a.version, &b.version) {
        (Some(x), Some(y)) => compare_versions(x, y).then(a.kind.cmp(&b.kind)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.description.cmp(&b.description),
    });
    for pair in migrations.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let clash = match (&a.version, &b.version) {
            (Some(x), Some(y)) => same_version(x, y) && a.kind == b.kind,
            (None, None) => a.description == b.description,
            _ => false,
        };
        if clash {
            return Err(Error::Input {
                path: b.path.display().to_string(),
                message: format!(
                    "migration {} is defined twice (also {})",
                    b.key(),
                    a.path.display()
                ),
                hint: "give each migration its own version".into(),
            });
        }
    }
    let migrations = apply_baseline(migrations);
    Ok(MigrationSet {
        dir: dir.to_path_buf(),
        format,
        migrations,
        warnings,
        found,
        unreadable_down,
    })
}

/// The SQL to run of a file, its first line and whether it asks for no
/// transaction, and its checksum, as `format`'s tool computes them.
fn migration_file(
    format: Format,
    path: PathBuf,
    version: Option<String>,
    description: String,
    kind: MigrationKind,
) -> Result<Migration> {
    let (bytes, text) = read_utf8(&path)?;
    let (sql, first_line, no_transaction) = match format {
        Format::Dbmate => dbmate_up(&path, &text)?,
        _ => {
            let no_tx = text
                .lines()
                .next()
                .is_some_and(|l| l.trim() == "-- no-transaction");
            (text.clone(), 1, no_tx)
        }
    };
    let checksum = match format {
        Format::Flyway => checksum::flyway(&text).to_string(),
        Format::Sqlx => checksum::sqlx(&bytes),
        _ => checksum::sha256(&bytes),
    };
    let down = match format {
        Format::Dbmate => down::dbmate_section(&path, &text),
        _ => None,
    };
    Ok(Migration {
        version,
        description,
        kind,
        path,
        sql,
        first_line,
        checksum,
        no_transaction,
        down,
    })
}

/// Migrations of a file-per-migration layout, and the skipped names.
fn read_files(
    dir: &Path,
    format: Format,
    file_names: &[String],
) -> Result<(Vec<Migration>, Vec<String>)> {
    let mut migrations = Vec::new();
    let mut warnings = Vec::new();
    for name in file_names {
        if !name.ends_with(".sql") {
            continue;
        }
        let path = dir.join(name);
        let Some(parsed) = names::parse(format, name) else {
            warnings.push(format!(
                "{}: not a {} migration file name; skipped",
                path.display(),
                format.as_str()
            ));
            continue;
        };
        if matches!(parsed.kind, MigrationKind::Undo | MigrationKind::Down) {
            continue;
        }
        migrations.push(migration_file(
            format,
            path,
            parsed.version,
            parsed.description,
            parsed.kind,
        )?);
    }
    Ok((migrations, warnings))
}

/// Migrations of a folder-per-migration layout (the `up` file of each
/// folder), and the skipped folders.
fn read_folders(
    dir: &Path,
    format: Format,
    up: &str,
    dirs: &[(String, Vec<String>)],
) -> Result<(Vec<Migration>, Vec<String>)> {
    let mut migrations = Vec::new();
    let mut warnings = Vec::new();
    for (name, files) in dirs {
        let folder = dir.join(name);
        let Some(parsed) = folders::parse(format, name) else {
            warnings.push(format!(
                "{}/: not a {} migration folder name; skipped",
                folder.display(),
                format.as_str()
            ));
            continue;
        };
        if !files.iter().any(|f| f == up) {
            warnings.push(format!("{}/: has no {up}; skipped", folder.display()));
            continue;
        }
        migrations.push(migration_file(
            format,
            folder.join(up),
            Some(parsed.version),
            parsed.description,
            MigrationKind::Versioned,
        )?);
    }
    Ok((migrations, warnings))
}

/// Flyway on an empty database starts from the newest baseline migration
/// and skips the versioned migrations it covers; the baseline then stands
/// in for them. Without baselines the list is unchanged.
fn apply_baseline(migrations: Vec<Migration>) -> Vec<Migration> {
    let Some(base) = migrations
        .iter()
        .filter(|m| m.kind == MigrationKind::Baseline)
        .filter_map(|m| m.version.clone())
        .max_by(|a, b| compare_versions(a, b))
    else {
        return migrations;
    };
    migrations
        .into_iter()
        .filter(|m| match (&m.version, m.kind) {
            (Some(v), MigrationKind::Baseline) => same_version(v, &base),
            (Some(v), _) => compare_versions(v, &base) == Ordering::Greater,
            (None, _) => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        dir
    }

    fn keys(set: &MigrationSet) -> Vec<String> {
        set.migrations.iter().map(Migration::key).collect()
    }

    #[test]
    fn flyway_order_repeatables_last_and_checksums() {
        let dir = dir_with(&[
            ("V1.10__c.sql", "select 3;"),
            ("V1.9__b.sql", "select 2;"),
            ("V1__a.sql", "select 1;\r\n"),
            ("R__z_view.sql", "select 'z';"),
            ("R__a_view.sql", "select 'a';"),
            ("U1.9__undo.sql", "select 0;"),
            ("README.md", "not sql"),
            ("notes.sql", "select 0;"),
        ]);
        let set = read(dir.path(), None).unwrap();
        assert_eq!(set.format, Format::Flyway);
        assert_eq!(keys(&set), ["1", "1.9", "1.10", "R:a view", "R:z view"]);
        assert_eq!(
            set.migrations[0].checksum,
            checksum::flyway("select 1;").to_string()
        );
        assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
        assert!(set.warnings[0].contains("notes.sql"), "{:?}", set.warnings);
        assert_eq!(set.up_to(Some("1.9")).unwrap().len(), 2);
        let err = set.up_to(Some("7")).unwrap_err().to_string();
        assert!(err.contains("no migration has version 7"), "{err}");
    }

    #[test]
    fn flyway_baseline_replaces_covered_versions() {
        let dir = dir_with(&[
            ("V1__a.sql", "select 1;"),
            ("V2__b.sql", "select 2;"),
            ("B2__base.sql", "select 12;"),
            ("V3__c.sql", "select 3;"),
        ]);
        let set = read(dir.path(), None).unwrap();
        let kinds: Vec<_> = set.migrations.iter().map(|m| (m.key(), m.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("2".to_string(), MigrationKind::Baseline),
                ("3".to_string(), MigrationKind::Versioned)
            ]
        );
    }

    #[test]
    fn detects_each_layout() {
        let golang = dir_with(&[("1_a.up.sql", "select 1;"), ("1_a.down.sql", "select 0;")]);
        let set = read(golang.path(), None).unwrap();
        assert_eq!(set.format, Format::GolangMigrate);
        assert_eq!(keys(&set), ["1"]);

        let sqlx = dir_with(&[("20240101120000_a.sql", "select 1;")]);
        let set = read(sqlx.path(), None).unwrap();
        assert_eq!(set.format, Format::Sqlx);
        assert_eq!(set.migrations[0].checksum, checksum::sqlx(b"select 1;"));

        let plain = dir_with(&[("001_a.sql", "select 1;"), ("002_b.sql", "select 2;")]);
        let set = read(plain.path(), None).unwrap();
        assert_eq!(set.format, Format::Plain);
        assert_eq!(set.migrations[1].checksum, checksum::sha256(b"select 2;"));
    }

    #[test]
    fn dbmate_sections() {
        let body = "-- a comment\n-- migrate:up transaction:false\ncreate index concurrently i on t (x);\n\n-- migrate:down\ndrop index i;\n";
        let dir = dir_with(&[("20240101000000_idx.sql", body)]);
        let set = read(dir.path(), None).unwrap();
        assert_eq!(set.format, Format::Dbmate);
        let m = &set.migrations[0];
        assert_eq!(m.sql, "create index concurrently i on t (x);\n\n");
        assert_eq!(m.first_line, 3);
        assert!(m.no_transaction);
        assert_eq!(m.checksum, checksum::sha256(body.as_bytes()));
    }

    #[test]
    fn bad_directories_get_clear_errors() {
        let dup = dir_with(&[("V1__a.sql", "select 1;"), ("V1.0__b.sql", "select 2;")]);
        let err = read(dup.path(), None).unwrap_err().to_string();
        assert!(err.contains("defined twice"), "{err}");

        let latin1 = dir_with(&[("V1__a.sql", "")]);
        std::fs::write(latin1.path().join("V1__a.sql"), b"select '\xe9';").unwrap();
        let err = read(latin1.path(), None).unwrap_err().to_string();
        assert!(
            err.contains("V1__a.sql: is not UTF-8 (invalid byte at offset 8)"),
            "{err}"
        );

        let err = read(Path::new("/surely/not/here"), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot be read as a migration directory"),
            "{err}"
        );
    }
}
