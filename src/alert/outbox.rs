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

/// The channel a message goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelKind {
    /// Email through the configured SMTP server.
    Email,
    /// A JSON POST to a configured webhook.
    Webhook,
}

/// What an entry carries, by channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "kebab-case", deny_unknown_fields)]
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

impl Payload {
    /// The channel this payload goes by.
    pub fn channel(&self) -> ChannelKind {
        match self {
            Payload::Email { .. } => ChannelKind::Email,
            Payload::Webhook { .. } => ChannelKind::Webhook,
        }
    }
}

/// One message waiting in the outbox. Read back as untrusted input: an
/// unknown field (a `url`, say) makes the entry unreadable, and delivery
/// takes recipients, URLs and secrets from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The channel it went by (absent in records written before 0.x kept
    /// it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelKind>,
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
    /// Not sent, and taken off the entry: the target's configuration no
    /// longer names this recipient.
    Dropped,
}

/// A file of the outbox that is not an entry, and why.
pub type Unreadable = (PathBuf, String);

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
            dir: store.outbox_dir(),
            log: store.delivery_log(),
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

    /// Every entry that can be read, oldest first; entries that cannot be
    /// read (see [`Outbox::read`]) are left out.
    pub fn entries(&self) -> Result<Vec<OutboxEntry>> {
        Ok(self.read()?.0)
    }

    /// Every entry, oldest first, and the files that are not entries of
    /// this outbox, with why: not JSON, unknown or missing fields, another
    /// format, an id that is not the file's name, another target.
    pub fn read(&self) -> Result<(Vec<OutboxEntry>, Vec<Unreadable>)> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Vec::new(), Vec::new()))
            }
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            match self.check(&p, &text) {
                Ok(entry) => good.push(entry),
                Err(why) => bad.push((p, why)),
            }
        }
        Ok((good, bad))
    }

    /// `text` (of file `path`) as an entry of this outbox, or why not.
    fn check(&self, path: &Path, text: &str) -> std::result::Result<OutboxEntry, String> {
        let entry: OutboxEntry = serde_json::from_str(text)
            .map_err(|e| format!("is not a driftwatch outbox entry ({e})"))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if entry.format != OUTBOX_FORMAT {
            return Err(format!(
                "has format {:?}, not {OUTBOX_FORMAT}",
                entry.format
            ));
        }
        if stem.as_deref() != Some(entry.id.as_str()) {
            return Err("its id is not its file name".into());
        }
        let target = self.dir.parent().and_then(Path::file_name);
        if !target.is_some_and(|t| t.to_string_lossy() == entry.target) {
            return Err("is about another target".into());
        }
        Ok(entry)
    }

    /// Moves a file that is not an entry to `outbox/rejected/` (the caller
    /// holds the store lock): it is kept for a person to look at, and no
    /// longer stops the entries beside it.
    pub fn set_aside(&self, path: &Path) -> Result<PathBuf> {
        let dir = self.rejected_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let to = dir.join(path.file_name().unwrap_or_default());
        std::fs::rename(path, &to).map_err(|e| Error::io(path, e))?;
        sync_dir(&self.dir)?;
        sync_dir(&dir)?;
        Ok(to)
    }

    /// `outbox/rejected/`: files set aside.
    pub fn rejected_dir(&self) -> PathBuf {
        self.dir.join("rejected")
    }

    /// Files that are not entries: set aside already, or still in the
    /// outbox (set aside at its next delivery).
    pub fn set_aside_count(&self) -> usize {
        let kept = std::fs::read_dir(self.rejected_dir())
            .map(|r| r.flatten().filter(|e| e.path().is_file()).count())
            .unwrap_or(0);
        kept + self.read().map(|(_, bad)| bad.len()).unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What someone with write access to the store might leave in an
    /// outbox: each is refused with why, the real entry is read.
    #[test]
    fn files_that_are_not_entries_of_this_outbox_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::new(dir.path(), "shop").unwrap();
        let outbox = Outbox::of(&store);
        let entry = serde_json::json!({
            "format": OUTBOX_FORMAT, "id": "1-drift-webhook-ops", "target": "shop",
            "kind": "drift", "message_id": "<m@x>", "created": "2026-01-01T00:00:00Z",
            "payload": {"channel": "webhook", "name": "ops", "body": "{}"},
            "pending": ["ops"],
        });
        let write = |name: &str, value: &serde_json::Value| {
            std::fs::create_dir_all(outbox.dir()).unwrap();
            std::fs::write(outbox.dir().join(name), value.to_string()).unwrap();
        };
        write("1-drift-webhook-ops.json", &entry);
        let mut url_in_payload = entry.clone();
        url_in_payload["id"] = "2-url".into();
        url_in_payload["payload"]["url"] = "http://evil.example/".into();
        write("2-url.json", &url_in_payload);
        let mut other_id = entry.clone();
        other_id["id"] = "../../x".into();
        write("3-id.json", &other_id);
        let mut other_target = entry.clone();
        other_target["id"] = "4-target".into();
        other_target["target"] = "bank".into();
        write("4-target.json", &other_target);
        let mut format = entry.clone();
        format["id"] = "5-format".into();
        format["format"] = "driftwatch.outbox/9".into();
        write("5-format.json", &format);
        let (good, bad) = outbox.read().unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].id, "1-drift-webhook-ops");
        let why: Vec<String> = bad.iter().map(|(_, w)| w.clone()).collect();
        assert_eq!(why.len(), 4, "{why:?}");
        assert!(why[0].contains("unknown field `url`"), "{why:?}");
        assert!(why[1].contains("its id is not its file name"), "{why:?}");
        assert!(why[2].contains("another target"), "{why:?}");
        assert!(why[3].contains("driftwatch.outbox/9"), "{why:?}");
        assert_eq!(outbox.set_aside_count(), 4);
        outbox.set_aside(&bad[0].0).unwrap();
        assert!(outbox.rejected_dir().join("2-url.json").is_file());
        assert_eq!(outbox.set_aside_count(), 4);
    }
}
