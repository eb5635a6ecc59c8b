//! Folder-per-migration layouts: diesel (`2024-01-01-000000_name/up.sql`),
//! Prisma (`20240101000000_name/migration.sql`, or any numbered folder) and folders named by
//! version holding an `up.sql` (`001_name/up.sql`).

use super::Format;

/// What a folder name says about a migration folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FolderName {
    /// The version as the tool records it (diesel: the date without
    /// dashes, `20240101000000`; Prisma: the 14-digit prefix).
    pub version: String,
    /// Description from the folder name, `_` shown as spaces.
    pub description: String,
}

/// The file inside a migration folder that runs forward.
pub(crate) fn up_file(format: Format) -> Option<&'static str> {
    match format {
        Format::Diesel | Format::VersionFolders => Some("up.sql"),
        Format::Prisma => Some("migration.sql"),
        _ => None,
    }
}

fn description(text: &str) -> String {
    text.trim_start_matches(['_', '-']).replace('_', " ")
}

/// diesel: `YYYY-MM-DD-HHMMSS_name` (diesel's own initial setup folder is
/// `00000000000000_diesel_initial_setup`); the version is the part before
/// the first `_` without its dashes.
fn diesel(name: &str) -> Option<FolderName> {
    let (prefix, rest) = name.split_once('_').unwrap_or((name, ""));
    let digits: String = prefix.chars().filter(|c| *c != '-').collect();
    let dashed = prefix.len() == 17
        && prefix.char_indices().all(|(i, c)| {
            matches!(i, 4 | 7 | 10) == (c == '-') && (c == '-' || c.is_ascii_digit())
        });
    let plain = prefix.len() == 14 && prefix.chars().all(|c| c.is_ascii_digit());
    (dashed || plain).then(|| FolderName {
        version: digits,
        description: description(rest),
    })
}

/// Prisma: `<14-digit timestamp>_name` as `prisma migrate dev` names
/// them; Prisma runs any folder name, in name order, and projects that
/// name their folders themselves number them (umami: `01_init`), read
/// like version folders.
fn prisma(name: &str) -> Option<FolderName> {
    version_folder(name)
}

/// Version folders: `<digits>` or `<digits>_name` / `<digits>-name`.
fn version_folder(name: &str) -> Option<FolderName> {
    let digits = name.len() - name.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let rest = &name[digits..];
    (rest.is_empty() || rest.starts_with(['_', '-'])).then(|| FolderName {
        version: name[..digits].to_string(),
        description: description(rest),
    })
}

/// Parses a folder name under a folder layout; None when it is not one.
pub(crate) fn parse(format: Format, name: &str) -> Option<FolderName> {
    match format {
        Format::Diesel => diesel(name),
        Format::Prisma => prisma(name),
        Format::VersionFolders => version_folder(name),
        _ => None,
    }
}

/// The folder layout of a directory whose sub-folders are `dirs`, each
/// with the names of the files it holds: Prisma when a folder holds a
/// `migration.sql`, diesel when a folder is named by a dashed date,
/// version folders when a folder named by a number holds an `up.sql`.
pub(crate) fn detect(dirs: &[(String, Vec<String>)]) -> Option<Format> {
    let holds = |files: &[String], name: &str| files.iter().any(|f| f == name);
    if dirs
        .iter()
        .any(|(d, files)| holds(files, "migration.sql") && prisma(d).is_some())
    {
        return Some(Format::Prisma);
    }
    if dirs
        .iter()
        .any(|(d, files)| holds(files, "up.sql") && d.get(4..5) == Some("-") && diesel(d).is_some())
    {
        return Some(Format::Diesel);
    }
    if dirs
        .iter()
        .any(|(d, files)| holds(files, "up.sql") && version_folder(d).is_some())
    {
        return Some(Format::VersionFolders);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(format: Format, name: &str) -> Option<(String, String)> {
        parse(format, name).map(|p| (p.version, p.description))
    }

    #[test]
    fn folder_names() {
        assert_eq!(
            v(Format::Diesel, "2024-01-01-000000_create_users"),
            Some(("20240101000000".into(), "create users".into()))
        );
        assert_eq!(
            v(Format::Diesel, "00000000000000_diesel_initial_setup"),
            Some(("00000000000000".into(), "diesel initial setup".into()))
        );
        assert_eq!(v(Format::Diesel, "2024-01-01_x"), None);
        assert_eq!(
            v(Format::Prisma, "20240101000000_init"),
            Some(("20240101000000".into(), "init".into()))
        );
        assert_eq!(v(Format::Prisma, "init"), None);
        assert_eq!(
            v(Format::Prisma, "01_init"),
            Some(("01".into(), "init".into()))
        );
        assert_eq!(
            v(Format::VersionFolders, "002_add_index"),
            Some(("002".into(), "add index".into()))
        );
        assert_eq!(
            v(Format::VersionFolders, "7"),
            Some(("7".into(), String::new()))
        );
        assert_eq!(v(Format::VersionFolders, "docs"), None);
    }
}
