//! The durable outbox: `<store>/<target>/outbox/<id>.json`. A message is
//! written (and fsynced, with its folder) before anything is sent, its
//! recipients are taken off as each one is delivered, and the file is
//! removed when none is left. An SMTP or webhook outage loses nothing; a
//! crash between a delivery and the rewrite that records it is the only
//! window for a duplicate, and the message's fixed Message-ID lets mail
//! clients fold it.
//!
//! Deliveries and rejections are appended to `alerts/deliveries.jsonl`,
//! which `driftwatch status` reads.

use super::state::AlertKind;
use crate::error::{Error, Result};
use crate::store::TargetStore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` of an outbox entry.
pub const OUTBOX_FORMAT: &str = "driftwatch.outbox/1";

/// What an entry carries, by channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "kebab-case")]
pub enum Payload {
    /// An email, formatted (RFC 5322), sent to each recipient as is.
    Email {
        /// The envelope sender.
        from: String,
        /// The whole message.
        message: String,
    },
    /// A JSON POST to a configured webhook (signed when it is sent: the key
    /// is never stored).
    Webhook {
        /// The `[webhooks.NAME]` it goes to.
        name: String,
        /// The JSON body.
        body: String,
    },
}

/// One message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Always [`OUTBOX_FORMAT`].
    pub format: String,
    /// Its file stem: sequence, kind and channel.
    pub id: String,
    /// The target it is about.
    pub target: String,
    /// What kind of alert.
    pub kind: AlertKind,
    /// Message-ID (the same on every retry).
    pub message_id: String,
    /// When it was queued.
    pub created: String,
    /// What to send.
    pub payload: Payload,
    /// Recipients not delivered yet (addresses, or the webhook's name).
    pub pending: Vec<String>,
    /// Failed delivery rounds so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before this time (RFC 3339), after a failed round.
    #[serde(default)]
    pub next_attempt: Option<String>,
    /// The last failure, for `status`.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// One line of `alerts/deliveries.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// When.
    pub time: String,
    /// The outbox entry.
    pub id: String,
    /// What kind of alert.
    pub kind: AlertKind,
    /// The recipient (address or webhook name).
    pub recipient: String,
    /// How it went.
    pub outcome: DeliveryOutcome,
    /// The server's answer when it was not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How one delivery went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryOutcome {
    /// Accepted by the server.
    Sent,
    /// Refused for good (unknown mailbox, 4xx from a webhook): not retried.
    Rejected,
    /// Not delivered this time: retried later.
    Deferred,
}

/// The outbox and delivery log of one target.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    log: PathBuf,
}

impl Outbox {
    /// The outbox of `store`'s target.
    pub fn of(store: &TargetStore) -> Outbox {
        Outbox {
            dir: store.dir().join("outbox"),
            log: store.dir().join("alerts").join("deliveries.jsonl"),
        }
    }

    /// The folder holding the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes `entry` durably (the caller holds the store lock).
    pub fn put(&self, entry: &OutboxEntry) -> Result<()> {
        let text = serde_json::to_string_pretty(entry).map_err(|e| Error::Input {
            path: self.path(&entry.id).display().to_string(),
            message: format!("cannot encode the outbox entry ({e})"),
            hint: "report this as a bug".into(),
        })?;
        crate::util::write_atomic(&self.path(&entry.id), text.as_bytes())?;
        sync_dir(&self.dir)
    }

    /// Removes a delivered entry durably.
    pub fn remove(&self, id: &str) -> Result<()> {
        let path = self.path(id);
        match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Every entry, oldest first. An entry that cannot be read is an error
    /// naming its file (it is never dropped silently).
    pub fn entries(&self) -> Result<Vec<OutboxEntry>> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
                serde_json::from_str(&text).map_err(|e| Error::Input {
                    path: format!("{}:{}", p.display(), e.line()),
                    message: format!("is not a driftwatch outbox entry ({e})"),
                    hint: "move it aside; the alert it held is then not sent".into(),
                })
            })
            .collect()
    }

    /// Appends delivery records (one write, fsynced).
    pub fn log(&self, records: &[DeliveryRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for r in records {
            if let Ok(line) = serde_json::to_string(r) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        if let Some(dir) = self.log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| Error::io(&self.log, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(&self.log, e))
    }

    /// The delivery log, oldest first (a torn last line is skipped).
    pub fn deliveries(&self) -> Result<Vec<DeliveryRecord>> {
        let text = match std::fs::read_to_string(&self.log) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.log, e)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}
