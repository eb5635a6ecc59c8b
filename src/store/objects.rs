//! Content-addressed snapshots (store layout 2): every top-level object of
//! a stored snapshot is a file of its own, named by the SHA-256 of its
//! compact JSON; a kind's object names are split into trees (lists of
//! names, stored as objects too, cut where a name ends in a multiple of 32
//! so one change touches one tree), and a stored snapshot is a manifest
//! that lists its trees per kind. Consecutive snapshots of a history share
//! almost every object and tree, so a long history costs little more than
//! its last state; a migration that adds one index writes one new table
//! file, one tree and a manifest whose diff is one line.
//!
//! ```text
//! <store>/<target>/objects/ab/cdef….json     an object or a tree, named by the sha256 of its compact JSON
//! <store>/<target>/migrations/*.json         manifests (and live/, baselines/)
//! <store>/<target>/layout                    the layout number, 2
//! ```
//!
//! Writers write objects and trees before the manifest that names them
//! (renamed into place, then one syncfs), so a crash leaves at most
//! unreferenced files, which `gc` removes; nothing a manifest names is
//! ever removed first.

use crate::error::{Error, Result};
use crate::model::{Meta, Objects, Snapshot};
use crate::util::write_atomic;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The `format` of a stored snapshot's manifest.
pub const MANIFEST_FORMAT: &str = "driftwatch.stored-snapshot/2";

/// The store layout this driftwatch writes: 1 = full snapshot files,
/// 2 = content-addressed objects and manifests.
pub const LAYOUT: u32 = 2;

/// A stored snapshot: its meta, fingerprint, and its objects by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The snapshot's meta.
    pub meta: Meta,
    /// The snapshot's fingerprint (verified when read back).
    pub fingerprint: String,
    /// Per kind (the snapshot's field names, in its order), the object
    /// names in canonical order.
    pub objects: BTreeMap<String, Vec<String>>,
}

/// SHA-256 hex of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    crate::util::hex(&sha2::Sha256::digest(bytes))
}

/// True when `name` is an object name: exactly 64 lowercase hex digits
/// (a SHA-256). Names come from files anyone may have edited: anything
/// else (`..`, `/`, multi-byte text) never reaches a path.
pub fn is_object_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks every name of `names`, read from `file`: the first that is not
/// an object name is an error naming the file.
fn check_names<'a>(file: &Path, names: impl IntoIterator<Item = &'a String>) -> Result<()> {
    match names.into_iter().find(|n| !is_object_name(n)) {
        None => Ok(()),
        Some(bad) => Err(Error::Input {
            path: file.display().to_string(),
            message: format!(
                "names a stored object {:?}, which is not 64 lowercase hex characters",
                bad.chars().take(80).collect::<String>()
            ),
            hint: "the store was edited by hand: replay the target again (driftwatch replay DIR --target NAME --force)".into(),
        }),
    }
}

/// `objects/ab/cdef….json` under `objects`, for a name checked by
/// [`is_object_name`] (any other name gives a path under `objects/--/`
/// that no writer makes, never one outside it).
pub fn object_path(objects: &Path, name: &str) -> PathBuf {
    if !is_object_name(name) {
        return objects.join("--").join("not-an-object-name");
    }
    let (head, tail) = name.split_at(2);
    objects.join(head).join(format!("{tail}.json"))
}

/// The objects folder of the target whose manifest is `manifest`
/// (`<target>/<folder>/<file>` → `<target>/objects`).
pub fn objects_dir_of(manifest: &Path) -> PathBuf {
    manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."))
        .join("objects")
}

