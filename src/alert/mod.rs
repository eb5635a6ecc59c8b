//! Alerts: after each scan, decide whether its target's drift state calls
//! for a message ([`state::decide`]), write each message to the durable
//! outbox, then deliver what the outbox holds through the channels
//! ([`Notifier`]s) and retry what could not be delivered, with backoff, on
//! the next run.
//!
//! The order that makes "never lost, never repeated" hold: the outbox
//! entries are written (fsynced) before the alert state that says they were
//! made, both under the target's store lock; a message is sent only from
//! the outbox, and taken off it per recipient once the server accepted it.

mod message;
pub mod notifier;
pub mod outbox;
pub mod state;
pub mod view;

pub use notifier::{DeliveryError, Notifier};
pub use outbox::{ChannelKind, DeliveryOutcome, DeliveryRecord, Outbox, OutboxEntry, Payload};
pub use state::{decide, AlertKind, AlertState};
pub use view::AlertView;

use crate::config::{AlertPolicy, Config};
use crate::error::{Error, Result};
use crate::report::CheckReport;
use crate::store::TargetStore;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A channel, shared with the blocking delivery task.
type Channel = Arc<dyn Notifier>;

/// The channels and settings alerts go out with, set up once per process
/// (secrets read, TLS configured) before any scan.
#[derive(Clone)]
pub struct Alerting {
    from: Option<lettre::message::Mailbox>,
    email: Option<Arc<dyn Notifier>>,
    webhook: Option<Arc<dyn Notifier>>,
    retry_backoff: Duration,
    dry_run: Option<PathBuf>,
}

/// What happened to a target's alerts after a scan.
#[derive(Debug, Default, Clone)]
pub struct AlertOutcome {
    /// Messages made by this scan (their outbox ids).
    pub queued: Vec<String>,
    /// Deliveries made, rejected, or deferred while flushing.
    pub deliveries: Vec<DeliveryRecord>,
    /// Entries still in the outbox afterwards.
    pub pending: usize,
    /// Files of the outbox that were not entries, set aside this time:
    /// one line each (the file, why, where it went).
    pub set_aside: Vec<String>,
    /// A dry run: the folder its messages were written to instead of sent.
    pub written_to: Option<PathBuf>,
}

impl Alerting {
    /// The channels `config` defines. With `dry_run`, nothing is sent and
    /// no state is kept: each message is written to that folder.
    pub fn from_config(config: &Config, dry_run: Option<PathBuf>) -> Result<Alerting> {
        let settings = config.smtp.as_ref().map(|s| s.settings()).transpose()?;
        let from = settings.as_ref().map(|s| s.config.from.clone());
        let (email, webhook): (Option<Channel>, Option<Channel>) = match &dry_run {
            Some(dir) => {
                let n: Arc<dyn Notifier> = Arc::new(notifier::DryRunNotifier::new(dir.clone())?);
                (Some(n.clone()), Some(n))
            }
            None => (
                match &settings {
                    Some(s) => Some(Arc::new(notifier::SmtpNotifier::new(s)?)),
                    None => None,
                },
                Some(Arc::new(notifier::WebhookNotifier::new(
                    config.webhooks.values(),
                )?)),
            ),
        };
        Ok(Alerting {
            from,
            email,
            webhook,
            retry_backoff: config.alerts.retry_backoff,
            dry_run,
        })
    }

    fn notifier(&self, payload: &Payload) -> Option<&Arc<dyn Notifier>> {
        match payload {
            Payload::Email { .. } => self.email.as_ref(),
            Payload::Webhook { .. } => self.webhook.as_ref(),
        }
    }

    /// Decides what `report` calls for, and writes those messages to the
    /// outbox and the new state, under the store lock. A dry run keeps
    /// neither: it returns the messages for [`Alerting::deliver_now`].
    pub fn queue(
        &self,
        store: &TargetStore,
        policy: &AlertPolicy,
        report: &CheckReport,
    ) -> Result<Vec<OutboxEntry>> {
        if !policy.has_channels() {
            return Ok(Vec::new());
        }
        let _lock = store.lock()?;
        let state_path = store.alert_state_file();
        let state = read_state(&state_path)?;
        let now = crate::util::unix_seconds(&report.time)
            .unwrap_or_else(|| crate::util::unix_seconds(&crate::util::now_rfc3339()).unwrap_or(0));
        let (alerts, mut next) = decide(&state, report, policy, now);
        if alerts.is_empty() {
            if next != state && self.dry_run.is_none() {
                write_state(&state_path, &next)?;
            }
            return Ok(Vec::new());
        }
        let report_path = if self.dry_run.is_some() {
            None
        } else {
            Some(write_report(store, report)?)
        };
        let mut entries = Vec::new();
        for alert in &alerts {
            entries.extend(message::entries(
                &message::Context {
                    report,
                    policy,
                    from: self.from.as_ref(),
                    report_path: report_path.as_deref(),
                },
                alert,
                &mut next,
            )?);
        }
        if self.dry_run.is_none() {
            let outbox = Outbox::of(store);
            for e in &entries {
                outbox.put(e)?;
            }
            write_state(&state_path, &next)?;
        }
        Ok(entries)
    }

