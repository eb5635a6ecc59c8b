//! Shared test support: one throwaway PostgreSQL cluster per test binary
//! (or DRIFTWATCH_SHADOW_URL), a fresh database per test, and helpers to run
//! SQL, capture snapshots and run the driftwatch binary.
#![allow(dead_code)]

pub mod equiv;
pub mod flyway;
pub mod steps;

use driftwatch::catalog::{capture, CaptureOptions, DatabaseUrl};
use driftwatch::model::Snapshot;
use driftwatch::shadow::Shadow;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

static SHADOW: OnceLock<Shadow> = OnceLock::new();

/// Roles the fixtures use, created once per cluster.
pub const ROLES_SQL: &str = "
DO $$ BEGIN CREATE ROLE dw_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE dw_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE dw_scanner LOGIN PASSWORD 'scanner-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE schemainspect_test_role; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
";

/// The cluster shared by every test of this binary.
pub fn shadow() -> &'static Shadow {
    SHADOW.get_or_init(|| {
        let shadow = Shadow::from_url_or_start(None).expect("start a throwaway PostgreSQL");
        psql(&shadow.admin_url(), ROLES_SQL);
        shadow
    })
}

/// Runs SQL through psql (ON_ERROR_STOP), panicking with its output on failure.
pub fn psql(url: &DatabaseUrl, sql: &str) {
    let out = Command::new("psql")
        .arg(url.expose())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Loads an SQL file with psql, stopping at the first error.
pub fn psql_file(url: &DatabaseUrl, path: &std::path::Path) {
    let out = Command::new("psql")
        .arg(url.expose())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(path)
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs one SQL query with psql and returns its rows, `|`-separated.
pub fn psql_rows(url: &DatabaseUrl, sql: &str) -> Vec<String> {
    let out = Command::new("psql")
        .arg(url.expose())
        .args(["-X", "-q", "-A", "-t", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A new empty database.
pub async fn fresh_db() -> DatabaseUrl {
    shadow()
        .fresh_database("dwtest")
        .await
        .expect("create database")
}

/// Runs each statement of `sql` in autocommit (VACUUM and friends allowed).
pub async fn exec(url: &DatabaseUrl, sql: &str) {
    let mut conn = url.connect(&[]).await.expect("connect");
    for stmt in driftwatch::normalize::split_statements(sql).expect("parse") {
        if let Err(e) = sqlx::raw_sql(stmt.text).execute(&mut conn).await {
            panic!("line {}: {}: {e}", stmt.line, stmt.text);
        }
    }
}

/// Loads a file of fixtures/schemas/ in one transaction.
pub async fn load_fixture(url: &DatabaseUrl, name: &str) {
    let path = repo().join("fixtures/schemas").join(name);
    let sql = std::fs::read_to_string(&path).expect("read fixture");
    driftwatch::shadow::load_sql(url, &sql, &path.display().to_string())
        .await
        .expect("load fixture");
}

/// Captures with default options.
pub async fn snap(url: &DatabaseUrl) -> Snapshot {
    capture(url, &CaptureOptions::default())
        .await
        .expect("capture")
        .0
}

/// The canonical JSON of a snapshot's objects, in the file layout.
pub fn objects_json(s: &Snapshot) -> String {
    driftwatch::model::json::to_layout(&s.objects)
}

/// Where `scripts/postgres.sh` keeps the server binaries of `major` (they
/// are there once `make postgres` has run).
pub fn major_bindir(major: u32) -> PathBuf {
    let out = Command::new("bash")
        .arg(repo().join("scripts/postgres.sh"))
        .args(["bindir", &major.to_string()])
        .output()
        .expect("run scripts/postgres.sh");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// [`major_bindir`], asserting the major is installed: a test of a major
/// that is not installed fails (a skipped major would prove nothing).
pub fn installed_bindir(major: u32) -> PathBuf {
    let dir = major_bindir(major);
    assert!(
        dir.join("postgres").is_file(),
        "PostgreSQL {major} is not installed in {} (make test runs scripts/postgres.sh install)",
        dir.display()
    );
    dir
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the driftwatch binary.
pub fn driftwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(args)
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .output()
        .expect("run driftwatch")
}

/// Applies a migration script to `a` with psql (stopping at the first
/// error), then asserts that `diff a b` finds nothing.
pub fn apply_and_compare(a: &str, b: &str, script: impl AsRef<[u8]>) {
    let script = script.as_ref();
    let shown = String::from_utf8_lossy(script);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), script).unwrap();
    let applied = Command::new("psql")
        .arg(a)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "{}\n{shown}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let out = driftwatch(&["diff", a, b]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{shown}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A character that acts on a terminal or reorders text: C0, DEL, C1,
/// bidi controls, line and paragraph separators (the tests' own list, kept
/// apart from the product's `model::is_hidden_char` on purpose).
pub fn acts_on_terminal(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// No character that acts, but newline and tab, and no ESC but an SGR
/// colour sequence (`ESC [ digits/; m`) when `colors`.
pub fn assert_inert(what: &str, text: &str, colors: bool) {
    for (i, c) in text.char_indices() {
        if c == '\x1b' && colors {
            let rest = &text[i + 1..];
            let end = rest.find('m').unwrap_or(rest.len());
            let seq = &rest[..end];
            assert!(
                seq.starts_with('[')
                    && end < rest.len()
                    && seq[1..].chars().all(|c| c.is_ascii_digit() || c == ';'),
                "{what}: an escape sequence that is not a colour at byte {i}: {:?}",
                &text[i..(i + 20).min(text.len())]
            );
            continue;
        }
        assert!(
            !acts_on_terminal(c) || c == '\n' || c == '\t',
            "{what}: raw {c:?} at byte {i}, in {:?}",
            &text[i.saturating_sub(40)..(i + 20).min(text.len())]
        );
    }
}

/// Asserts a failed run: exit code 2, one line on stderr naming `needle`,
/// nothing containing `secret`.
pub fn assert_one_line_error(out: &Output, needle: &str, secret: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    if !secret.is_empty() {
        assert!(!stderr.contains(secret), "password leaked: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    }
}

/// Every file under `dir`, as paths relative to it, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Runs `scripts/tools.sh ARGS` (installing or applying the real
/// migration tools) and returns its standard output, trimmed.
pub fn tools_sh(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts/tools.sh"))
        .args(args)
        .output()
        .expect("run scripts/tools.sh");
    assert!(
        out.status.success(),
        "tools.sh {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Processes whose command line or working directory mentions `needle`
/// (server backends run in the data directory).
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        let cwd = std::fs::read_link(entry.path().join("cwd"))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if cmdline.contains(needle) || cwd.contains(needle) {
            found.push(format!("{name}: {cmdline} (in {cwd})"));
        }
    }
    found
}

/// A store lock held by another process: util-linux `flock FILE sleep 60`,
/// with its pid written in the file (as driftwatch writes its own). Its
/// process group (flock and the sleep holding the inherited lock) is
/// killed on drop.
#[allow(dead_code)]
pub struct LockHolder {
    /// The holding process.
    pub child: std::process::Child,
    path: PathBuf,
}

#[allow(dead_code)]
impl LockHolder {
    /// Takes the flock of `path` in a child process and waits until it holds.
    pub fn start(path: &std::path::Path) -> LockHolder {
        use std::os::unix::process::CommandExt;
        let child = Command::new("flock")
            .arg(path)
            .args(["sleep", "60"])
            .process_group(0)
            .spawn()
            .expect("run flock (util-linux)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        // `flock -n` fails (exit 1) once the child holds it.
        while Command::new("flock")
            .args(["-n", "-E", "75"])
            .arg(path)
            .arg("true")
            .status()
            .expect("run flock -n")
            .code()
            != Some(75)
        {
            assert!(std::time::Instant::now() < deadline, "flock never held");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::fs::write(path, format!("{}\n", child.id())).unwrap();
        LockHolder {
            child,
            path: path.to_path_buf(),
        }
    }

    /// The holder's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
        // The sleep holding the inherited descriptor may outlive flock by
        // a moment: wait until the lock is free.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline
            && Command::new("flock")
                .args(["-n", "-E", "75"])
                .arg(&self.path)
                .arg("true")
                .status()
                .is_ok_and(|s| s.code() == Some(75))
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// One test per supported PostgreSQL major, 13 to 18 (`postgres_13` …),
/// each running `$check(major).await` on a cluster of that major's own
/// binaries: `common::per_major!(check_major);`.
#[allow(unused_macros)]
macro_rules! per_major {
    ($check:ident) => {
        $crate::common::per_major!(@one $check, postgres_13, 13);
        $crate::common::per_major!(@one $check, postgres_14, 14);
        $crate::common::per_major!(@one $check, postgres_15, 15);
        $crate::common::per_major!(@one $check, postgres_16, 16);
        $crate::common::per_major!(@one $check, postgres_17, 17);
        $crate::common::per_major!(@one $check, postgres_18, 18);
    };
    (@one $check:ident, $name:ident, $major:literal) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            $check($major).await;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use per_major;

/// Replays `dir` through the binary (on the binaries in `bindir`, or the
/// machine's default) and reads its last after-snapshot.
pub fn replay_last_after(dir: &std::path::Path, bindir: Option<&std::path::Path>) -> Snapshot {
    let store = tempfile::tempdir().expect("temp dir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"));
    cmd.arg("replay")
        .arg(dir)
        .arg("--store")
        .arg(store.path())
        .args(["--target", "t"])
        .env_remove("DRIFTWATCH_SHADOW_URL")
        .env_remove("DRIFTWATCH_PG_BINDIR");
    if let Some(b) = bindir {
        cmd.arg("--pg-bindir").arg(b);
    }
    let out = cmd.output().expect("run driftwatch replay");
    assert_eq!(
        out.status.code(),
        Some(0),
        "replay: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let migrations = store.path().join("t/migrations");
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(migrations.join("index.json")).expect("index"),
    )
    .expect("index json");
    let after = index["migrations"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["after"].as_str())
        .expect("a last migration")
        .to_string();
    driftwatch::source::read_snapshot(&migrations.join(after)).expect("after snapshot")
}
