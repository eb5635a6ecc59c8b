//! Faults and bad input: a target that is down, a store that is locked or
//! corrupt, targets without replayable files (the store's accepted state),
//! `store:` sources, and the checked-in demo store reproduced by a replay.

use super::common::{assert_one_line_error, exec, LockHolder};
use super::*;

#[tokio::test]
async fn a_target_that_is_down_is_a_failed_scan_recorded_as_such() {
    let store = tempfile::tempdir().unwrap();
    let s = store.path().display().to_string();
    let url = "postgres://scanner:s3cret-pw@127.0.0.1:1/shop";
    let out = driftwatch(&["check", "--url", url, "--store", &s]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("s3cret-pw")
            && !String::from_utf8_lossy(&out.stdout).contains("s3cret-pw")
    );
    let scans = std::fs::read_to_string(store.path().join("shop/scans.jsonl")).unwrap();
    let record: Value = serde_json::from_str(scans.lines().next().unwrap()).unwrap();
    assert_eq!(record["result"], "failed");
    assert!(
        record["error"].as_str().unwrap().contains("127.0.0.1"),
        "{record}"
    );
    assert!(!scans.contains("s3cret-pw"));
    let status = driftwatch(&["status", "--store", &s]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.starts_with("shop: failed at ") && text.contains("failing since"),
        "{text}"
    );
}

#[tokio::test]
async fn without_migration_files_the_first_scan_is_the_accepted_state() {
    let db = common::fresh_db().await;
    exec(
        &db,
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text)",
    )
    .await;
    let w = Watched::on(db, None);
    let (out, report) = w.check(&[]);
    // Exit 0: recording is no failure, but nothing says "clean".
    assert_exit(&out, 0);
    assert_eq!(report["result"], "recorded");
    assert_eq!(report["expected"]["from"], "first-scan");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("nothing compared: the target has no migration directory")
            && warnings.contains("--migrations DIR")
            && warnings.contains("driftwatch baseline"),
        "{warnings}"
    );
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean");
    assert_eq!(report["expected"]["from"], "baseline");

    exec(&w.db, "CREATE INDEX accounts_email ON accounts (email)").await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(
        findings(&report),
        ["warning index-added public.accounts.accounts_email unknown"]
    );

    // store: sources: the accepted state and the newest live snapshot.
    let baseline = format!("store:{}/t@baseline", w.store.path().display());
    let live = format!("store:{}/t@live", w.store.path().display());
    let out = driftwatch(&["diff", &baseline, &live, "--format", "json"]);
    assert_exit(&out, 1);
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["changes"][0]["code"], "index-added");
    let out = driftwatch(&[
        "diff",
        &format!("store:{}/t@3", w.store.path().display()),
        &live,
    ]);
    assert_one_line_error(&out, "holds no replayed migrations", "");
    // The store read by default is not the one the check used: the line
    // says how to name that one.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["diff", "store:t@live", &live])
        .env_remove("DRIFTWATCH_STORE")
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "name it: store:PATH/t@live, DRIFTWATCH_STORE=PATH, or --store PATH",
        "",
    );
}

/// The text of a first scan that recorded instead of compared says so
/// plainly, with how to give driftwatch a source of truth.
#[tokio::test]
async fn a_recorded_first_scan_says_nothing_was_compared() {
    let db = common::fresh_db().await;
    exec(&db, "CREATE TABLE accounts (id bigint PRIMARY KEY)").await;
    let w = Watched::on(db, None);
    let args = w.args();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = driftwatch(&refs);
    assert_exit(&out, 0);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(
            "nothing compared: first scan, the live schema is recorded as the accepted state"
        ),
        "{text}"
    );
    assert!(text.contains("--migrations DIR"), "{text}");
    assert!(!text.contains("clean"), "{text}");
}