/// Writes `snapshot`'s objects under `objects` (those not there yet) and
/// returns its manifest as text.
pub fn write_objects(objects: &Path, snapshot: &Snapshot) -> Result<String> {
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order: Vec<&'static str> = Vec::new();
    let mut written: Vec<PathBuf> = Vec::new();
    macro_rules! store_kind {
        ($list:ident, $kind:ident) => {{
            let mut names = Vec::with_capacity(snapshot.objects.$list.len());
            for object in &snapshot.objects.$list {
                let compact = serde_json::to_vec(object).map_err(|e| Error::Input {
                    path: objects.display().to_string(),
                    message: e.to_string(),
                    hint: "report this".into(),
                })?;
                let name = sha256_hex(&compact);
                let path = object_path(objects, &name);
                if !path.is_file() {
                    write_object(&path, crate::model::json::to_layout(object).as_bytes())?;
                    written.push(path);
                }
                names.push(name);
            }
            // An optional list left out of the snapshot while empty is
            // left out of its manifest too (the same bytes as before it existed).
            if !crate::model::skipped_when_empty(stringify!($list), names.len()) {
                order.push(stringify!($list));
                let trees = write_trees(objects, &names, &mut written)?;
                lists.insert(stringify!($list).to_string(), trees);
            }
        }};
    }
    crate::each_kind!(store_kind);
    make_durable(objects, &written)?;
    Ok(manifest_text(
        &snapshot.meta,
        &snapshot.fingerprint,
        &order,
        &lists,
    ))
}

/// True when an object name ends a tree: one name in 32, decided by the
/// name itself (content-defined chunking), so adding or changing one
/// object changes its own tree and leaves the others as they were.
fn ends_tree(name: &str) -> bool {
    name.get(name.len().saturating_sub(2)..)
        .and_then(|tail| u8::from_str_radix(tail, 16).ok())
        .is_some_and(|b| b % 32 == 0)
}

/// Splits a kind's object names into trees (lists of names, stored as
/// objects themselves) and returns the trees' names. A manifest names
/// trees, not objects: for 1,700 objects it holds about 55 names, and a
/// snapshot that changes one object adds one object, one tree and a
/// manifest, a few KB.
fn write_trees(
    objects: &Path,
    names: &[String],
    written: &mut Vec<PathBuf>,
) -> Result<Vec<String>> {
    let mut trees = Vec::new();
    let mut start = 0;
    for (i, name) in names.iter().enumerate() {
        if ends_tree(name) || i + 1 == names.len() {
            let chunk = &names[start..=i];
            let compact = serde_json::to_vec(chunk).unwrap_or_default();
            let tree = sha256_hex(&compact);
            let path = object_path(objects, &tree);
            if !path.is_file() {
                write_object(&path, crate::model::json::to_layout(chunk).as_bytes())?;
                written.push(path);
            }
            trees.push(tree);
            start = i + 1;
        }
    }
    Ok(trees)
}

/// The object names of a tree.
fn read_tree(objects: &Path, tree: &str) -> std::result::Result<Vec<String>, String> {
    if !is_object_name(tree) {
        return Err("not 64 lowercase hex characters".into());
    }
    let text = std::fs::read(object_path(objects, tree)).map_err(|e| e.to_string())?;
    let names: Vec<String> =
        serde_json::from_slice(&text).map_err(|e| format!("not a stored tree ({e})"))?;
    let compact = serde_json::to_vec(&names).unwrap_or_default();
    if sha256_hex(&compact) != tree {
        return Err("its content is not the one its name says".into());
    }
    // A tree's content matches its name, so its names are as good as
    // whoever wrote it: checked all the same.
    if let Some(bad) = names.iter().find(|n| !is_object_name(n)) {
        return Err(format!(
            "it names {:?}, which is not 64 lowercase hex characters",
            bad.chars().take(80).collect::<String>()
        ));
    }
    Ok(names)
}

/// A manifest's object names per kind, its trees read.
fn expand(
    objects: &Path,
    manifest: &Manifest,
) -> std::result::Result<BTreeMap<String, Vec<String>>, (String, String)> {
    let mut out = BTreeMap::new();
    for (kind, trees) in &manifest.objects {
        let mut names = Vec::new();
        for tree in trees {
            names.extend(read_tree(objects, tree).map_err(|why| (tree.clone(), why))?);
        }
        out.insert(kind.clone(), names);
    }
    Ok(out)
}

/// Writes one object: a temporary file renamed into place, without an
/// fsync of its own (a first snapshot writes thousands of objects: an
/// fsync each took most of 21 s for 10,000 tables); [`sync_filesystem`]
/// makes them all durable at once before the manifest that names them is
/// written.
fn write_object(path: &Path, contents: &[u8]) -> Result<()> {
    crate::util::write_replacing(path, contents, false)
}

