//! Sources: the CLI arguments that become snapshots (a database URL,
//! `env:VAR`, or a snapshot file).

use crate::catalog::{self, CaptureOptions, CaptureStats, DatabaseUrl};
use crate::error::{Error, Result};
use crate::model::{Snapshot, SNAPSHOT_FORMAT};
use std::path::{Path, PathBuf};

/// A parsed source argument.
#[derive(Debug, Clone)]
pub enum Source {
    /// A live database.
    Database(DatabaseUrl),
    /// A stored snapshot file.
    SnapshotFile(PathBuf),
}

impl Source {
    /// Parses `postgres://…`, `postgresql://…`, `env:VAR` or a `.json` path.
    pub fn parse(arg: &str) -> Result<Source> {
        if let Some(var) = arg.strip_prefix("env:") {
            let value = std::env::var(var).map_err(|_| {
                Error::Usage(format!(
                    "{arg}: environment variable {var} is not set; export it with the database URL"
                ))
            })?;
            return Ok(Source::Database(DatabaseUrl::parse(&value)?));
        }
        if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
            return Ok(Source::Database(DatabaseUrl::parse(arg)?));
        }
        if let Some((scheme, _)) = arg.split_once("://") {
            return Err(Error::Usage(format!(
                "{}: unknown URL scheme {scheme}://; use postgres://, postgresql://, env:VAR or a snapshot .json file",
                catalog::redact_url(arg)
            )));
        }
        let path = PathBuf::from(arg);
        if path.extension().is_some_and(|e| e == "json") {
            return Ok(Source::SnapshotFile(path));
        }
        Err(Error::Usage(format!(
            "{arg}: not a source driftwatch reads; give postgres://…, env:VAR or a snapshot .json file"
        )))
    }

    /// How the source is shown in messages (passwords hidden).
    pub fn display(&self) -> String {
        match self {
            Source::Database(url) => url.redacted().to_string(),
            Source::SnapshotFile(path) => path.display().to_string(),
        }
    }

    /// Turns the source into a snapshot; stats only for live captures.
    pub async fn snapshot(
        &self,
        opts: &CaptureOptions,
    ) -> Result<(Snapshot, Option<CaptureStats>)> {
        match self {
            Source::Database(url) => {
                let (snap, stats) = catalog::capture(url, opts).await?;
                Ok((snap, Some(stats)))
            }
            Source::SnapshotFile(path) => Ok((read_snapshot(path)?, None)),
        }
    }
}

/// Reads a snapshot file, checks its format and re-canonicalises it.
pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("cannot be read ({e})"),
        hint: "check the path".into(),
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Input {
        path: format!("{}:{}", path.display(), e.line()),
        message: format!("is not valid JSON ({e})"),
        hint: "give a snapshot written by driftwatch snapshot".into(),
    })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(SNAPSHOT_FORMAT) => {}
        Some(other) if other.starts_with("driftwatch.snapshot/") => {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: format!("snapshot format {other} is not supported by this driftwatch (it reads {SNAPSHOT_FORMAT})"),
                hint: "upgrade driftwatch, or capture the snapshot again".into(),
            })
        }
        _ => {
            return Err(Error::Input {
                path: path.display().to_string(),
                message: "is not a driftwatch snapshot (no \"format\": \"driftwatch.snapshot/1\")".into(),
                hint: "give a snapshot written by driftwatch snapshot".into(),
            })
        }
    }
    let snapshot: Snapshot = serde_json::from_value(value).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("is a damaged snapshot ({e})"),
        hint: "capture it again".into(),
    })?;
    Ok(snapshot.recanonicalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_and_files_are_refused_without_passwords() {
        let err = Source::parse("mysql://root:hunter2@db/app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown URL scheme mysql://"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(Source::parse("schema.txt").is_err());
        assert!(matches!(
            Source::parse("a.json"),
            Ok(Source::SnapshotFile(_))
        ));
    }
}
