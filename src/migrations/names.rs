//! Migration file names as each tool writes them: which files are
//! migrations, their versions, descriptions and roles (run, undo, down).

use super::{Format, MigrationKind};
use std::cmp::Ordering;

/// What a file name says about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedName {
    /// Version as written (`1.1`, `20240101120000`, `001`); None for repeatables.
    pub version: Option<String>,
    /// Description, `_` shown as spaces.
    pub description: String,
    /// Versioned, repeatable, baseline, or a file that is not run forward.
    pub kind: MigrationKind,
}

/// Compares versions numerically part by part (`1.10` after `1.9`, `2`
/// after `1.5`, `010` after `9`); equal numbers compare by their text.
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
    Ordering::Equal
}

/// True when two versions name the same migration (`1.0` = `1`, `001` = `1`).
pub fn same_version(a: &str, b: &str) -> bool {
    compare_versions(a, b) == Ordering::Equal
}

fn description(text: &str) -> String {
    text.trim_start_matches(['_', '-']).replace('_', " ")
}

/// Flyway: `V<version>__<desc>.sql`, `U<version>__…` (undo),
/// `B<version>__…` (baseline), `R__<desc>.sql` (repeatable); the version's
/// `_` separators read as dots (`V1_1__x` is version 1.1).
fn flyway(stem: &str) -> Option<ParsedName> {
    if let Some(desc) = stem.strip_prefix("R__") {
        return Some(ParsedName {
            version: None,
            description: description(desc),
            kind: MigrationKind::Repeatable,
        });
    }
    let mut chars = stem.chars();
    let kind = match chars.next()? {
        'V' => MigrationKind::Versioned,
        'U' => MigrationKind::Undo,
        'B' => MigrationKind::Baseline,
        _ => return None,
    };
    let (version, desc) = chars.as_str().split_once("__")?;
    let valid = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_');
    valid.then(|| ParsedName {
        version: Some(version.replace('_', ".")),
        description: description(desc),
        kind,
    })
}

/// `<digits>_<desc>` with an optional `.up`/`.down` suffix (golang-migrate,
/// sqlx, dbmate, plain numbered files).
fn numbered(stem: &str) -> Option<ParsedName> {
    let (stem, kind) = if let Some(s) = stem.strip_suffix(".up") {
        (s, MigrationKind::Versioned)
    } else if let Some(s) = stem.strip_suffix(".down") {
        (s, MigrationKind::Down)
    } else {
        (stem, MigrationKind::Versioned)
    };
    let digits = stem.len() - stem.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let rest = &stem[digits..];
    if !(rest.is_empty() || rest.starts_with(['_', '-'])) {
        return None;
    }
    Some(ParsedName {
        version: Some(stem[..digits].to_string()),
        description: description(rest),
        kind,
    })
}

/// Parses a file name under `format`; None when the format does not know it.
pub(crate) fn parse(format: Format, file_name: &str) -> Option<ParsedName> {
    let stem = file_name.strip_suffix(".sql")?;
    match format {
        Format::Flyway => flyway(stem),
        Format::Dbmate => {
            numbered(stem).filter(|p| !stem.ends_with(".up") && p.kind != MigrationKind::Down)
        }
        Format::GolangMigrate => {
            // golang-migrate needs the direction in the name.
            numbered(stem).filter(|_| stem.ends_with(".up") || stem.ends_with(".down"))
        }
        Format::Sqlx | Format::Plain => numbered(stem),
        Format::Diesel | Format::Prisma | Format::VersionFolders => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(format: Format, name: &str) -> Option<(Option<String>, String, MigrationKind)> {
        parse(format, name).map(|p| (p.version, p.description, p.kind))
    }

    #[test]
    fn flyway_names() {
        use MigrationKind::*;
        assert_eq!(
            p(Format::Flyway, "V1_1__add_users.sql"),
            Some((Some("1.1".into()), "add users".into(), Versioned))
        );
        assert_eq!(
            p(Format::Flyway, "V2.0.1__x.sql"),
            Some((Some("2.0.1".into()), "x".into(), Versioned))
        );
        assert_eq!(
            p(Format::Flyway, "R__refresh_views.sql"),
            Some((None, "refresh views".into(), Repeatable))
        );
        assert_eq!(
            p(Format::Flyway, "U3__undo_it.sql").map(|x| x.2),
            Some(Undo)
        );
        assert_eq!(
            p(Format::Flyway, "B5__base.sql").map(|x| x.2),
            Some(Baseline)
        );
        assert_eq!(p(Format::Flyway, "V__nothing.sql"), None);
        assert_eq!(p(Format::Flyway, "Vx__nothing.sql"), None);
        assert_eq!(p(Format::Flyway, "notes.sql"), None);
        assert_eq!(p(Format::Flyway, "V1__a.txt"), None);
    }

    #[test]
    fn numbered_names() {
        use MigrationKind::*;
        assert_eq!(
            p(Format::GolangMigrate, "000001_init.up.sql"),
            Some((Some("000001".into()), "init".into(), Versioned))
        );
        assert_eq!(
            p(Format::GolangMigrate, "000001_init.down.sql").map(|x| x.2),
            Some(Down)
        );
        assert_eq!(p(Format::GolangMigrate, "000001_init.sql"), None);
        assert_eq!(
            p(Format::Sqlx, "20240101120000_create_users.sql"),
            Some((
                Some("20240101120000".into()),
                "create users".into(),
                Versioned
            ))
        );
        assert_eq!(
            p(Format::Plain, "001-init.sql"),
            Some((Some("001".into()), "init".into(), Versioned))
        );
        assert_eq!(p(Format::Plain, "001init.sql"), None);
        assert_eq!(p(Format::Plain, "init.sql"), None);
        assert_eq!(p(Format::Dbmate, "20240101_x.up.sql"), None);
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_versions("2", "1.5"), Ordering::Greater);
        assert_eq!(compare_versions("010", "9"), Ordering::Greater);
        assert!(same_version("1.0", "1"));
        assert!(same_version("001", "1"));
        assert!(!same_version("1.1", "1.10"));
    }
}