/// Makes the files just written durable before the manifest that names
/// them is written: an fsync each when they are few (a migration's one or
/// two objects and trees: one syncfs per migration cost more, flushing
/// everything else on the filesystem too), one syncfs when they are many
/// (a first snapshot's thousands).
fn make_durable(objects: &Path, written: &[PathBuf]) -> Result<()> {
    const ONE_BY_ONE: usize = 64;
    if written.is_empty() {
        return Ok(());
    }
    if written.len() > ONE_BY_ONE {
        return sync_filesystem(objects);
    }
    for path in written {
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// syncfs(2) on the filesystem holding `dir`: every object written so far
/// reaches the disk before the manifest does.
fn sync_filesystem(dir: &Path) -> Result<()> {
    let file = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    nix::unistd::syncfs(std::os::fd::AsRawFd::as_raw_fd(&file))
        .map_err(|e| Error::io(dir, std::io::Error::from(e)))
}

/// The manifest's text: kinds in the snapshot's field order (a BTreeMap
/// would sort them), one object name per line.
fn manifest_text(
    meta: &Meta,
    fingerprint: &str,
    order: &[&str],
    lists: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut map = serde_json::Map::new();
    for kind in order {
        map.insert(
            kind.to_string(),
            serde_json::Value::from(lists.get(*kind).cloned().unwrap_or_default()),
        );
    }
    #[derive(Serialize)]
    struct Out<'a> {
        format: &'a str,
        meta: &'a Meta,
        fingerprint: &'a str,
        objects: serde_json::Map<String, serde_json::Value>,
    }
    let compact = serde_json::to_string(&Out {
        format: MANIFEST_FORMAT,
        meta,
        fingerprint,
        objects: map,
    })
    .unwrap_or_default();
    // Lists of names break one per line (they never fit the layout's
    // 100 columns), so git diffs of manifests are line per object.
    crate::model::json::reformat(&compact)
}

/// Reads the snapshot a manifest file describes: every object read from
/// `objects`, checked against its name, and the whole against the
/// recorded fingerprint. A missing, truncated or altered object is an
/// error naming its path and the stored snapshots that need it.
pub fn read_manifest(path: &Path, manifest: Manifest) -> Result<Snapshot> {
    let objects_dir = objects_dir_of(path);
    check_names(path, manifest.objects.values().flatten())?;
    let names_by_kind = expand(&objects_dir, &manifest).map_err(|(tree, why)| {
        broken_object(&object_path(&objects_dir, &tree), &tree, why, path)
    })?;
    let mut objects = Objects::default();
    macro_rules! read_kind {
        ($list:ident, $kind:ident) => {
            if let Some(names) = names_by_kind.get(stringify!($list)) {
                objects.$list.reserve(names.len());
                for name in names {
                    let object_file = object_path(&objects_dir, name);
                    let broken = |why: String| broken_object(&object_file, name, why, path);
                    let text = std::fs::read(&object_file).map_err(|e| broken(e.to_string()))?;
                    let object = serde_json::from_slice(&text)
                        .map_err(|e| broken(format!("not a stored object ({e})")))?;
                    objects.$list.push(object);
                }
            }
        };
    }
    crate::each_kind!(read_kind);
    let snapshot = Snapshot::new(manifest.meta, objects);
    if snapshot.fingerprint != manifest.fingerprint {
        // The whole disagrees: find the object whose content is not the
        // one its name says (one re-serialization each, only now).
        if let Some(error) = altered_object(&objects_dir, &names_by_kind, &snapshot, path) {
            return Err(error);
        }
        return Err(Error::Input {
            path: path.display().to_string(),
            message: format!(
                "its objects read back as {}, not the recorded {}",
                snapshot.fingerprint, manifest.fingerprint
            ),
            hint: "the store was edited by hand: replay the target again (driftwatch replay DIR --target NAME --force)".into(),
        });
    }
    Ok(snapshot)
}

/// The first object of `snapshot` whose compact JSON does not hash to the
/// name the manifest gives it, as a damaged-object error.
fn altered_object(
    objects_dir: &Path,
    names: &BTreeMap<String, Vec<String>>,
    snapshot: &Snapshot,
    manifest: &Path,
) -> Option<Error> {
    macro_rules! check_kind {
        ($list:ident, $kind:ident) => {
            if let Some(names) = names.get(stringify!($list)) {
                for (object, name) in snapshot.objects.$list.iter().zip(names) {
                    let compact = serde_json::to_vec(object).unwrap_or_default();
                    if sha256_hex(&compact) != *name {
                        let file = object_path(objects_dir, name);
                        return Some(broken_object(
                            &file,
                            name,
                            "its content is not the one its name says".into(),
                            manifest,
                        ));
                    }
                }
            }
        };
    }
    crate::each_kind!(check_kind);
    None
}

/// The error for an object that cannot be read: its path, why, and every
/// stored snapshot of the target that names it.
fn broken_object(object: &Path, name: &str, why: String, manifest: &Path) -> Error {
    let target = manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    let mut users = manifests_naming(target, name);
    if users.is_empty() {
        users.push(manifest.display().to_string());
    }
    let shown = users.len().min(5);
    Error::Input {
        path: object.display().to_string(),
        message: format!(
            "stored object is damaged ({why}); it breaks {} stored snapshot{}: {}{}",
            users.len(),
            if users.len() == 1 { "" } else { "s" },
            users[..shown].join(", "),
            if users.len() > shown { ", …" } else { "" }
        ),
        hint: "replay the target again (driftwatch replay DIR --target NAME --force) to rewrite it"
            .into(),
    }
}

/// The manifests of `target` (its migrations, live and baselines folders).
/// A folder that cannot be read is an error: gc must not take the objects
/// its manifests name for garbage.
pub fn manifest_files(target: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for folder in ["migrations", "live", "baselines"] {
        let dir = target.join(folder);
        out.extend(
            super::scans::snapshot_files(&dir)?
                .into_iter()
                .filter(|n| n != "index.json")
                .map(|n| dir.join(n)),
        );
    }
    Ok(out)
}

/// Reads a manifest file's header, None when the file is not a manifest.
pub fn read_manifest_file(path: &Path) -> Option<Manifest> {
    let text = std::fs::read(path).ok()?;
    let manifest: Manifest = serde_json::from_slice(&text).ok()?;
    (manifest.format == MANIFEST_FORMAT).then_some(manifest)
}

/// The manifests that name `name`, as an object or as a tree (for the
/// message about a damaged one; trees that cannot be read name nothing).
fn manifests_naming(target: &Path, name: &str) -> Vec<String> {
    let objects = target.join("objects");
    let mut trees: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    manifest_files(target)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            read_manifest_file(p).is_some_and(|m| {
                m.objects.values().flatten().any(|tree| {
                    tree == name
                        || *trees.entry(tree.clone()).or_insert_with(|| {
                            read_tree(&objects, tree)
                                .is_ok_and(|names| names.iter().any(|n| n == name))
                        })
                })
            })
        })
        .map(|p| p.display().to_string())
        .collect()
}

