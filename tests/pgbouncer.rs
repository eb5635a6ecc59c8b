//! The capture through a real PgBouncer (the machine's `pgbouncer`, Debian's
//! 1.18 here; scripts/setup.sh installs it) in transaction pooling, in front
//! of this binary's throwaway cluster. PgBouncer 1.18 refuses sqlx's
//! `extra_float_digits` startup parameter unless told to ignore it, and
//! with `ignore_startup_parameters = extra_float_digits,options` it drops
//! the `options` that carry the capture's timeouts: the capture must then
//! set them itself in every transaction, or stop saying what to configure.

mod common;

use common::{assert_one_line_error, driftwatch, exec, fresh_db, load_fixture, objects_json};
use driftwatch::catalog::{capture, CaptureOptions, DatabaseUrl};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PgBouncer process of ours, killed when dropped.
struct Bouncer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bouncer {
    /// Starts PgBouncer in transaction pooling in front of the test
    /// cluster, with `ignore` as its `ignore_startup_parameters` (none when
    /// None), as the cluster's (unprivileged) owner: PgBouncer refuses root.
    fn start(ignore: Option<&str>) -> Bouncer {
        let admin = url::Url::parse(common::shadow().admin_url().expose()).unwrap();
        let socket_dir = admin
            .query_pairs()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| PathBuf::from(v.into_owned()))
            .expect("the test cluster listens on a Unix socket");
        let server_port = admin.port().expect("a port");
        let owner = std::fs::metadata(&socket_dir).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ignore = ignore.map_or(String::new(), |i| {
            format!("ignore_startup_parameters = {i}\n")
        });
        let ini = format!(
            "[databases]\n* = host={} port={server_port}\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
             logfile = {log}\n{ignore}",
            socket_dir.display(),
            users = dir.path().join("users.txt").display(),
            log = dir.path().join("pgbouncer.log").display(),
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), ini).unwrap();
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        for path in [
            dir.path().to_path_buf(),
            dir.path().join("pgbouncer.ini"),
            dir.path().join("users.txt"),
        ] {
            std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
        }
        // Debian puts it in /usr/sbin, which a user's PATH may lack.
        let program = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("pgbouncer");
        let mut command = Command::new(program);
        command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if nix::unistd::Uid::effective().is_root() {
            command.uid(owner.uid()).gid(owner.gid());
        }
        let mut child = command
            .spawn()
            .expect("run pgbouncer (scripts/setup.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.path().join("pgbouncer.log"));
                panic!("pgbouncer exited ({status}): {log:?}");
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Bouncer { child, port, dir }
    }

    /// The URL of `direct`'s database through this PgBouncer.
    fn url(&self, direct: &DatabaseUrl) -> DatabaseUrl {
        let database = direct.database_name().unwrap();
        DatabaseUrl::parse(&format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.port
        ))
        .unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

/// Objects whose printed form depends on search_path (the capture's is
/// pg_catalog, so that `public.` stays in type names and defaults).
const PUBLIC_OBJECTS: &str = "
CREATE TYPE public.mood AS ENUM ('calm', 'cross');
CREATE SEQUENCE public.ticket_seq;
CREATE TABLE public.tickets (
  id bigint DEFAULT nextval('public.ticket_seq') PRIMARY KEY,
  mood public.mood NOT NULL DEFAULT 'calm',
  CHECK (mood <> 'cross'::public.mood)
);
CREATE VIEW public.calm_tickets AS SELECT id FROM public.tickets WHERE mood = 'calm';
";

async fn database() -> DatabaseUrl {
    let db = fresh_db().await;
    load_fixture(&db, "kitchen_sink.sql").await;
    exec(&db, PUBLIC_OBJECTS).await;
    db
}

