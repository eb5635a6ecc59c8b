//! The snapshot store's lock through the binary (a live holder is never
//! taken over, two replays of one target never both write it), and the
//! private cluster's cleanup when driftwatch is interrupted or killed.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn write_migrations(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).unwrap();
    }
}

/// Polls `done` every 50 ms; panics with `what` after a minute (a bound on a
/// hang, not a timing assertion).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_live_lock_holder_of_another_user_is_not_taken_over() {
    let work = tempfile::tempdir().unwrap();
    let migrations = work.path().join("m");
    write_migrations(&migrations, &[("001_t.sql", "CREATE TABLE t (a int);\n")]);
    let target = work.path().join("store/app");
    std::fs::create_dir_all(&target).unwrap();
    let root = nix::unistd::Uid::effective().is_root();
    // The holder: a process of another user holding the flock (as root,
    // with driftwatch run as `nobody`), its pid written in the file.
    let lock = target.join(".lock");
    let holder = LockHolder::start(&lock);
    let holder_pid = holder.pid();
    for dir in [
        work.path(),
        &migrations,
        &work.path().join("store"),
        &target,
    ] {
        chmod(dir, 0o777);
    }
    chmod(&lock, 0o644);

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwatch"));
    cmd.args(["replay", migrations.to_str().unwrap(), "--store"])
        .arg(work.path().join("store"))
        .args(["--target", "app"])
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env("TMPDIR", work.path());
    if root {
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        cmd.uid(nobody.uid.as_raw()).gid(nobody.gid.as_raw());
    }
    let out = cmd.output().unwrap();
    assert_one_line_error(&out, &format!("another driftwatch (pid {holder_pid})"), "");
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap().trim(),
        holder_pid.to_string(),
        "the lock was taken over"
    );
    assert!(!target.join("migrations").exists(), "the store was written");
    drop(holder);
}

#[tokio::test]
async fn two_replays_racing_for_one_target_never_both_write_it() {
    let work = tempfile::tempdir().unwrap();
    let migrations = work.path().join("m");
    // The second migration waits for a row lock on a shared catalog
    // (pg_authid) that this test holds, so whichever replay gets the store
    // lock first keeps it until the test lets go.
    write_migrations(
        &migrations,
        &[
            ("001_t.sql", "CREATE TABLE t (a int);\n"),
            (
                "002_wait.sql",
                "ALTER ROLE dw_barrier CONNECTION LIMIT 7;\nCREATE TABLE u (b int);\n",
            ),
        ],
    );
    let admin = shadow().admin_url();
    psql(
        &admin,
        "DO $$ BEGIN CREATE ROLE dw_barrier; EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
    );
    let mut barrier = admin.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN; ALTER ROLE dw_barrier CONNECTION LIMIT 3")
        .execute(&mut barrier)
        .await
        .unwrap();

    let store = work.path().join("store");
    // A stale lock (no such process) both of them try to take over.
    std::fs::create_dir_all(store.join("app")).unwrap();
    std::fs::write(store.join("app/.lock"), "999999999\n").unwrap();
    let spawn = || -> Child {
        Command::new(env!("CARGO_BIN_EXE_driftwatch"))
            .args(["replay", migrations.to_str().unwrap(), "--store"])
            .arg(&store)
            .args(["--target", "app", "--shadow-url", admin.expose()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = spawn();
    let mut second = spawn();
    // One of them stops at once on the lock; the other is held by the
    // barrier.
    let mut loser = None;
    wait_for("one replay to stop on the store lock", || {
        for (i, child) in [&mut first, &mut second].into_iter().enumerate() {
            if loser.is_none() && child.try_wait().unwrap().is_some() {
                loser = Some(i);
            }
        }
        loser.is_some()
    });
    // The other one holds the store lock and reaches the barrier.
    wait_for("the winner to wait on the barrier", || {
        psql_rows(
            &admin,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%dw_barrier%' AND pid <> pg_backend_pid()",
        ) == ["1"]
    });
    let (loser, winner) = match loser {
        Some(0) => (first, second),
        _ => (second, first),
    };
    let out = loser.wait_with_output().unwrap();
    assert_one_line_error(&out, "another driftwatch (pid", "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is writing this target"));

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut barrier)
        .await
        .unwrap();
    let out = winner.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(store.join("app/migrations/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(index["migrations"].as_array().unwrap().len(), 2);
    assert!(
        !store.join("app/.lock").exists(),
        "the lock outlived its holder"
    );
}

/// The private clusters (`driftwatch-pg-*` dirs) under `root`.
fn clusters_under(root: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("driftwatch-pg-")
        })
        .collect()
}

/// Runs a replay on a private cluster under its own TMPDIR, waits until the
/// cluster is up and a migration is running, sends `signal`, and checks
/// that neither the directory nor a server process survives.
fn interrupted_replay_leaves_nothing(signal: nix::sys::signal::Signal) {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // As root the server runs as another user, who must reach its dir.
    chmod(work.path(), 0o755);
    chmod(&tmp, 0o777);
    let migrations = work.path().join("m");
    write_migrations(&migrations, &[("001_wait.sql", "SELECT pg_sleep(600);\n")]);
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftwatch"));
    command
        .args(["replay", migrations.to_str().unwrap(), "--store"])
        .arg(work.path().join("store"))
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // A user's Ctrl-C reaches a terminal's foreground process with SIGINT
    // at its default; a test run started in the background of a shell
    // inherits it ignored (and would wait for a replay that never stops).
    unsafe {
        command.pre_exec(|| {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGINT,
                nix::sys::signal::SigHandler::SigDfl,
            )
            .map(|_| ())
            .map_err(std::io::Error::from)
        });
    }
    let child = command.spawn().unwrap();
    let tmp_text = tmp.display().to_string();
    wait_for("the private cluster to be created", || {
        !clusters_under(&tmp).is_empty()
    });
    let cluster = clusters_under(&tmp).remove(0);
    wait_for("the replay database to be created", || {
        Command::new("psql")
            .args(["-X", "-A", "-t", "-h"])
            .arg(cluster.join("sock"))
            .args(["-U", "postgres", "-d", "postgres", "-c"])
            .arg("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%'")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "1")
    });
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, signal).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "{signal}: the replay should not succeed"
    );
    wait_for("the cluster directory to be removed", || {
        clusters_under(&tmp).is_empty()
    });
    wait_for("the server processes to end", || {
        common::processes_mentioning(&tmp_text).is_empty()
    });
}

#[test]
fn ctrl_c_leaves_no_cluster_behind() {
    interrupted_replay_leaves_nothing(nix::sys::signal::Signal::SIGINT);
}

#[test]
fn kill_9_leaves_no_cluster_behind() {
    interrupted_replay_leaves_nothing(nix::sys::signal::Signal::SIGKILL);
}
