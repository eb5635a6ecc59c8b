//! Which PostgreSQL server binaries a shadow cluster runs: the user's
//! choice (`--pg-bindir`, `DRIFTWATCH_PG_BINDIR`), else those of the major a
//! target runs when they can be found, else the machine's default.
//!
//! Replaying migrations on another major than the target's can fail or
//! differ (a 17 feature on a 15 shadow), so a shadow of the wrong major is
//! said, never silent.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment variable naming the directory of initdb and postgres.
pub const BINDIR_ENV: &str = "DRIFTWATCH_PG_BINDIR";

/// A directory holding initdb and postgres, with the major they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// The directory.
    pub dir: PathBuf,
    /// Their major version (`postgres --version`).
    pub major: Option<u32>,
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// The major of the server binary in `dir`, from `postgres --version`
/// (`postgres (PostgreSQL) 17.10`).
pub fn major_of(dir: &Path) -> Option<u32> {
    let out = Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split(')').nth(1)?.split_whitespace().next()?;
    version.split('.').next()?.parse().ok()
}

/// Every directory where server binaries may be, in order of preference:
/// PATH, `pg_config --bindir`, Debian's `/usr/lib/postgresql/*/bin` (newest
/// first), and the cache `scripts/postgres.sh` installs other majors into.
pub fn candidates() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|d| std::cmp::Reverse(d.0));
    dirs.extend(debian.into_iter().map(|(_, d)| d));
    let mut caches = vec![PathBuf::from("/var/cache/driftwatch-pg")];
    if let Some(cache) = std::env::var_os("DRIFTWATCH_PG_CACHE") {
        caches.insert(0, PathBuf::from(cache));
    }
    if let Some(home) = std::env::var_os("HOME") {
        caches.push(PathBuf::from(home).join(".cache/driftwatch-pg"));
    }
    for cache in caches {
        for major in (13..=18).rev() {
            dirs.push(cache.join(format!("node_modules/pg{major}/native/bin")));
        }
    }
    let mut seen = std::collections::HashSet::new();
    dirs.into_iter()
        .filter(|d| has_server(d) && seen.insert(d.clone()))
        .collect()
}

/// The binaries the user named (`--pg-bindir`, else `DRIFTWATCH_PG_BINDIR`),
/// or an error line when that directory has no server.
pub fn explicit(flag: Option<&Path>) -> Option<Result<Binaries, String>> {
    let dir = flag.map(Path::to_path_buf).or_else(|| {
        std::env::var_os(BINDIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })?;
    Some(if has_server(&dir) {
        Ok(Binaries {
            major: major_of(&dir),
            dir,
        })
    } else {
        Err(format!(
            "{}: no initdb and postgres there (from --pg-bindir or {BINDIR_ENV}); name the bin directory of a PostgreSQL server",
            dir.display()
        ))
    })
}

/// The binaries for a shadow cluster: the user's, else those of `wanted`
/// (the target's major) when found, else the first candidate. The second
/// value is a warning when the shadow's major is not the wanted one.
pub fn choose(
    flag: Option<&Path>,
    wanted: Option<u32>,
) -> Result<(Binaries, Option<String>), String> {
    let mismatch = |b: &Binaries, how: &str| -> Option<String> {
        match (wanted, b.major) {
            (Some(w), Some(m)) if w != m => Some(format!(
                "the shadow server is PostgreSQL {m} ({how}) but the target runs {w}: migrations may behave differently; {}",
                if how == "chosen" {
                    format!("pass --pg-bindir with a PostgreSQL {w} bin directory")
                } else {
                    format!("install PostgreSQL {w} (scripts/postgres.sh install) or pass --pg-bindir")
                }
            )),
            _ => None,
        }
    };
    if let Some(given) = explicit(flag) {
        let b = given?;
        let warning = mismatch(&b, "chosen");
        return Ok((b, warning));
    }
    let all = candidates();
    if let Some(w) = wanted {
        if let Some(dir) = all.iter().find(|d| major_of(d) == Some(w)) {
            return Ok((
                Binaries {
                    dir: dir.clone(),
                    major: Some(w),
                },
                None,
            ));
        }
    }
    let dir = all.into_iter().next().ok_or_else(|| {
        "initdb and postgres not found on PATH, through pg_config, under /usr/lib/postgresql/*/bin or in driftwatch's cache; install the PostgreSQL server (make demo does) or pass --pg-bindir or --shadow-url".to_string()
    })?;
    let b = Binaries {
        major: major_of(&dir),
        dir,
    };
    let warning = mismatch(
        &b,
        &format!("no PostgreSQL {} binaries found", wanted.unwrap_or(0)),
    );
    Ok((b, warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_without_a_server_is_refused() {
        let empty = tempfile::tempdir().unwrap();
        let err = explicit(Some(empty.path())).unwrap().unwrap_err();
        assert!(err.contains("no initdb and postgres there"), "{err}");
    }

    #[test]
    fn the_machines_default_server_has_a_major() {
        let (b, warning) = choose(None, None).expect("a server on this machine");
        assert!(b.major.is_some_and(|m| (13..=18).contains(&m)), "{b:?}");
        assert!(warning.is_none());
    }
}
