//! Alerts end to end: real PostgreSQL targets drifting, `driftwatch check
//! --notify` sending through a real SMTP server (aiosmtpd, with STARTTLS,
//! implicit TLS and AUTH) and posting to a real HTTP server, and what
//! arrived read back: headers, both parts, threading, signatures. Outages
//! and rejections go through the durable outbox.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/mail.rs"]
mod mail;

mod email;
mod faults;
mod hostile;
mod outbox;
mod retention;
mod webhook;

use common::{exec, repo, shadow};
use driftwatch::catalog::DatabaseUrl;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// How long a test waits for a message that should arrive.
pub const ARRIVES: Duration = Duration::from_secs(20);

/// An out-of-band index (a warning) and its undoing.
pub const ADD_INDEX: &str = "CREATE INDEX by_hand ON shop.orders (customer_id, status)";
pub const DROP_INDEX: &str = "DROP INDEX shop.by_hand";
/// A second out-of-band change (a new drift state).
pub const ADD_COLUMN: &str = "ALTER TABLE shop.customers ADD COLUMN nickname text";

/// A demo database, a folder for its configuration and store.
pub struct Scene {
    pub db: DatabaseUrl,
    pub dir: tempfile::TempDir,
}

impl Scene {
    /// A fresh database migrated with the demo migrations (Flyway).
    pub async fn demo() -> Scene {
        let db = common::fresh_db().await;
        // As Flyway records them, checksums checked against Flyway's own.
        common::flyway::migrate(&db, &demo_dir()).await;
        Scene {
            db,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("driftwatch.toml")
    }

    /// The target's folder in the store.
    pub fn target_dir(&self) -> PathBuf {
        self.dir.path().join("store/shop")
    }

    /// Writes the configuration: the store, retries without waiting, `head`
    /// (smtp, webhooks), and target `shop` with `target` keys.
    pub fn configure(&self, head: &str, target: &str) {
        self.configure_url(head, target, self.db.expose());
    }

    /// As [`Scene::configure`], with the target at `url`.
    pub fn configure_url(&self, head: &str, target: &str, url: &str) {
        let text = format!(
            "[store]\npath = \"store\"\n\n[alerts]\nretry_backoff = \"0s\"\n\n{head}\n\n\
             [[target]]\nname = \"shop\"\nurl = \"{url}\"\nmigrations = \"{}\"\n{target}\n",
            demo_dir().display()
        );
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// Runs driftwatch with `args` and `env`.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_driftwatch"))
            .args(args)
            .envs(env.iter().copied())
            .env_remove("DRIFTWATCH_SHADOW_URL")
            .env_remove("DRIFTWATCH_CONFIG")
            .current_dir(self.dir.path())
            .output()
            .expect("run driftwatch")
    }

    /// `check --notify` of the configured target (JSON report on stdout).
    pub fn check(&self, env: &[(&str, &str)]) -> Output {
        let config = self.config_path().display().to_string();
        let shadow_url = shadow().admin_url().expose().to_string();
        self.run(
            &[
                "check",
                "--config",
                &config,
                "--notify",
                "--format",
                "json",
                "--shadow-url",
                &shadow_url,
            ],
            env,
        )
    }

    /// `status` as text.
    pub fn status(&self) -> String {
        let config = self.config_path().display().to_string();
        let out = self.run(&["status", "--config", &config], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Entries waiting in the outbox.
    pub fn outbox(&self) -> Vec<PathBuf> {
        let dir = self.target_dir().join("outbox");
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        out.retain(|p| p.extension().is_some_and(|x| x == "json"));
        out.sort();
        out
    }

    /// Runs SQL on the target.
    pub async fn sql(&self, sql: &str) {
        exec(&self.db, sql).await;
    }
}

/// The demo migrations.
pub fn demo_dir() -> PathBuf {
    repo().join("fixtures/migrations/demo")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it is not the one expected.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(out));
}

/// `[smtp]` for a plain relay on `port`.
pub fn plain_smtp(port: u16) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"driftwatch <drift@example.com>\""
    )
}

/// Every file under `dir` (recursively) that contains `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(dir.join(p))
                .map(|b| String::from_utf8_lossy(&b).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}
