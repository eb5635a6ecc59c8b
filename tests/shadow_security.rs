//! Untrusted SQL in the shadow: a private cluster's files cannot be
//! redirected by the server's user, the server inherits none of
//! driftwatch's environment, and migrations replay as an unprivileged role
//! (extension statements as the superuser), so reading server files,
//! running programs or reading a parent's environment fails with the
//! migration's file and line.

mod common;

use common::*;
use driftwatch::shadow::{Cluster, ClusterOptions, Shadow, REPLAY_ROLE};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

const SECRET: &str = "s3cr3t-smtp-password-4711";

/// A migration directory with `files` (name, SQL).
fn history(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    dir
}

/// `driftwatch replay DIR` on a private cluster (no --shadow-url), with a
/// secret in its environment.
fn replay_private(dir: &Path, extra: &[&str]) -> std::process::Output {
    let store = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["replay", dir.to_str().unwrap(), "--target", "t", "--store"])
        .arg(store.path())
        .args(extra)
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env("DRIFTWATCH_SMTP_PASSWORD", SECRET)
        .env("DATABASE_URL", format!("postgres://app:{SECRET}@db/app"))
        .output()
        .expect("run driftwatch")
}

#[test]
fn the_server_user_cannot_plant_links_where_root_writes() {
    let cluster = Cluster::start(ClusterOptions::default()).expect("cluster");
    let base = cluster.base_dir();
    let meta = std::fs::symlink_metadata(base).unwrap();
    // The directory stays ours: the server's user may pass, not write.
    assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
    assert_eq!(meta.mode() & 0o777, 0o711, "{:o}", meta.mode());
    for name in ["server.log", "pg_hba.conf"] {
        let m = std::fs::symlink_metadata(base.join(name)).unwrap();
        assert!(m.file_type().is_file(), "{name} is a regular file");
        assert_eq!(m.mode() & 0o777, 0o600, "{name}");
    }
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    // Root's files are the server user's (the server reads them) but sit
    // in a directory that user cannot change: it cannot replace one by a
    // link, or plant one for the next file root creates.
    let server_uid = std::fs::metadata(base.join("data")).unwrap().uid();
    assert_ne!(server_uid, 0);
    assert_eq!(
        std::fs::symlink_metadata(base.join("pg_hba.conf"))
            .unwrap()
            .uid(),
        server_uid
    );
    let user = nix::unistd::User::from_uid(server_uid.into())
        .unwrap()
        .unwrap()
        .name;
    for attempt in [
        format!("ln -s /etc/passwd {}/planted", base.display()),
        format!("rm -f {}/pg_hba.conf", base.display()),
        format!("mv {0}/server.log {0}/moved", base.display()),
    ] {
        let out = Command::new("runuser")
            .args(["-u", &user, "--", "sh", "-c", &attempt])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{user} could: {attempt}");
    }
    assert!(!base.join("planted").exists());
    assert!(base.join("pg_hba.conf").exists());
}

