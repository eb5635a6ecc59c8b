//! Migration directories: which files are migrations, their versions and
//! the order they run in. (Checksums and every tool's conventions come with
//! the history work; this covers what `diff` replays.)

use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// Version as written (`1.1`, `20240101120000`, `001`); None for repeatables.
    pub version: Option<String>,
    /// Description from the file name, `_` shown as spaces.
    pub description: String,
    /// The file.
    pub path: PathBuf,
}

/// Compares versions numerically part by part (`1.10` after `1.9`, `2` after `1.5`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<u128> {
        v.split(['.', '_'])
            .map(|p| p.parse::<u128>().unwrap_or(u128::MAX))
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let (x, y) = (
            pa.get(i).copied().unwrap_or(0),
            pb.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    a.cmp(b)
}

/// Parses one file name; None when it is not an up migration.
fn parse_name(name: &str) -> Option<(Option<String>, String)> {
    let stem = name.strip_suffix(".sql")?;
    if stem.ends_with(".down") || stem.starts_with('U') && stem.contains("__") {
        return None;
    }
    let stem = stem.strip_suffix(".up").unwrap_or(stem);
    if let Some(desc) = stem.strip_prefix("R__") {
        return Some((None, desc.replace('_', " ")));
    }
    if let Some(rest) = stem.strip_prefix('V').or_else(|| stem.strip_prefix('B')) {
        if let Some((version, desc)) = rest.split_once("__") {
            if !version.is_empty()
                && version
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
            {
                return Some((Some(version.replace('_', ".")), desc.replace('_', " ")));
            }
        }
    }
    let digits: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let desc = stem[digits.len()..]
        .trim_start_matches(['_', '-'])
        .replace('_', " ");
    Some((Some(digits), desc))
}

/// The up migrations of `dir` in run order (versioned by version, then
/// repeatables by description), and a warning per `.sql` file that is not one.
pub fn list(dir: &Path) -> Result<(Vec<MigrationFile>, Vec<String>)> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Input {
        path: dir.display().to_string(),
        message: format!("cannot be read as a migration directory ({e})"),
        hint: "give a directory of .sql migration files".into(),
    })?;
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".sql") {
            continue;
        }
        match parse_name(&name) {
            Some((version, description)) => files.push(MigrationFile {
                version,
                description,
                path: entry.path(),
            }),
            None if name.ends_with(".down.sql") || name.starts_with('U') => {}
            None => warnings.push(format!(
                "{}: not a migration file name this format knows; skipped",
                entry.path().display()
            )),
        }
    }
    files.sort_by(|a, b| match (&a.version, &b.version) {
        (Some(x), Some(y)) => compare_versions(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.description.cmp(&b.description),
    });
    for pair in files.windows(2) {
        if let (Some(x), Some(y)) = (&pair[0].version, &pair[1].version) {
            if compare_versions(x, y) == Ordering::Equal {
                return Err(Error::Input {
                    path: pair[1].path.display().to_string(),
                    message: format!(
                        "version {y} is used twice (also {})",
                        pair[0].path.display()
                    ),
                    hint: "give each migration its own version".into(),
                });
            }
        }
    }
    Ok((files, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            parse_name("V1.1__add_users.sql"),
            Some((Some("1.1".into()), "add users".into()))
        );
        assert_eq!(parse_name("R__views.sql"), Some((None, "views".into())));
        assert_eq!(
            parse_name("001_init.up.sql"),
            Some((Some("001".into()), "init".into()))
        );
        assert_eq!(parse_name("001_init.down.sql"), None);
        assert_eq!(parse_name("U2__undo.sql"), None);
        assert_eq!(parse_name("notes.sql"), None);
        assert_eq!(compare_versions("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_versions("2", "1.5"), Ordering::Greater);
        assert_eq!(compare_versions("010", "9"), Ordering::Greater);
    }
}