/// What `gc` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcOutcome {
    /// Objects kept (named by a manifest).
    pub kept: usize,
    /// Objects removed.
    pub removed: usize,
    /// Leftover temporary files removed.
    pub temporary: usize,
}

/// Removes the objects of `target` that no manifest names, and leftover
/// temporary files. The caller holds the store lock. A manifest that
/// cannot be read stops the gc (its objects might be removed otherwise).
pub fn gc(target: &Path) -> Result<GcOutcome> {
    let mut referenced: HashSet<String> = HashSet::new();
    for path in manifest_files(target)? {
        let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let format: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| Error::Input {
                path: path.display().to_string(),
                message: format!("cannot be read ({e}); nothing was removed"),
                hint: "repair or remove the file, then run driftwatch store gc again".into(),
            })?;
        if format.get("format").and_then(|f| f.as_str()) != Some(MANIFEST_FORMAT) {
            continue; // a full snapshot (layout 1) names no object
        }
        let manifest: Manifest = serde_json::from_value(format).map_err(|e| Error::Input {
            path: path.display().to_string(),
            message: format!("is a damaged manifest ({e}); nothing was removed"),
            hint: "repair or remove the file, then run driftwatch store gc again".into(),
        })?;
        check_names(&path, manifest.objects.values().flatten())?;
        for tree in manifest.objects.into_values().flatten() {
            if referenced.contains(&tree) {
                continue;
            }
            let names = read_tree(&target.join("objects"), &tree).map_err(|why| Error::Input {
                path: object_path(&target.join("objects"), &tree).display().to_string(),
                message: format!("stored tree of {} is damaged ({why}); nothing was removed", path.display()),
                hint: "replay the target again (driftwatch replay DIR --target NAME --force), then run driftwatch store gc".into(),
            })?;
            referenced.extend(names);
            referenced.insert(tree);
        }
    }
    let mut outcome = GcOutcome::default();
    let objects = target.join("objects");
    let Ok(heads) = std::fs::read_dir(&objects) else {
        return Ok(outcome);
    };
    for head in heads.flatten() {
        let head_name = head.file_name().to_string_lossy().to_string();
        let Ok(files) = std::fs::read_dir(head.path()) else {
            continue;
        };
        for file in files.flatten() {
            let file_name = file.file_name().to_string_lossy().to_string();
            if file_name.starts_with(".driftwatch-") {
                let _ = std::fs::remove_file(file.path());
                outcome.temporary += 1;
                continue;
            }
            let name = format!("{head_name}{}", file_name.trim_end_matches(".json"));
            if referenced.contains(&name) {
                outcome.kept += 1;
            } else {
                std::fs::remove_file(file.path()).map_err(|e| Error::io(file.path(), e))?;
                outcome.removed += 1;
            }
        }
        let _ = std::fs::remove_dir(head.path()); // only when empty
    }
    Ok(outcome)
}