/// With the startup options dropped, the capture through PgBouncer sets
/// them in every transaction, on four connections sharing one exported
/// snapshot, and reads back the same schema as a direct capture.
#[tokio::test]
async fn through_pgbouncer_the_capture_equals_a_direct_one() {
    let db = database().await;
    let bouncer = Bouncer::start(Some("extra_float_digits,options"));
    let opts = CaptureOptions {
        lock_timeout: Duration::from_millis(1234),
        statement_timeout: Duration::from_millis(56_789),
        connections: 4,
        ..CaptureOptions::default()
    };
    let (direct, direct_stats) = capture(&db, &opts).await.expect("direct capture");
    assert!(!direct_stats.settings_set_locally);

    let (pooled, stats) = capture(&bouncer.url(&db), &opts)
        .await
        .unwrap_or_else(|e| panic!("capture through pgbouncer: {e}\n{}", bouncer.log()));
    // The read-back in the first transaction found the options dropped.
    assert!(stats.settings_set_locally, "{stats:?}");
    assert!(stats.connections >= 3, "{stats:?}");
    assert!(!direct.objects.tables.is_empty());
    assert_eq!(objects_json(&pooled), objects_json(&direct));

    // The CLI through the same PgBouncer: the same fingerprint, and --stats
    // says the timeouts were set in each transaction.
    let out = driftwatch(&["snapshot", bouncer.url(&db).expose(), "--stats"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("timeouts were set in each transaction"),
        "{stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(direct.fingerprint.as_str()),
        "{}",
        direct.fingerprint
    );
}

/// PgBouncer's default refuses sqlx's startup parameters: the capture stops
/// with one line that says which line pgbouncer.ini needs.
#[tokio::test]
async fn a_pgbouncer_that_refuses_startup_parameters_gets_one_line() {
    let db = fresh_db().await;
    let bouncer = Bouncer::start(None);
    let url = bouncer.url(&db);
    let out = driftwatch(&["snapshot", url.expose()]);
    assert_one_line_error(
        &out,
        "add `ignore_startup_parameters = extra_float_digits,options` to pgbouncer.ini",
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(
        stderr.contains("refused startup parameter extra_float_digits"),
        "{stderr}"
    );
}

/// `check` through PgBouncer: the capture, the history table and the
/// migration-in-progress look all go through it, each in transactions that
/// set their timeouts; a database migrated with the demo's files is clean,
/// and an index dropped by hand is found.
#[tokio::test]
async fn check_through_pgbouncer() {
    let db = fresh_db().await;
    let dir = common::repo().join("fixtures/migrations/demo");
    common::flyway::migrate(&db, &dir).await;
    let bouncer = Bouncer::start(Some("extra_float_digits,options"));
    let store = tempfile::tempdir().unwrap();
    let through = bouncer.url(&db);
    let check = || {
        driftwatch(&[
            "check",
            "--url",
            through.expose(),
            "--name",
            "demo",
            "--store",
            &store.path().display().to_string(),
            "--shadow-url",
            common::shadow().admin_url().expose(),
            "--migrations",
            &dir.display().to_string(),
            "--format",
            "json",
        ])
    };
    let out = check();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{}", bouncer.log());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["result"], "clean", "{report}");
    assert_eq!(report["applied_version"], "4", "{report}");
    // (The fingerprints differ: the replay's objects belong to the
    // unprivileged replay role, read as the target's owner when compared.)
    assert_eq!(report["findings"], serde_json::json!([]), "{report}");

    exec(&db, "DROP INDEX shop.orders_status_idx").await;
    let out = check();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("orders_status_idx"), "{text}");
}

/// The history table's reader keeps its lock_timeout through PgBouncer
/// (which dropped the startup options): with the table locked by a running
/// migration it gives up after 1 s, saying so, instead of queueing behind
/// the migration (and making the migration's later statements queue behind
/// it).
#[tokio::test]
async fn the_history_reader_keeps_its_lock_timeout_through_pgbouncer() {
    let db = fresh_db().await;
    let dir = common::repo().join("fixtures/migrations/demo");
    let set = common::flyway::migrate(&db, &dir).await;
    let bouncer = Bouncer::start(Some("extra_float_digits,options"));
    let mut migration = db.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE public.flyway_schema_history IN ACCESS EXCLUSIVE MODE")
        .execute(&mut migration)
        .await
        .unwrap();
    let locate = driftwatch::history::Locate {
        tool: Some(driftwatch::history::Tool::Flyway),
        table: None,
        ..Default::default()
    };
    let started = Instant::now();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        driftwatch::history::read(&bouncer.url(&db), &locate),
    )
    .await
    .expect("the read gave up by itself (lock_timeout), not after 10 s");
    let err = read.expect_err("the table is locked").to_string();
    assert!(err.contains("the history table is locked"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut migration)
        .await
        .unwrap();
    // Unlocked, the same read succeeds.
    let history = driftwatch::history::read(&bouncer.url(&db), &locate)
        .await
        .expect("read the history through pgbouncer");
    assert_eq!(history.migrations.len(), set.migrations.len());
}
