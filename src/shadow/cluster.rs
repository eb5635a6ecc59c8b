//! A private PostgreSQL cluster: initdb (or a copy of a cached fresh data
//! directory, see `initdb.rs`) + postgres in a temporary directory (on a
//! RAM file system when there is one with room, see [`temp_root`]),
//! listening on a Unix socket there (and on a free 127.0.0.1 port when
//! asked), fsync off. As root the server runs as an unprivileged user,
//! because initdb refuses root; the temporary directory then stays root's
//! (0711) and that user owns only `data` and the socket directory `sock`,
//! so it cannot swap a file root writes for a link (see `files.rs`). The
//! server and initdb get a minimal environment (`minimal_env`). It is stopped and removed on drop; a small
//! watchdog process does the same if this process dies without dropping it
//! (Ctrl-C, kill, a test binary's static).

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often startup and shutdown are polled: both take tens of
/// milliseconds, so a coarse interval would be most of the wait.
const POLL: Duration = Duration::from_millis(2);

/// The least free space a RAM file system needs to hold private clusters
/// (a data directory is about 40 MB before any load; a replay with data
/// needs more). Docker's default 64 MB `/dev/shm` is too small.
const RAM_DIR_MIN_FREE: u64 = 1 << 30;

/// How to start a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Also listen on a free TCP port of 127.0.0.1.
    pub tcp: bool,
    /// Extra `-c name=value` server settings.
    pub settings: Vec<(String, String)>,
    /// PEM certificate and key: turns `ssl=on` (needs `tcp`).
    pub tls: Option<(String, String)>,
    /// The directory of initdb and postgres (default: [`find_bindir`]).
    pub bindir: Option<PathBuf>,
}

/// A running private cluster. Superuser `postgres` and the replay role
/// connect without a password over the socket (its directory is the
/// server user's alone); other roles authenticate with scram-sha-256.
pub struct Cluster {
    base: PathBuf,
    port: u16,
    tcp: bool,
    postmaster: Child,
    watchdog: Option<Child>,
    /// Whether the `postgres` database was handed out for a load.
    initial_taken: AtomicBool,
}

/// Finds the directory holding initdb and postgres: `DRIFTWATCH_PG_BINDIR`,
/// else PATH, `pg_config --bindir`, the newest `/usr/lib/postgresql/*/bin`,
/// then driftwatch's cache of other majors.
pub fn find_bindir() -> Option<PathBuf> {
    super::binaries::choose(None, None).ok().map(|(b, _)| b.dir)
}

/// The uid/gid to run the server as when we are root.
fn server_user() -> Result<Option<(u32, u32)>> {
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Ok(Some(user)) = nix::unistd::User::from_name(name) {
            return Ok(Some((user.uid.as_raw(), user.gid.as_raw())));
        }
    }
    Err(Error::Shadow(
        "running as root and no unprivileged user (postgres, nobody) exists to run PostgreSQL as; create one or run as a normal user".into(),
    ))
}

