//! `store:` sources: a stored snapshot named by target and version.
//!
//! ```text
//! store:TARGET@VERSION[:before|after]   around a replayed migration (default after)
//! store:TARGET@live                     the newest live snapshot a check kept
//! store:TARGET@baseline                 the newest accepted state
//! store:PATH/TARGET@…                   in the store at PATH (default: $DRIFTWATCH_STORE, else snapshots)
//! ```

use super::TargetStore;
use crate::error::{Error, Result};
use crate::migrations::same_version;
use crate::model::Snapshot;
use std::path::{Path, PathBuf};

/// Which stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Before or after a replayed migration (`after` when true).
    Migration {
        /// Its version (or `R:description`).
        version: String,
        /// After it (true) or before it.
        after: bool,
    },
    /// The newest live snapshot.
    Live,
    /// The newest accepted state.
    Baseline,
}

impl Stored {
    /// The text after `@` that names it (`live`, `baseline`, `3:before`).
    pub fn spec(&self) -> String {
        match self {
            Stored::Live => "live".into(),
            Stored::Baseline => "baseline".into(),
            Stored::Migration { version, after } => {
                format!("{version}:{}", if *after { "after" } else { "before" })
            }
        }
    }
}

/// A parsed `store:` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRef {
    /// The store folder.
    pub root: PathBuf,
    /// The target.
    pub target: String,
    /// Which snapshot.
    pub which: Stored,
}

fn usage(arg: &str, what: &str) -> Error {
    Error::Usage(format!(
        "{arg}: {what}; write store:TARGET@VERSION[:before|after], store:TARGET@live or store:TARGET@baseline"
    ))
}

impl StoredRef {
    /// Parses the text after `store:`; `default_root` is the store when the
    /// text names no folder.
    pub fn parse(arg: &str, default_root: &Path) -> Result<StoredRef> {
        let text = arg.strip_prefix("store:").unwrap_or(arg);
        let (path, spec) = text
            .rsplit_once('@')
            .ok_or_else(|| usage(arg, "no @ after the target"))?;
        let path = Path::new(path);
        let target = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| usage(arg, "no target name"))?;
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => default_root.to_path_buf(),
        };
        let which = match spec {
            "live" => Stored::Live,
            "baseline" => Stored::Baseline,
            "" => return Err(usage(arg, "no version after @")),
            other => {
                let (version, after) =
                    match (other.strip_suffix(":before"), other.strip_suffix(":after")) {
                        (Some(v), _) => (v, false),
                        (_, Some(v)) => (v, true),
                        _ => (other, true),
                    };
                // A colon is left only in `R:` (repeatables) or a bad phase.
                let bare = version.strip_prefix("R:").unwrap_or(version);
                if let Some((_, phase)) = bare.rsplit_once(':') {
                    return Err(usage(arg, &format!("unknown phase {phase:?}")));
                }
                Stored::Migration {
                    version: version.to_string(),
                    after,
                }
            }
        };
        Ok(StoredRef {
            root,
            target,
            which,
        })
    }

    /// Reads the snapshot.
    pub fn read(&self) -> Result<Snapshot> {
        let store = TargetStore::new(&self.root, &self.target)?;
        // The usual cause is another store: `check --store /tmp/x` kept
        // the scans there, and `store:NAME@…` reads the default one.
        let elsewhere = format!(
            "; if the target's scans were kept in another store, name it: store:PATH/{}@{}, \
             DRIFTWATCH_STORE=PATH, or --store PATH where the command takes it",
            self.target,
            self.which.spec()
        );
        let missing = |what: &str, hint: &str| Error::Input {
            path: store.dir().display().to_string(),
            message: format!("holds no {what} for target {}", self.target),
            hint: format!("{hint}{elsewhere}"),
        };
        match &self.which {
            Stored::Live => store.latest_live()?.map(|(_, s)| s).ok_or_else(|| {
                missing("live snapshot", "run driftwatch check on the target first")
            }),
            Stored::Baseline => store.latest_baseline()?.map(|(_, s)| s).ok_or_else(|| {
                missing(
                    "accepted state",
                    "run driftwatch check (a first scan records one) or driftwatch baseline",
                )
            }),
            Stored::Migration { version, after } => {
                let index = store.read_index()?.ok_or_else(|| {
                    missing(
                        "replayed migrations",
                        "run driftwatch replay DIR --target NAME first",
                    )
                })?;
                let m = index
                    .migrations
                    .iter()
                    .find(|m| match (&m.version, version.strip_prefix("R:")) {
                        (None, Some(desc)) => m.description == desc,
                        (Some(v), None) => same_version(v, version),
                        _ => false,
                    })
                    .ok_or_else(|| {
                        let known: Vec<String> = index
                            .migrations
                            .iter()
                            .take(8)
                            .map(|m| {
                                m.version
                                    .clone()
                                    .unwrap_or_else(|| format!("R:{}", m.description))
                            })
                            .collect();
                        Error::Input {
                            path: store.migrations_dir().display().to_string(),
                            message: format!(
                                "no replayed migration {version} (versions: {})",
                                known.join(", ")
                            ),
                            hint: "give a version the target's replay holds".into(),
                        }
                    })?;
                store.read_snapshot(if *after { &m.after } else { &m.before })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_sources_parse() {
        let root = Path::new("snapshots");
        let r = StoredRef::parse("store:shop@3", root).unwrap();
        assert_eq!((r.root.as_path(), r.target.as_str()), (root, "shop"));
        assert_eq!(
            r.which,
            Stored::Migration {
                version: "3".into(),
                after: true
            }
        );
        let r = StoredRef::parse("store:/var/dw/shop@2024.1:before", root).unwrap();
        assert_eq!(r.root, Path::new("/var/dw"));
        assert_eq!(
            r.which,
            Stored::Migration {
                version: "2024.1".into(),
                after: false
            }
        );
        assert_eq!(
            StoredRef::parse("store:shop@live", root).unwrap().which,
            Stored::Live
        );
        assert_eq!(
            StoredRef::parse("store:shop@baseline", root).unwrap().which,
            Stored::Baseline
        );
        let r = StoredRef::parse("store:shop@R:views", root).unwrap();
        assert_eq!(
            r.which,
            Stored::Migration {
                version: "R:views".into(),
                after: true
            }
        );
        let r = StoredRef::parse("store:shop@R:views:before", root).unwrap();
        assert_eq!(
            r.which,
            Stored::Migration {
                version: "R:views".into(),
                after: false
            }
        );
        assert!(StoredRef::parse("store:shop@R:views:during", root).is_err());
        assert!(StoredRef::parse("store:shop", root).is_err());
        assert!(StoredRef::parse("store:shop@3:during", root).is_err());
    }
}
