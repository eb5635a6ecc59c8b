//! The store's layout 2 (content-addressed objects and manifests): every
//! stored snapshot reads back as the full capture it was, the store is
//! deterministic, an old store is read and upgraded, a newer one refused,
//! a damaged object named with the snapshots it breaks, and `gc` and
//! `kill -9` leave every snapshot readable.

mod common;

use common::*;
use driftwatch::store::read_snapshot_file;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `driftwatch replay DIR` into `store` (target `t`) on the shared
/// cluster, with the store layout `layout`.
fn replay(dir: &Path, store: &Path, layout: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .arg("replay")
        .arg(dir)
        .args(["--target", "t", "--store"])
        .arg(store)
        .args(["--shadow-url", shadow().admin_url().expose()])
        .args(extra)
        .env("DRIFTWATCH_STORE_LAYOUT", layout)
        .output()
        .expect("run driftwatch replay")
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `(file, fingerprint, objects JSON)` of every stored snapshot of target t.
fn stored(store: &Path) -> Vec<(String, String, String)> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("t/migrations/index.json")).unwrap())
            .unwrap();
    index["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| [m["before"].as_str().unwrap(), m["after"].as_str().unwrap()])
        .map(|name| {
            let s = read_snapshot_file(&store.join("t/migrations").join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name.to_string(), s.fingerprint.clone(), objects_json(&s))
        })
        .collect()
}

fn evolving() -> PathBuf {
    repo().join("fixtures/migrations/evolving")
}

#[test]
fn every_stored_snapshot_reads_back_as_the_full_capture_and_the_store_is_deterministic() {
    let full = tempfile::tempdir().unwrap();
    ok(&replay(&evolving(), full.path(), "1", &["--full-capture"]));
    let a = tempfile::tempdir().unwrap();
    ok(&replay(&evolving(), a.path(), "2", &[]));
    let (want, got) = (stored(full.path()), stored(a.path()));
    assert_eq!(want.len(), got.len());
    assert!(want.len() >= 20, "{} snapshots", want.len());
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w.0, g.0);
        assert_eq!(w.1, g.1, "{}: fingerprint", w.0);
        assert!(w.2 == g.2, "{}: objects differ from the full capture", w.0);
    }
    // Manifests, not whole snapshots, in the migrations folder.
    let manifest = std::fs::read_to_string(a.path().join("t/migrations").join(&got[1].0)).unwrap();
    assert!(manifest.contains("\"format\": \"driftwatch.stored-snapshot/2\""));
    assert_eq!(
        std::fs::read_to_string(a.path().join("t/layout")).unwrap(),
        "2\n"
    );
    // The same replay writes the same files, byte for byte.
    let b = tempfile::tempdir().unwrap();
    ok(&replay(&evolving(), b.path(), "2", &[]));
    assert_eq!(files_under(a.path()), files_under(b.path()));
    for f in files_under(a.path()) {
        assert!(
            std::fs::read(a.path().join(&f)).unwrap() == std::fs::read(b.path().join(&f)).unwrap(),
            "{} differs between two replays",
            f.display()
        );
    }
}

#[test]
fn an_old_store_is_read_upgraded_and_a_newer_one_refused() {
    let store = tempfile::tempdir().unwrap();
    let demo = repo().join("fixtures/migrations/demo");
    ok(&replay(&demo, store.path(), "1", &[]));
    let before = stored(store.path());
    assert!(
        std::fs::read_to_string(store.path().join("t/migrations/2__order_lines.after.json"))
            .unwrap()
            .contains("\"format\": \"driftwatch.snapshot/1\"")
    );
    let s = store.path().display().to_string();
    let out = driftwatch(&["store", "upgrade", "--store", &s]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("t: 8 snapshot files converted"));
    assert_eq!(stored(store.path()), before);
    assert_eq!(
        std::fs::read_to_string(store.path().join("t/layout")).unwrap(),
        "2\n"
    );
    ok(&driftwatch(&["store", "verify", "--store", &s]));
    // A rerun finds nothing to do, and the replay reuses everything.
    ok(&driftwatch(&["store", "upgrade", "--store", &s]));
    ok(&replay(&demo, store.path(), "2", &[]));
    assert_eq!(stored(store.path()), before);

    std::fs::write(store.path().join("t/layout"), "3\n").unwrap();
    let out = replay(&demo, store.path(), "2", &[]);
    assert_one_line_error(&out, "newer than this driftwatch reads", "");
}

