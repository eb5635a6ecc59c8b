//! initdb, once per server build: the first private cluster of a given
//! initdb binary, arguments and server user keeps a copy of its fresh data
//! directory in driftwatch's cache; later clusters copy it (about 0.1 s)
//! instead of running initdb again (about 1.2 s on the bench machine). A
//! schema-file diff or a replay starts its shadow that much sooner, and
//! the test suite starts dozens of clusters.
//!
//! The cache key is the initdb binary (its path, size and modification
//! time: a package upgrade changes them), its arguments and the user the
//! server runs as. An entry appears complete or not at all (copied aside,
//! then renamed into place); a copy that fails falls back to initdb.
//! `DRIFTWATCH_INITDB_CACHE=off` turns it off; `DRIFTWATCH_CACHE` moves it
//! (default `$XDG_CACHE_HOME/driftwatch`, else `~/.cache/driftwatch`).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// initdb's arguments besides `-D`: the same for every private cluster.
const ARGS: &[&str] = &[
    "-U",
    "postgres",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
    "--auth=trust",
];

/// Creates the data directory `data` of a new cluster, from the cache when
/// it can. `as_user` makes a command run as the server's user.
pub(super) fn create(
    bindir: &Path,
    data: &Path,
    user: Option<(u32, u32)>,
    as_user: &dyn Fn(&mut Command),
) -> Result<()> {
    let entry = cache_entry(bindir, user);
    if let Some(entry) = &entry {
        // An entry without PG_VERSION is not one initdb finished: ignored
        // and replaced.
        if entry.join("PG_VERSION").is_file() {
            if copy_tree(entry, data) {
                return Ok(());
            }
        } else if entry.exists() {
            let _ = std::fs::remove_dir_all(entry);
        }
        let _ = std::fs::remove_dir_all(data);
    }
    // initdb runs as the server's user: it gets an empty directory of its
    // own (made without following links) inside ours, which it cannot write.
    super::files::create_dir(data, user)?;
    let mut initdb = Command::new(bindir.join("initdb"));
    initdb
        .arg("-D")
        .arg(data)
        .args(ARGS)
        .stdin(Stdio::null())
        .env_remove("PGDATA");
    as_user(&mut initdb);
    let out = initdb
        .output()
        .map_err(|e| Error::Shadow(format!("cannot run initdb: {e}")))?;
    if !out.status.success() {
        return Err(Error::Shadow(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    if let Some(entry) = &entry {
        remember(data, entry);
    }
    Ok(())
}

/// The cache folder for this initdb and user; None when caching is off or
/// there is nowhere to keep it.
fn cache_entry(bindir: &Path, user: Option<(u32, u32)>) -> Option<PathBuf> {
    if std::env::var("DRIFTWATCH_INITDB_CACHE").is_ok_and(|v| v == "off") {
        return None;
    }
    let root = cache_root()?;
    let binary = bindir.join("initdb");
    let meta = std::fs::metadata(&binary).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut h = Sha256::new();
    h.update(
        binary
            .canonicalize()
            .unwrap_or(binary)
            .to_string_lossy()
            .as_bytes(),
    );
    h.update(
        format!(
            "{}|{}|{:?}|{}",
            meta.len(),
            mtime.as_nanos(),
            user,
            ARGS.join(" ")
        )
        .as_bytes(),
    );
    let key: String = h
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(root.join("initdb").join(key))
}

/// driftwatch's cache directory: `DRIFTWATCH_CACHE`, else
/// `$XDG_CACHE_HOME/driftwatch`, else `~/.cache/driftwatch`.
pub(super) fn cache_root() -> Option<PathBuf> {
    Some(match std::env::var_os("DRIFTWATCH_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(dir) => PathBuf::from(dir).join("driftwatch"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/driftwatch"),
        },
    })
}

/// Keeps a copy of the fresh data directory `data` as `entry`: copied
/// aside, then renamed into place (a concurrent writer's rename wins, and
/// this copy is dropped).
fn remember(data: &Path, entry: &Path) {
    let Some(parent) = entry.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let staging = parent.join(format!(".tmp-{}-{}", std::process::id(), nanos()));
    if copy_tree(data, &staging) && std::fs::rename(&staging, entry).is_ok() {
        return;
    }
    let _ = std::fs::remove_dir_all(&staging);
}

/// `cp -a from to` (owners, modes and times kept: the server refuses a
/// data directory that is not its user's, mode 0700).
fn copy_tree(from: &Path, to: &Path) -> bool {
    Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}
