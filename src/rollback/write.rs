//! `--write`: the down files the directory's own tool runs, one per
//! rolled-back migration: Flyway Teams' `U<version>__<desc>.sql`, a
//! `.down.sql` beside golang-migrate's, sqlx's and a plain runner's
//! `.up.sql`, dbmate's `-- migrate:down` section appended to the file,
//! diesel's and version folders' `down.sql`. Staged first (every file
//! checked, nothing written), written only once every one verified.

use super::{MigrationName, Verification, WrittenFile};
use crate::ddl::plan::Plan;
use crate::error::{Error, Result};
use crate::migrations::{self, Format, Migration};
use std::path::{Path, PathBuf};

/// A down file ready to be written.
pub struct Staged {
    /// The migration it undoes.
    pub migration: MigrationName,
    /// Where it goes.
    pub path: PathBuf,
    /// The file's whole new content.
    pub contents: String,
    /// A section appended to the migration's own file (dbmate).
    pub appended: bool,
}

/// Refuses layouts that have no down files (one line, exit 2).
pub fn check_layout(format: Option<Format>, dir: &Path) -> Result<()> {
    match format {
        Some(Format::Prisma) => Err(Error::Usage(format!(
            "{}: Prisma migrations have no down files (prisma migrate diff writes them by hand); --write cannot be used, run without it for the SQL",
            dir.display()
        ))),
        None => Err(Error::Usage(
            "the store does not say which tool runs these migrations; --write cannot name the down files".into(),
        )),
        Some(_) => Ok(()),
    }
}

/// The down file of each `(migration, plan, _)` in `downs`, checked
/// against the directory: the migration's file must be there, and no
/// non-empty down file or section may be overwritten.
pub fn stage(
    format: Format,
    dir: &Path,
    downs: &[(MigrationName, Plan, String)],
) -> Result<Vec<Staged>> {
    let set = migrations::read(dir, Some(format))?;
    let mut staged = Vec::with_capacity(downs.len());
    for (name, plan, _) in downs {
        let Some(version) = &name.version else {
            return Err(Error::Usage(format!(
                "{} is a repeatable migration: no tool runs a down file for it; roll back fewer migrations with --write",
                name.label()
            )));
        };
        let m = set
            .migrations
            .iter()
            .find(|m| {
                m.version
                    .as_deref()
                    .is_some_and(|v| migrations::compare_versions(v, version).is_eq())
            })
            .ok_or_else(|| Error::Input {
                path: dir.display().to_string(),
                message: format!("holds no file for migration {}", name.label()),
                hint: "give --migrations the directory the target was replayed from".into(),
            })?;
        let header = crate::ddl::quote::comment(&format!(
            "driftwatch rollback: undoes {} (its stored after -> its stored before)",
            name.label()
        ));
        let body = if plan.is_empty() {
            format!("{header}\n-- nothing to undo in the schema\n")
        } else {
            format!("{header}\n{}", plan.to_migration_sql())
        };
        staged.push(down_file(format, m, name, body)?);
    }
    Ok(staged)
}

/// Where `m`'s down file goes in `format`, and what it holds.
fn down_file(format: Format, m: &Migration, name: &MigrationName, body: String) -> Result<Staged> {
    let file_name = m
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let sibling = |n: String| m.path.with_file_name(n);
    let path = match format {
        Format::Flyway => {
            match file_name.strip_prefix('V') {
                Some(rest) => sibling(format!("U{rest}")),
                None => return Err(refusal(
                    m,
                    "is not a V<version>__<desc>.sql file: Flyway's undo file would have no name",
                )),
            }
        }
        Format::GolangMigrate | Format::Sqlx | Format::Plain => {
            match file_name.strip_suffix(".up.sql") {
                Some(stem) => sibling(format!("{stem}.down.sql")),
                None => {
                    return Err(refusal(
                        m,
                        "is not an .up.sql file: its tool runs a .down.sql only beside one (rename it <version>_<desc>.up.sql first)",
                    ))
                }
            }
        }
        Format::Diesel | Format::VersionFolders => sibling("down.sql".to_string()),
        Format::Dbmate => return dbmate_section(m, name, body),
        Format::Prisma => {
            return Err(refusal(
                m,
                "is a Prisma migration: Prisma has no down files",
            ))
        }
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !is_empty_sql(&existing) {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: "already holds a down migration".into(),
                hint: "driftwatch never overwrites one: remove it first to have it written".into(),
            });
        }
    } else if path.exists() {
        return Err(Error::Input {
            path: path.display().to_string(),
            message: "exists and cannot be read as text".into(),
            hint: "remove it first to have it written".into(),
        });
    }
    Ok(Staged {
        migration: name.clone(),
        path,
        contents: body,
        appended: false,
    })
}

/// dbmate: a `-- migrate:down` section appended to the migration's own
/// file, or written under an empty one at its end.
fn dbmate_section(m: &Migration, name: &MigrationName, body: String) -> Result<Staged> {
    let text = std::fs::read_to_string(&m.path).map_err(|e| Error::Input {
        path: m.path.display().to_string(),
        message: format!("cannot be read ({e})"),
        hint: "check the file's permissions".into(),
    })?;
    let marker = text
        .lines()
        .position(|l| l.trim_start().starts_with("-- migrate:down"));
    let contents = match marker {
        None => {
            let mut t = text.clone();
            if !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str("\n-- migrate:down\n");
            t.push_str(&body);
            t
        }
        Some(at) => {
            let rest: Vec<&str> = text.lines().skip(at + 1).collect();
            if !is_empty_sql(&rest.join("\n")) {
                return Err(Error::Input {
                    path: m.path.display().to_string(),
                    message: "already has a -- migrate:down section with statements".into(),
                    hint: "driftwatch never overwrites one: empty the section first to have it written".into(),
                });
            }
            // Keep everything up to and including the marker line.
            let mut t: String = text.lines().take(at + 1).collect::<Vec<_>>().join("\n");
            t.push('\n');
            t.push_str(&body);
            t
        }
    };
    Ok(Staged {
        migration: name.clone(),
        path: m.path.clone(),
        contents,
        appended: true,
    })
}

fn refusal(m: &Migration, why: &str) -> Error {
    Error::Usage(format!("{}: {why}", m.path.display()))
}

/// True when `text` holds no statement: blank lines and `--` comments
/// only (diesel's generated placeholder, an empty dbmate section).
fn is_empty_sql(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with("--"))
}

/// Writes every staged file (atomically, one by one) when every verdict
/// converges; otherwise nothing. The files, with their verdicts.
pub fn commit(staged: Vec<Staged>, verdicts: Vec<Verification>) -> Result<Vec<WrittenFile>> {
    let write = verdicts.iter().all(Verification::converges);
    let mut out = Vec::with_capacity(staged.len());
    for (s, verification) in staged.into_iter().zip(verdicts) {
        if write {
            crate::util::write_atomic(&s.path, s.contents.as_bytes())?;
        }
        out.push(WrittenFile {
            migration: s.migration,
            path: s.path.display().to_string(),
            appended: s.appended,
            written: write,
            verification,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_an_empty_down_file() {
        assert!(is_empty_sql(
            "-- This file should undo anything in `up.sql`\n\n"
        ));
        assert!(is_empty_sql(""));
        assert!(!is_empty_sql("-- x\nDROP TABLE t;\n"));
    }
}