#[test]
fn a_damaged_object_is_named_with_the_snapshots_it_breaks() {
    let store = tempfile::tempdir().unwrap();
    ok(&replay(
        &repo().join("fixtures/migrations/demo"),
        store.path(),
        "2",
        &[],
    ));
    // The `shop` schema's object: in every snapshot from the first migration to the fourth, which grants on it.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.path().join("t/migrations/4__reporting.before.json")).unwrap(),
    )
    .unwrap();
    // The manifest names trees; the tree names the objects.
    let at = |name: &str| {
        store
            .path()
            .join("t/objects")
            .join(&name[..2])
            .join(format!("{}.json", &name[2..]))
    };
    let names: Vec<String> = manifest["objects"]["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            let tree = std::fs::read(at(t.as_str().unwrap())).unwrap();
            serde_json::from_slice::<Vec<String>>(&tree).unwrap()
        })
        .collect();
    let object = at(&names[1]);
    let text = std::fs::read_to_string(&object).unwrap();
    std::fs::write(&object, &text[..text.len() / 2]).unwrap();
    let source = format!("store:{}/t@3", store.path().display());
    let out = driftwatch(&[
        "snapshot",
        &source,
        "-o",
        &store.path().join("x.json").display().to_string(),
    ]);
    assert_one_line_error(&out, &object.display().to_string(), "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("it breaks 6 stored snapshots"), "{stderr}");
    assert!(
        !store.path().join("x.json").exists(),
        "nothing half written"
    );
    let out = driftwatch(&[
        "store",
        "verify",
        "--store",
        &store.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 stored snapshots read back, 6 broken"));
}

#[test]
fn gc_and_kill_9_leave_every_snapshot_readable_and_nothing_unreferenced() {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(evolving()).unwrap().flatten() {
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let store = tempfile::tempdir().unwrap();
    let s = store.path().display().to_string();
    ok(&replay(dir.path(), store.path(), "2", &[]));
    // Unreferenced leftovers: an object and a temporary file.
    let objects = store.path().join("t/objects/00");
    std::fs::create_dir_all(&objects).unwrap();
    std::fs::write(objects.join("dead.json"), "{}").unwrap();
    std::fs::write(objects.join(".driftwatch-x.tmp"), "").unwrap();
    let out = driftwatch(&["store", "gc", "--store", &s]);
    ok(&out);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(said.contains(" 1 removed, 1 temporary"), "{said}");

    // A changed early migration makes the replay rewrite most of the store;
    // kill -9 at several points, then every snapshot the index names reads.
    let v2 = dir.path().join("V2__renames.sql");
    let text = std::fs::read_to_string(&v2).unwrap();
    std::fs::write(
        &v2,
        format!("{text}\nCREATE TABLE killed_midway (id int);\n"),
    )
    .unwrap();
    for delay in [150u64, 400, 800] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftwatch"))
            .arg("replay")
            .arg(dir.path())
            .args([
                "--target",
                "t",
                "--store",
                &s,
                "--shadow-url",
                shadow().admin_url().expose(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        stored(store.path());
        ok(&driftwatch(&["store", "verify", "--store", &s]));
    }
    ok(&replay(dir.path(), store.path(), "2", &[]));
    // The replay's own cleanup left nothing for gc.
    let out = driftwatch(&["store", "gc", "--store", &s]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains(" 0 removed, 0 temporary"));
    assert!(stored(store.path())
        .iter()
        .any(|(n, _, o)| n.starts_with("2__") && o.contains("killed_midway")));
}

/// `objects/ab/cdef….json` for object `name` under the store's target t.
fn object_file(store: &Path, name: &str) -> PathBuf {
    store
        .join("t/objects")
        .join(&name[..2])
        .join(format!("{}.json", &name[2..]))
}

#[test]
fn object_names_that_are_not_sha256_are_one_line_naming_the_file() {
    use sha2::Digest;
    let store = tempfile::tempdir().unwrap();
    ok(&replay(
        &repo().join("fixtures/migrations/demo"),
        store.path(),
        "2",
        &[],
    ));
    let manifest_path = store.path().join("t/migrations/3__order_total.after.json");
    let text = std::fs::read_to_string(&manifest_path).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tree = manifest["objects"]["schemas"][0]
        .as_str()
        .unwrap()
        .to_string();
    let source = format!("store:{}/t@3", store.path().display());
    let out_file = store.path().join("x.json");
    let read = || driftwatch(&["snapshot", &source, "-o", &out_file.display().to_string()]);
    ok(&read());
    std::fs::remove_file(&out_file).unwrap();
    // In a manifest: a path out of the store, a multi-byte name (byte
    // slicing at 2 would panic), upper case, too short.
    let outside = format!("../../../../{}", "0".repeat(52));
    for bad in [
        outside.as_str(),
        "é",
        "aé",
        &tree.to_uppercase(),
        &tree[..63],
    ] {
        std::fs::write(&manifest_path, text.replace(&tree, bad)).unwrap();
        let out = read();
        assert_one_line_error(&out, &manifest_path.display().to_string(), "");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not 64 lowercase hex characters"),
            "{bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out_file.exists(), "nothing half written");
        let gc = driftwatch(&[
            "store",
            "gc",
            "--store",
            &store.path().display().to_string(),
        ]);
        assert_one_line_error(&gc, &manifest_path.display().to_string(), "");
    }
    // In a tree whose content matches its name: the tree file is named.
    let names: Vec<String> =
        serde_json::from_slice(&std::fs::read(object_file(store.path(), &tree)).unwrap()).unwrap();
    let mut forged = names.clone();
    forged[0] = format!("../{}", &names[0][3..]);
    let compact = serde_json::to_vec(&forged).unwrap();
    let forged_name: String = sha2::Sha256::digest(&compact)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let forged_file = object_file(store.path(), &forged_name);
    std::fs::create_dir_all(forged_file.parent().unwrap()).unwrap();
    std::fs::write(&forged_file, &compact).unwrap();
    std::fs::write(&manifest_path, text.replace(&tree, &forged_name)).unwrap();
    let out = read();
    assert_one_line_error(&out, &forged_file.display().to_string(), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not 64 lowercase hex characters"));
    // The migration index's snapshot names are file names of its folder.
    std::fs::write(&manifest_path, &text).unwrap();
    let index_path = store.path().join("t/migrations/index.json");
    let index = std::fs::read_to_string(&index_path).unwrap();
    std::fs::write(
        &index_path,
        index.replace(
            "\"3__order_total.after.json\"",
            "\"../../../etc/passwd.json\"",
        ),
    )
    .unwrap();
    let out = read();
    assert_one_line_error(&out, &index_path.display().to_string(), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a file name of this folder"));
}

/// Every regular file under `dir` with its permission bits.
fn modes_under(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    common::files_under(dir)
        .into_iter()
        .map(|p| {
            let mode = std::fs::metadata(dir.join(&p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            (p, mode)
        })
        .collect()
}

/// Runs the binary under `umask` (through `sh -c 'umask …; exec …'`).
fn under_umask(umask: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("sh")
        .args([
            "-c",
            &format!("umask {umask} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_driftwatch"),
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn stored_files_respect_the_umask() {
    use std::ffi::OsStr;
    for (umask, want) in [("077", 0o600), ("022", 0o644)] {
        let work = tempfile::tempdir().unwrap();
        let store = work.path().join("store");
        let demo = repo().join("fixtures/migrations/demo");
        ok(&under_umask(
            umask,
            &[
                OsStr::new("replay"),
                demo.as_os_str(),
                OsStr::new("--target"),
                OsStr::new("t"),
                OsStr::new("--store"),
                store.as_os_str(),
                OsStr::new("--shadow-url"),
                OsStr::new(shadow().admin_url().expose()),
            ],
        ));
        let source = format!("store:{}/t@3", store.display());
        let out_file = work.path().join("out/snapshot.json");
        ok(&under_umask(
            umask,
            &[
                OsStr::new("snapshot"),
                OsStr::new(&source),
                OsStr::new("-o"),
                out_file.as_os_str(),
            ],
        ));
        let files = modes_under(work.path());
        assert!(files.len() > 20, "{files:?}");
        assert!(files.iter().any(|(p, _)| p.ends_with("snapshot.json")));
        for (path, mode) in files {
            assert_eq!(mode, want, "umask {umask}: {} is {mode:o}", path.display());
        }
    }
}
