//! The file a baseline migration gets: the next version in the
//! directory's own layout and numbering. Pure.

use crate::migrations::{compare_versions, Format, MigrationSet};
use std::path::PathBuf;

/// The files of a new migration (relative to the migrations directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFiles {
    /// The version it gets.
    pub version: String,
    /// The file (or folder/file) that holds the up migration.
    pub up: PathBuf,
    /// The file of the down migration, for layouts that keep one apart.
    pub down: Option<PathBuf>,
    /// dbmate: both directions in one file, in sections.
    pub sections: bool,
}

/// `reason` as a file-name part: lowercase letters, digits and `_`.
pub fn slug(reason: &str) -> String {
    let mut s = String::new();
    for c in reason.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') && !s.is_empty() {
            s.push('_');
        }
        if s.len() >= 40 {
            break;
        }
    }
    let s = s.trim_end_matches('_').to_string();
    if s.is_empty() {
        "accepted".into()
    } else {
        s
    }
}

/// The next plain number after the directory's highest version, padded to
/// its width (`007` after `006`); for a timestamped directory, `stamp`.
fn next_number(set: &MigrationSet, stamp: &str) -> String {
    let highest = set
        .migrations
        .iter()
        .filter_map(|m| m.version.as_deref())
        .max_by(|a, b| compare_versions(a, b));
    match highest {
        Some(v) if v.len() >= 12 && v.chars().all(|c| c.is_ascii_digit()) => stamp.to_string(),
        Some(v) => {
            let major: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
            let n: u64 = major.parse().unwrap_or(0) + 1;
            let width = if major.starts_with('0') {
                major.len()
            } else {
                0
            };
            format!("{n:0width$}")
        }
        None => "1".into(),
    }
}

/// The files for a migration named `slug`, made at `time` (RFC 3339), in
/// `set`'s layout.
pub fn new_files(set: &MigrationSet, slug: &str, time: &str) -> NewFiles {
    let stamp: String = time
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(14)
        .collect();
    let reversible = set.migrations.iter().any(|m| {
        m.path
            .file_name()
            .is_some_and(|f| f.to_string_lossy().ends_with(".up.sql"))
    });
    let name = format!("baseline_{slug}");
    let pair = |v: String| NewFiles {
        up: PathBuf::from(format!("{v}_{name}.up.sql")),
        down: Some(PathBuf::from(format!("{v}_{name}.down.sql"))),
        version: v,
        sections: false,
    };
    let single = |file: String, v: String| NewFiles {
        up: PathBuf::from(file),
        down: None,
        version: v,
        sections: false,
    };
    match set.format {
        Format::Flyway => {
            let v = next_number(set, &stamp);
            single(format!("V{v}__{name}.sql"), v)
        }
        Format::GolangMigrate => pair(next_number(set, &stamp)),
        Format::Sqlx if reversible => pair(stamp),
        Format::Sqlx => single(format!("{stamp}_{name}.sql"), stamp),
        Format::Dbmate => NewFiles {
            sections: true,
            ..single(format!("{stamp}_{name}.sql"), stamp)
        },
        Format::Plain if reversible => pair(next_number(set, &stamp)),
        Format::Plain => {
            let v = next_number(set, &stamp);
            single(format!("{v}_{name}.sql"), v)
        }
        Format::Diesel => {
            // diesel's own folder stamp: 2026-12-02-081500.
            let v = format!(
                "{}-{}",
                time.get(..10).unwrap_or_default(),
                stamp.get(8..).unwrap_or_default()
            );
            NewFiles {
                up: PathBuf::from(format!("{v}_{name}/up.sql")),
                down: Some(PathBuf::from(format!("{v}_{name}/down.sql"))),
                version: v,
                sections: false,
            }
        }
        Format::Prisma => single(format!("{stamp}_{name}/migration.sql"), stamp),
        Format::VersionFolders => {
            let v = next_number(set, &stamp);
            NewFiles {
                up: PathBuf::from(format!("{v}_{name}/up.sql")),
                down: Some(PathBuf::from(format!("{v}_{name}/down.sql"))),
                version: v,
                sections: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(format: Format, files: &[&str]) -> MigrationSet {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let body = if format == Format::Dbmate {
                "-- migrate:up\nSELECT 1;\n-- migrate:down\n"
            } else {
                "SELECT 1;\n"
            };
            std::fs::write(p, body).unwrap();
        }
        crate::migrations::read(dir.path(), Some(format)).unwrap()
    }

    #[test]
    fn each_layout_gets_its_next_version() {
        let t = "2026-12-02T08:15:00Z";
        let f = |format, files: &[&str]| new_files(&set(format, files), "hotfix", t);
        assert_eq!(
            f(Format::Flyway, &["V1__a.sql", "V2__b.sql"]).up,
            PathBuf::from("V3__baseline_hotfix.sql")
        );
        assert_eq!(
            f(Format::Flyway, &["V1.1__a.sql", "V1.2__b.sql"]).version,
            "2"
        );
        let g = f(
            Format::GolangMigrate,
            &["000001_a.up.sql", "000001_a.down.sql"],
        );
        assert_eq!(g.up, PathBuf::from("000002_baseline_hotfix.up.sql"));
        assert_eq!(
            g.down,
            Some(PathBuf::from("000002_baseline_hotfix.down.sql"))
        );
        assert_eq!(
            f(Format::Sqlx, &["20240101000000_a.sql"]).up,
            PathBuf::from("20261202081500_baseline_hotfix.sql")
        );
        let d = f(Format::Dbmate, &["20240101000000_a.sql"]);
        assert!(d.sections && d.version == "20261202081500");
        assert_eq!(
            slug("Hotfix: index #42 by hand!"),
            "hotfix_index_42_by_hand"
        );
        assert_eq!(slug("!!!"), "accepted");
    }
}