    /// Delivers `entries` once, without the outbox (a dry run, a test
    /// message): returns a record per recipient.
    pub async fn deliver_now(&self, entries: Vec<OutboxEntry>) -> Result<Vec<DeliveryRecord>> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for e in &entries {
                out.extend(me.deliver_entry(e).0);
            }
            out
        })
        .await
        .map_err(|e| Error::Usage(format!("delivery task failed: {e}")))
    }

    /// Tries every recipient of `entry`; returns the records and the
    /// recipients still pending.
    fn deliver_entry(&self, entry: &OutboxEntry) -> (Vec<DeliveryRecord>, Vec<String>) {
        let mut records = Vec::new();
        let mut still = Vec::new();
        let record = |recipient: &str, outcome, error| DeliveryRecord {
            time: crate::util::now_rfc3339(),
            id: entry.id.clone(),
            kind: entry.kind,
            recipient: recipient.to_string(),
            channel: Some(entry.payload.channel()),
            outcome,
            error,
        };
        for r in &entry.pending {
            let result = match self.notifier(&entry.payload) {
                Some(n) => n.deliver(entry, r),
                None => Err(DeliveryError::Deferred(
                    "no channel for it in the configuration".into(),
                )),
            };
            match result {
                Ok(()) => records.push(record(r, DeliveryOutcome::Sent, None)),
                Err(DeliveryError::Rejected(e)) => {
                    records.push(record(r, DeliveryOutcome::Rejected, Some(e)))
                }
                Err(DeliveryError::Deferred(e)) => {
                    records.push(record(r, DeliveryOutcome::Deferred, Some(e)));
                    still.push(r.clone());
                }
            }
        }
        (records, still)
    }

    /// Delivers what the target's outbox holds and is due (every entry
    /// with `all`), under the store lock. Each recipient delivered is taken
    /// off its entry at once; an entry with nothing left is removed; one
    /// that failed waits `retry_backoff`, doubled per failed round up to an
    /// hour.
    ///
    /// The outbox is input like any file: each recipient is checked
    /// against `policy` (the target's configuration now) before it is
    /// tried, and a file that is not an entry is set aside.
    pub fn flush(
        &self,
        store: &TargetStore,
        policy: &AlertPolicy,
        all: bool,
    ) -> Result<AlertOutcome> {
        let _lock = store.lock()?;
        let outbox = Outbox::of(store);
        let now = crate::util::unix_seconds(&crate::util::now_rfc3339()).unwrap_or(0);
        let mut outcome = AlertOutcome::default();
        let (entries, unreadable) = outbox.read()?;
        for (path, why) in unreadable {
            let to = outbox.set_aside(&path)?;
            tracing::warn!(target = %store.target(), file = ?path, moved_to = ?to, error = ?why, "outbox entry set aside");
            // The file's name and serde's words about it are its text:
            // quoted, control characters escaped.
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let why: String = why.chars().flat_map(char::escape_default).collect();
            outcome.set_aside.push(format!(
                "outbox file {name:?} {why}: set aside in {}",
                outbox.rejected_dir().display()
            ));
        }
        for mut entry in entries {
            let due = all
                || match entry
                    .next_attempt
                    .as_deref()
                    .and_then(crate::util::unix_seconds)
                {
                    Some(t) => t <= now,
                    None => true,
                };
            if !due {
                outcome.pending += 1;
                continue;
            }
            // One recipient at a time, recorded as it goes: a crash costs
            // at most one duplicate, to one recipient.
            let recipients = std::mem::take(&mut entry.pending);
            let mut left = Vec::new();
            let mut last_error = None;
            for (i, r) in recipients.iter().enumerate() {
                let single = OutboxEntry {
                    pending: vec![r.clone()],
                    ..entry.clone()
                };
                let (records, still) = match still_named(policy, &entry.payload, r) {
                    Ok(()) => self.deliver_entry(&single),
                    Err((outcome, why)) => {
                        let record = DeliveryRecord {
                            time: crate::util::now_rfc3339(),
                            id: entry.id.clone(),
                            kind: entry.kind,
                            recipient: r.clone(),
                            channel: Some(entry.payload.channel()),
                            outcome,
                            error: Some(why),
                        };
                        let still = (outcome == DeliveryOutcome::Deferred)
                            .then(|| r.clone())
                            .into_iter()
                            .collect();
                        (vec![record], still)
                    }
                };
                if let Some(e) = records.iter().find_map(|d| d.error.clone()) {
                    last_error = Some(e);
                }
                left.extend(still);
                outbox.log(&records)?;
                outcome.deliveries.extend(records);
                if i + 1 < recipients.len() {
                    entry.pending = left.iter().chain(&recipients[i + 1..]).cloned().collect();
                    outbox.put(&entry)?;
                }
            }
            entry.pending = left;
            if entry.pending.is_empty() {
                outbox.remove(&entry.id)?;
                continue;
            }
            entry.attempts += 1;
            let wait = self
                .retry_backoff
                .saturating_mul(1u32 << (entry.attempts - 1).min(16))
                .min(Duration::from_secs(3600));
            entry.next_attempt = Some(crate::util::rfc3339_at(now + wait.as_secs() as i64));
            entry.last_error = last_error;
            outbox.put(&entry)?;
            outcome.pending += 1;
        }
        Ok(outcome)
    }

    /// The folder a dry run writes its messages to (None: they are
    /// queued and delivered).
    pub fn dry_run_dir(&self) -> Option<&std::path::Path> {
        self.dry_run.as_deref()
    }

    /// A test message to `to` through the configured SMTP server, sent at
    /// once (not through the outbox).
    pub async fn test_message(
        &self,
        target: &str,
        to: &lettre::message::Mailbox,
    ) -> Result<Vec<DeliveryRecord>> {
        let entry = message::test_entry(target, self.from.as_ref(), to)?;
        self.deliver_now(vec![entry]).await
    }
}

