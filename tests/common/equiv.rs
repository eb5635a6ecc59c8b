//! Support for comparing two captures of one database (the equivalence
//! suite of incremental live capture): a short, readable difference of two
//! snapshots' JSON, and a restart of a test cluster's server.

use driftwatch::shadow::Cluster;
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// At most this many differences are listed (one wrong merge usually
/// repeats across many objects; the first few say what it is).
const SHOWN: usize = 12;

/// Values longer than this are cut in the listing.
const VALUE_CHARS: usize = 160;

/// The differences between two JSON texts of `Objects`, one line each
/// (`path: incremental … / full …`, or an object only one side has),
/// at most [`SHOWN`] and a count of the rest. Empty when equal.
pub fn json_differences(incremental: &str, full: &str) -> Vec<String> {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.into()));
    let mut out = Vec::new();
    walk(&parse(incremental), &parse(full), "objects", &mut out);
    if out.len() > SHOWN {
        let rest = out.len() - SHOWN;
        out.truncate(SHOWN);
        out.push(format!("... and {rest} more"));
    }
    out
}

/// Appends the differences under `path`.
fn walk(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => walk(va, vb, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: only incremental: {}", cut(va))),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: only full: {}", cut(vb)));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if keyed(x) && keyed(y) => {
            let key_of = |v: &Value| identity(v).unwrap_or_default();
            for va in x {
                let k = key_of(va);
                match y.iter().find(|vb| key_of(vb) == k) {
                    Some(vb) => walk(va, vb, &format!("{path}[{k}]"), out),
                    None => out.push(format!("{path}[{k}]: only incremental")),
                }
            }
            for vb in y {
                let k = key_of(vb);
                if !x.iter().any(|va| key_of(va) == k) {
                    out.push(format!("{path}[{k}]: only full"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                walk(va, vb, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(format!("{path}: incremental {} / full {}", cut(a), cut(b))),
    }
}

/// Whether every element of a list has an identity (schema, name,
/// arguments), so two lists can be matched object by object.
fn keyed(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|v| identity(v).is_some())
}

/// `schema.name(arguments)` of an object, from the fields it has.
fn identity(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    let name = o.get("name")?.as_str()?;
    let mut id = match o.get("schema").and_then(Value::as_str) {
        Some(s) => format!("{s}.{name}"),
        None => name.to_string(),
    };
    for field in ["identity_arguments", "arguments", "role", "object_type"] {
        if let Some(x) = o.get(field).filter(|x| !x.is_null()) {
            id.push_str(&format!(" {field}={}", cut(x)));
        }
    }
    Some(id)
}

/// A value as compact JSON, cut to [`VALUE_CHARS`] characters.
fn cut(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(VALUE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// A server restarted by [`restart`]: its postmaster is no longer the
/// cluster's child, so this stops it on drop (declare it after the
/// [`Cluster`], so it drops first and the cluster's directory is removed
/// after the server is gone).
pub struct Restarted {
    bindir: PathBuf,
    data: PathBuf,
    owner: (u32, u32),
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = pg_ctl(
            &self.bindir,
            &self.data,
            self.owner,
            &["stop", "-m", "immediate", "-w"],
        );
    }
}

/// Restarts the server of `cluster` with `pg_ctl restart` (the same
/// command line, read from `postmaster.opts`), as the data directory's
/// owner, and waits until it accepts connections again: a new
/// `pg_postmaster_start_time`, the same system identifier.
pub fn restart(cluster: &Cluster, bindir: &Path) -> Restarted {
    let data = cluster.base_dir().join("data");
    let meta = std::fs::metadata(&data).expect("data directory");
    let owner = (meta.uid(), meta.gid());
    let log = data.join("restart.log");
    let log = log.to_string_lossy();
    let out = pg_ctl(
        bindir,
        &data,
        owner,
        &["restart", "-m", "fast", "-w", "-l", &log],
    )
    .expect("run pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl restart: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Restarted {
        bindir: bindir.to_path_buf(),
        data,
        owner,
    }
}

/// Runs `pg_ctl -D data ARGS` as `owner` (the server refuses root), with
/// no environment but PATH.
fn pg_ctl(
    bindir: &Path,
    data: &Path,
    owner: (u32, u32),
    args: &[&str],
) -> std::io::Result<std::process::Output> {
    let mut cmd = Command::new(bindir.join("pg_ctl"));
    cmd.arg("-D").arg(data).args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    if nix::unistd::Uid::effective().is_root() {
        cmd.uid(owner.0).gid(owner.1);
    }
    cmd.output()
}