#[tokio::test]
async fn the_server_gets_none_of_driftwatchs_environment() {
    // Set before the cluster starts (this binary's other tests do not read it).
    std::env::set_var("DRIFTWATCH_WEBHOOK_SECRET", SECRET);
    let cluster = Cluster::start(ClusterOptions::default()).expect("cluster");
    let url = cluster.url("postgres");
    let backend: i32 = {
        let mut conn = url.connect(&[]).await.unwrap();
        sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    for pid in [cluster.postmaster_pid(), backend as u32] {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("read environ as root");
        let environ = String::from_utf8_lossy(&environ).replace('\0', "\n");
        assert!(!environ.contains(SECRET), "pid {pid}: {environ}");
        assert!(!environ.contains("DRIFTWATCH_"), "pid {pid}: {environ}");
        // A backend writes its process title over its original environment
        // (the even_a_superuser_replay test reads a backend's own): PATH is
        // checked on the postmaster, which keeps it.
        if pid == cluster.postmaster_pid() {
            assert!(environ.contains("PATH="), "{environ:?}");
        }
    }
    std::env::remove_var("DRIFTWATCH_WEBHOOK_SECRET");
}

#[test]
fn even_a_superuser_replay_finds_no_secret_in_the_servers_environment() {
    // --shadow-superuser: the migration may run programs, and what the
    // program sees of the server's environment is put in the error.
    let dir = history(&[(
        "V1__env.sql",
        "CREATE TABLE loot (line text);\n\
         COPY loot FROM PROGRAM 'env';\n\
         DO $$ BEGIN RAISE EXCEPTION 'ENV[%]', (SELECT string_agg(line, ';') FROM loot); END $$;\n",
    )]);
    let out = replay_private(dir.path(), &["--shadow-superuser"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("V1__env.sql:3:"), "{stderr}");
    assert!(
        stderr.contains("ENV[") && stderr.contains("PATH="),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert!(!stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn reading_files_or_running_programs_fails_with_file_and_line() {
    let attempts = [
        "COPY loot FROM PROGRAM 'cat /proc/$PPID/environ'",
        "COPY loot FROM '/proc/self/environ'",
        "SELECT pg_read_file('/proc/self/environ')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "GRANT pg_execute_server_program TO CURRENT_USER",
        "CREATE ROLE sneaky IN ROLE pg_read_server_files",
    ];
    for attempt in attempts {
        let dir = history(&[
            ("V1__init.sql", "CREATE TABLE loot (line text);\n"),
            (
                "V2__steal.sql",
                &format!("-- reads secrets\n\n{attempt};\n"),
            ),
        ]);
        let out = replay_private(dir.path(), &[]);
        assert_one_line_error(&out, "V2__steal.sql:3: statement failed: ", SECRET);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--shadow-superuser"), "{attempt}: {stderr}");
    }
}

#[tokio::test]
async fn migrations_replay_as_the_unprivileged_owner_and_extensions_as_the_superuser() {
    // The log, captured.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let sink = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || LogSink(sink.clone()))
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let shadow = Shadow::from_url_or_start(None).expect("private cluster");
    let db = shadow.replay_database("sec", false).await.unwrap();
    let sql = "CREATE SCHEMA ext;\nCREATE EXTENSION citext SCHEMA ext;\nCREATE TABLE t (name ext.citext);\n";
    driftwatch::shadow::load_sql_as(&db, sql, "schema.sql")
        .await
        .expect("load");
    let rows = psql_rows(
        &db.url,
        "SELECT current_user, r.rolsuper, r.rolcreaterole, pg_get_userbyid(d.datdba), pg_get_userbyid(c.relowner) \
         FROM pg_roles r, pg_database d, pg_class c \
         WHERE r.rolname = current_user AND d.datname = current_database() AND c.relname = 't'",
    );
    assert_eq!(
        rows,
        vec![format!("{REPLAY_ROLE}|f|t|{REPLAY_ROLE}|{REPLAY_ROLE}")]
    );
    let text = String::from_utf8_lossy(&log.lock().unwrap()).to_string();
    assert!(
        text.contains("CREATE EXTENSION runs as the shadow server's superuser")
            && text.contains("schema.sql:2"),
        "{text}"
    );
    // Without the superuser connection the extension is refused (citext
    // is trusted on 13+, so ask for an untrusted one).
    let db = shadow.replay_database("sec", false).await.unwrap();
    let err = driftwatch::shadow::load_sql(&db.url, "CREATE EXTENSION amcheck;\n", "x.sql")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.sql:1") && err.contains("permission denied"),
        "{err}"
    );
    let db = shadow.replay_database("sec", false).await.unwrap();
    driftwatch::shadow::load_sql_as(&db, "CREATE EXTENSION amcheck;\n", "x.sql")
        .await
        .expect("amcheck as the superuser");
}

/// A `tracing` writer into a shared buffer.
struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn roles_a_history_creates_and_grants_to_still_work_unprivileged() {
    let dir = history(&[
        (
            "V1__roles.sql",
            "CREATE TABLE t (id int);\n\
             DO $$ BEGIN CREATE ROLE app_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n\
             CREATE ROLE app_writer NOLOGIN;\n\
             GRANT SELECT ON t TO app_reader;\n\
             GRANT app_writer TO CURRENT_USER;\n\
             GRANT CREATE ON SCHEMA public TO app_writer;\n\
             ALTER TABLE t OWNER TO app_writer;\n",
        ),
        ("V2__more.sql", "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE INDEX ON t USING btree (id);\n"),
    ]);
    let out = replay_private(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