/// Where private clusters get their temporary directory: `TMPDIR` when
/// set; else `/dev/shm` when it is a tmpfs with at least 1 GiB free that
/// we may write; else `/tmp`. A cluster creates about a thousand
/// files when it starts and hundreds more for a schema's tables, and file
/// creation on a busy disk costs up to a millisecond each: measured on the
/// bench machine, the copy of the cached data directory took 0.07 to 0.14
/// s on tmpfs against 0.4 to 0.9 s on ext4, and loading an 869-line
/// schema 0.2 s against 0.6 s. Nothing there needs to outlive the command.
pub fn temp_root() -> PathBuf {
    // An empty TMPDIR counts as unset (std's temp_dir would return "").
    if let Some(dir) = std::env::var_os("TMPDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    let roomy_tmpfs = nix::sys::statfs::statfs(shm).is_ok_and(|fs| {
        fs.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC
            && fs
                .blocks_available()
                .saturating_mul(u64::try_from(fs.block_size()).unwrap_or(0))
                >= RAM_DIR_MIN_FREE
    });
    let writable = nix::unistd::access(shm, nix::unistd::AccessFlags::W_OK).is_ok();
    if roomy_tmpfs && writable {
        shm.to_path_buf()
    } else {
        PathBuf::from("/tmp")
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Shadow(format!("no free TCP port on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Shadow(e.to_string()))?
        .port();
    Ok(port)
}

impl Cluster {
    /// initdb and start a cluster; returns once it accepts connections.
    pub fn start(opts: ClusterOptions) -> Result<Cluster> {
        let bindir = match &opts.bindir {
            Some(dir) => dir.clone(),
            None => {
                super::binaries::choose(None, None)
                    .map_err(Error::Shadow)?
                    .0
                    .dir
            }
        };
        let user = server_user()?;
        // The directory stays root's (mode 0711: the server's user may pass
        // through, not write): root's own files in it (log, pg_hba.conf,
        // TLS key) are created new, without following links, and handed
        // over by descriptor; the server's user gets only `data` and
        // `sock`, where root writes nothing (see files.rs).
        let base = tempfile::Builder::new()
            .prefix("driftwatch-pg-")
            .tempdir_in(temp_root())
            .map_err(|e| Error::Shadow(format!("cannot create a temporary directory: {e}")))?
            .keep();
        let data = base.join("data");
        let sock = base.join("sock");
        let as_user = |cmd: &mut Command| {
            if let Some((uid, gid)) = user {
                cmd.uid(uid).gid(gid);
            }
            minimal_env(cmd);
            // Own process group: a Ctrl-C meant for driftwatch must not stop
            // the server before the watchdog cleans up.
            cmd.process_group(0);
        };
        let prepared = (|| -> Result<(std::fs::File, Vec<String>)> {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o711))
                .map_err(|e| Error::io(&base, e))?;
            super::initdb::create(&bindir, &data, user, &as_user)?;
            super::files::create_dir(&sock, user)?;
            let log = super::files::create_new(&base.join("server.log"), 0o600, user, b"")?;
            // Socket superuser and the replay role without a password (the
            // socket's directory is the server user's alone); everyone else
            // with one.
            let hba = format!(
                "local all postgres trust\nlocal all {role} trust\nlocal all all scram-sha-256\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
                role = super::REPLAY_ROLE
            );
            let hba_file = base.join("pg_hba.conf");
            super::files::create_new(&hba_file, 0o600, user, hba.as_bytes())?;
            let mut settings = vec![format!("hba_file={}", hba_file.display())];
            if let Some((cert, key)) = &opts.tls {
                for (name, body, setting) in [
                    ("server.crt", cert, "ssl_cert_file"),
                    ("server.key", key, "ssl_key_file"),
                ] {
                    let path = base.join(name);
                    super::files::create_new(&path, 0o600, user, body.as_bytes())?;
                    settings.push(format!("{setting}={}", path.display()));
                }
            }
            Ok((log, settings))
        })();
        let (log, file_settings) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&base);
                return Err(e);
            }
        };

        let port = if opts.tcp { free_port()? } else { 5432 };
        let mut postgres = Command::new(bindir.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&sock)
            .args(["-p", &port.to_string()])
            .args([
                "-c",
                &format!(
                    "listen_addresses={}",
                    if opts.tcp { "127.0.0.1" } else { "" }
                ),
            ])
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .args([
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=256MB",
                "-c",
                "max_locks_per_transaction=1024",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| Error::Shadow(e.to_string()))?)
            .stderr(log);
        if opts.tls.is_some() {
            postgres.args(["-c", "ssl=on"]);
        }
        for setting in &file_settings {
            postgres.arg("-c").arg(setting);
        }
        for (k, v) in &opts.settings {
            postgres.args(["-c", &format!("{k}={v}")]);
        }
        as_user(&mut postgres);
        let postmaster = postgres
            .spawn()
            .map_err(|e| Error::Shadow(format!("cannot start postgres: {e}")))?;
        let watchdog = spawn_watchdog(postmaster.id(), &base);
        let mut cluster = Cluster {
            base,
            port,
            tcp: opts.tcp,
            postmaster,
            watchdog,
            initial_taken: AtomicBool::new(false),
        };
        cluster.wait_ready()?;
        Ok(cluster)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let socket = self.socket_dir().join(format!(".s.PGSQL.{}", self.port));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.postmaster.try_wait() {
                let log = std::fs::read_to_string(self.base.join("server.log")).unwrap_or_default();
                return Err(Error::Shadow(format!(
                    "postgres exited ({status}) while starting: {}",
                    log.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
                )));
            }
            // The socket appears before the server accepts connections; the
            // pid file's last line says "ready" when it does.
            let ready = std::fs::read_to_string(self.base.join("data/postmaster.pid"))
                .map(|pid| pid.lines().any(|l| l.trim() == "ready"))
                .unwrap_or(false);
            if socket.exists() && ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Shadow(
                    "postgres did not become ready within 60 s".into(),
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The URL of the cluster's `postgres` database the first time it is
    /// asked, None afterwards. It is as empty as a database created from
    /// template0 (initdb copies both from template1), and loading into it
    /// skips CREATE DATABASE (0.06 to 0.3 s on a new cluster: it copies
    /// template0 through the WAL). It is never dropped: the cluster goes.
    pub fn take_initial_database(&self) -> Option<DatabaseUrl> {
        (!self.initial_taken.swap(true, Ordering::SeqCst)).then(|| self.url("postgres"))
    }

    /// Superuser URL of `database` over the Unix socket.
    pub fn url(&self, database: &str) -> DatabaseUrl {
        let url = format!(
            "postgres://postgres@localhost:{}/{database}?host={}",
            self.port,
            self.socket_dir().display()
        );
        DatabaseUrl::parse(&url).expect("cluster URL is valid")
    }

    /// URL of `database` over TCP for `user[:password]`, with extra query
    /// parameters (sslmode, …). None when the cluster has no TCP listener.
    pub fn tcp_url(&self, userinfo: &str, database: &str, params: &str) -> Option<String> {
        self.tcp.then(|| {
            let sep = if params.is_empty() { "" } else { "?" };
            format!(
                "postgres://{userinfo}@127.0.0.1:{}/{database}{sep}{params}",
                self.port
            )
        })
    }

    /// The socket directory (psql's `-h`).
    pub fn socket_dir(&self) -> PathBuf {
        self.base.join("sock")
    }

    /// The directory holding the data directory, the socket's directory
    /// and the files driftwatch writes for the server (log, pg_hba.conf).
    pub fn base_dir(&self) -> &Path {
        &self.base
    }

    /// The postmaster's process id.
    pub fn postmaster_pid(&self) -> u32 {
        self.postmaster.id()
    }

    /// The port (TCP, and the socket's file name).
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The environment of initdb and the server: none of driftwatch's (a
/// database URL, an SMTP password or a webhook secret must not be readable
/// by SQL a migration runs, e.g. through /proc/PID/environ), only what
/// finding programs and formatting times need.
fn minimal_env(cmd: &mut Command) {
    cmd.env_clear();
    cmd.env(
        "PATH",
        std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
    );
    for name in ["TZ", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES"] {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
}

/// A shell loop that outlives us: once our pid is gone it stops the server
/// (SIGQUIT: immediate shutdown) and removes the directory.
fn spawn_watchdog(postmaster: u32, base: &Path) -> Option<Child> {
    let script = r#"while kill -0 "$0" 2>/dev/null; do sleep 0.5; done
kill -QUIT "$1" 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$1" 2>/dev/null || break; sleep 0.3; done
kill -KILL "$1" 2>/dev/null
rm -rf "$2""#;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(std::process::id().to_string())
        .arg(postmaster.to_string())
        .arg(base)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    minimal_env(&mut cmd);
    cmd.spawn().ok()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let pid = nix::unistd::Pid::from_raw(self.postmaster.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGQUIT);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.postmaster.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.postmaster.kill();
                    let _ = self.postmaster.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(POLL),
            }
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}
