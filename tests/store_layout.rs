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