/// Whether `recipient` of an entry carrying `payload` is one the target's
/// configuration still names: an address among its recipients, a webhook
/// among its webhooks (and the one the entry is for). Otherwise how it is
/// recorded: mail to an address no longer named is dropped; a webhook no
/// longer named waits (deferred), so putting it back delivers.
fn still_named(
    policy: &AlertPolicy,
    payload: &Payload,
    recipient: &str,
) -> std::result::Result<(), (DeliveryOutcome, String)> {
    match payload {
        Payload::Email { .. } => {
            let named = policy
                .recipients
                .iter()
                .any(|m| m.email.to_string().eq_ignore_ascii_case(recipient));
            if named {
                Ok(())
            } else {
                Err((
                    DeliveryOutcome::Dropped,
                    "not sent: the target's configuration no longer names this recipient".into(),
                ))
            }
        }
        Payload::Webhook { name, .. } => {
            if name == recipient && policy.webhooks.iter().any(|w| w == name) {
                Ok(())
            } else {
                Err((
                    DeliveryOutcome::Deferred,
                    format!("the target's configuration does not name webhook {name:?}"),
                ))
            }
        }
    }
}

fn read_state(path: &std::path::Path) -> Result<AlertState> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| Error::Input {
            path: format!("{}:{}", path.display(), e.line()),
            message: format!("is not a driftwatch alert state ({e})"),
            hint: "delete it: the next scan with drift alerts again".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AlertState::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn write_state(path: &std::path::Path, state: &AlertState) -> Result<()> {
    let text = serde_json::to_string_pretty(state).unwrap_or_default();
    crate::util::write_atomic(path, text.as_bytes())
}

/// The scan's full report as HTML in `<target>/reports/`, the newest 50
/// kept; returns its path.
fn write_report(store: &TargetStore, report: &CheckReport) -> Result<String> {
    let path = store.write_report(
        &report.time,
        &crate::report::render_check_html(std::slice::from_ref(report)),
    )?;
    Ok(std::path::absolute(&path)
        .unwrap_or(path)
        .display()
        .to_string())
}