#[tokio::test]
async fn a_locked_or_corrupt_store_is_one_line_and_nothing_is_written() {
    let w = Watched::migrated(&demo_dir(), None).await;
    let (out, _) = w.check(&[]);
    assert_exit(&out, 0);
    let target = w.store.path().join("t");
    // Another process holds the lock (a real flock, its pid inside).
    let holder = LockHolder::start(&target.join(".lock"));
    let args = w.args();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = driftwatch(&refs);
    assert_one_line_error(
        &out,
        &format!(
            "another driftwatch (pid {}) is writing this target",
            holder.pid()
        ),
        "",
    );
    assert_eq!(w.scans().len(), 1);
    drop(holder);
    // A pid file nobody holds does not block, even naming a live process
    // (this test's own pid; pid 1 in a container).
    std::fs::write(target.join(".lock"), format!("{}\n", std::process::id())).unwrap();
    let (out, _) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(w.scans().len(), 2);
    assert!(
        !target.join(".lock").exists(),
        "the lock outlived its holder"
    );

    let scans = target.join("scans.jsonl");
    let good = std::fs::read_to_string(&scans).unwrap();
    std::fs::write(&scans, format!("not json\n{good}")).unwrap();
    let out = driftwatch(&refs);
    assert_one_line_error(&out, "scans.jsonl:1", "");
    assert_eq!(
        std::fs::read_to_string(&scans).unwrap(),
        format!("not json\n{good}")
    );

    // A store that cannot be a folder (a regular file is in the way).
    let file = w.store.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let mut args = w.args();
    let at = args.iter().position(|a| a == "--store").unwrap();
    args[at + 1] = file.display().to_string();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_one_line_error(
        &driftwatch(&refs),
        "not-a-folder/t/scans.jsonl: Not a directory",
        "",
    );
}

#[tokio::test]
async fn kill_9_during_a_scan_leaves_a_readable_store() {
    let w = Watched::migrated(&demo_dir(), None).await;
    exec(&w.db, OUT_OF_BAND).await;
    let args = w.args();
    for delay_ms in [50u64, 300, 900] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    // The next scan takes over any lock left behind and reads what is there.
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 4, "{report}");
    let status = driftwatch(&["status", "--store", &w.store.path().display().to_string()]);
    assert_exit(&status, 0);
}

#[test]
fn the_checked_in_demo_store_is_what_a_replay_writes_byte_for_byte() {
    let store = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .current_dir(repo())
        .args([
            "replay",
            "fixtures/migrations/demo",
            "--target",
            "demo",
            "--store",
        ])
        .arg(store.path())
        .args(["--shadow-url", shadow().admin_url().expose()])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let ours = repo().join("snapshots/demo");
    let fresh = store.path().join("demo");
    // Every file, objects included, relative to the target's folder.
    let names = |dir: &Path| -> Vec<String> {
        super::common::files_under(dir)
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    };
    // The demo's own scans may add live snapshots and their objects to the
    // checked-in store: every file of a fresh replay must be there, the
    // same, and the migrations folder exactly that.
    let migrations = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|n| n.starts_with("migrations/"))
            .collect()
    };
    assert_eq!(migrations(names(&ours)), migrations(names(&fresh)));
    for name in names(&fresh) {
        assert!(
            std::fs::read(ours.join(&name)).unwrap() == std::fs::read(fresh.join(&name)).unwrap(),
            "snapshots/demo/{name} differs from a fresh replay: run `driftwatch replay fixtures/migrations/demo --target demo --force` and commit"
        );
    }
}

/// `scans.jsonl` rotated at every scan (`[store.scans] max_bytes = 1`):
/// check and status still say since when the drift has been seen.
#[tokio::test]
async fn a_rotated_scan_log_keeps_since_when() {
    let w = Watched::migrated(&demo_dir(), None).await;
    let config = w.store.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n\n[store.scans]\nmax_bytes = 1\nkeep = 2\n\n[[target]]\nname = \"t\"\nurl = \"{}\"\nmigrations = \"{}\"\n",
            w.store.path().display(),
            w.db.expose(),
            demo_dir().display()
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let shadow_url = shadow().admin_url().expose().to_string();
    let check = || {
        let out = driftwatch(&[
            "check",
            "--config",
            &config,
            "--format",
            "json",
            "--shadow-url",
            &shadow_url,
        ]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("no report ({e}): {}", String::from_utf8_lossy(&out.stderr))
        });
        (out, report)
    };
    assert_exit(&check().0, 0);
    exec(&w.db, OUT_OF_BAND).await;
    let (out, first) = check();
    assert_exit(&out, 1);
    let since = first["time"].as_str().unwrap().to_string();
    // Scans a second apart, so that a since taken from a later scan shows.
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (out, report) = check();
        assert_exit(&out, 1);
        let findings = report["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 4, "{report}");
        for f in findings {
            assert_eq!(f["since"].as_str(), Some(since.as_str()), "{f}");
        }
    }
    let target = w.store.path().join("t");
    assert!(target.join("scans.jsonl.2").is_file());
    assert!(!target.join("scans.jsonl.3").exists(), "keep = 2");
    assert!(
        w.scans().len() <= 3,
        "{} records in scans.jsonl",
        w.scans().len()
    );
    let status = driftwatch(&["status", "--config", &config]);
    assert_exit(&status, 0);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains(&format!("drift since {since}")), "{text}");
}