/// Checks `<target>/layout`: a store written by a newer driftwatch is
/// refused with one line.
pub fn check_layout(target: &Path) -> Result<u32> {
    let path = target.join("layout");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let layout: u32 = text.trim().parse().map_err(|_| Error::Input {
                path: path.display().to_string(),
                message: format!("is not a store layout number ({:?})", text.trim()),
                hint: format!("it holds {LAYOUT} for this driftwatch; repair the file"),
            })?;
            if layout > LAYOUT {
                return Err(Error::Input {
                    path: path.display().to_string(),
                    message: format!(
                        "the store has layout {layout}, newer than this driftwatch reads ({LAYOUT})"
                    ),
                    hint: "upgrade driftwatch".into(),
                });
            }
            Ok(layout)
        }
        Err(_) => Ok(1),
    }
}

/// Records that `target` holds layout-2 files.
pub fn mark_layout(target: &Path) -> Result<()> {
    let path = target.join("layout");
    if std::fs::read_to_string(&path).is_ok_and(|t| t.trim() == LAYOUT.to_string()) {
        return Ok(());
    }
    write_atomic(&path, format!("{LAYOUT}\n").as_bytes())
}

impl super::TargetStore {
    /// Rewrites every full snapshot file of the target (layout 1) as a
    /// manifest of content-addressed objects; returns how many. Each file
    /// is replaced atomically after its objects are written, so a crash
    /// midway leaves every snapshot readable, and a rerun goes on.
    pub fn upgrade(&self) -> Result<usize> {
        let _lock = self.lock()?;
        let mut converted = 0;
        for path in manifest_files(&self.dir())? {
            if read_manifest_file(&path).is_some() {
                continue;
            }
            let snapshot = super::read_snapshot_file(&path)?;
            let manifest = write_objects(&self.dir().join("objects"), &snapshot)?;
            write_atomic(&path, manifest.as_bytes())?;
            converted += 1;
        }
        mark_layout(&self.dir())?;
        Ok(converted)
    }

    /// Reads every stored snapshot of the target back; returns how many
    /// read and one line per one that does not.
    pub fn verify(&self) -> (usize, Vec<String>) {
        let mut ok = 0;
        let (files, mut broken) = match manifest_files(&self.dir()) {
            Ok(files) => (files, Vec::new()),
            Err(e) => (Vec::new(), vec![e.to_string()]),
        };
        for path in files {
            match super::read_snapshot_file(&path) {
                Ok(_) => ok += 1,
                Err(e) => broken.push(e.to_string()),
            }
        }
        (ok, broken)
    }
}
