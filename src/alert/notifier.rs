//! Channels: one [`Notifier`] per way a message leaves. Email goes through
//! lettre's SMTP transport (STARTTLS, implicit TLS, or plain for a local
//! relay; AUTH with a password from the environment or a file), webhooks
//! are a JSON POST with an optional HMAC-SHA256 signature, and a dry run
//! writes files instead (`.eml` through lettre's file transport). Sending
//! is blocking: the outbox runs it off the async runtime.

use super::outbox::{OutboxEntry, Payload};
use crate::config::{Secret, SmtpSettings, SmtpTls, WebhookConfig};
use crate::error::{Error, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, SmtpTransport, Transport};
use std::path::PathBuf;

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Refused for good (a mailbox the server does not know): not retried.
    Rejected(String),
    /// Could not be delivered now (server down, 4xx): retried later.
    Deferred(String),
}

/// A way to deliver outbox entries.
pub trait Notifier: Send + Sync {
    /// Delivers `entry` to one of its pending recipients.
    fn deliver(
        &self,
        entry: &OutboxEntry,
        recipient: &str,
    ) -> std::result::Result<(), DeliveryError>;
}

/// Email over SMTP.
pub struct SmtpNotifier {
    transport: SmtpTransport,
}

impl SmtpNotifier {
    /// A transport for `[smtp]` (nothing is connected yet).
    pub fn new(s: &SmtpSettings) -> Result<SmtpNotifier> {
        let c = &s.config;
        let bad = |m: String| Error::Input {
            path: "[smtp]".into(),
            message: m,
            hint: "check host and ca_file".into(),
        };
        let params = || -> Result<TlsParameters> {
            let mut b = TlsParameters::builder(c.host.clone());
            if let Some(pem) = &s.ca_pem {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| bad(format!("ca_file is not a PEM certificate ({e})")))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls()
                .map_err(|e| bad(format!("cannot set up TLS ({e})")))
        };
        let tls = match c.tls {
            SmtpTls::Starttls => Tls::Required(params()?),
            SmtpTls::Tls => Tls::Wrapper(params()?),
            SmtpTls::None => Tls::None,
        };
        let mut b = SmtpTransport::builder_dangerous(c.host.clone())
            .port(c.port)
            .tls(tls)
            .timeout(Some(c.timeout));
        if let (Some(user), Some(password)) = (&c.username, &s.password) {
            b = b.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(SmtpNotifier {
            transport: b.build(),
        })
    }
}

fn envelope(from: &str, to: &str) -> std::result::Result<Envelope, DeliveryError> {
    let parse = |a: &str| {
        a.parse::<Address>()
            .map_err(|e| DeliveryError::Rejected(format!("{a}: not an address ({e})")))
    };
    Envelope::new(Some(parse(from)?), vec![parse(to)?])
        .map_err(|e| DeliveryError::Rejected(e.to_string()))
}

impl Notifier for SmtpNotifier {
    fn deliver(
        &self,
        entry: &OutboxEntry,
        recipient: &str,
    ) -> std::result::Result<(), DeliveryError> {
        let Payload::Email { from, message } = &entry.payload else {
            return Err(DeliveryError::Rejected("not an email".into()));
        };
        let envelope = envelope(from, recipient)?;
        self.transport
            .send_raw(&envelope, message.as_bytes())
            .map(|_| ())
            .map_err(|e| {
                // 5xx "mail system" answers (550 no such user, 553 bad
                // address, 554 refused) are about this recipient: retrying
                // does not help. Everything else (server down, 4xx, TLS, a
                // 535 AUTH failure someone will fix) is retried.
                let mailbox = e.status().is_some_and(|c| {
                    c.severity
                        == lettre::transport::smtp::response::Severity::PermanentNegativeCompletion
                        && c.category == lettre::transport::smtp::response::Category::MailSystem
                });
                let text = one_line(&e.to_string());
                if mailbox {
                    DeliveryError::Rejected(text)
                } else {
                    DeliveryError::Deferred(text)
                }
            })
    }
}

/// JSON POSTs to configured webhooks.
pub struct WebhookNotifier {
    hooks: Vec<Hook>,
}

/// A webhook with its secrets read: the URL (whose path may hold a token)
/// and the signing key.
struct Hook {
    config: WebhookConfig,
    url: Secret,
    key: Option<Secret>,
}

/// The signature header: `sha256=` and the hex HMAC of the body.
pub const SIGNATURE_HEADER: &str = "X-Driftwatch-Signature";

/// `sha256=<hex>` of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", crate::util::hex(&mac.finalize().into_bytes()))
}

impl WebhookNotifier {
    /// The configured webhooks, with their URLs and signing keys read.
    pub fn new<'a>(hooks: impl IntoIterator<Item = &'a WebhookConfig>) -> Result<WebhookNotifier> {
        let hooks = hooks
            .into_iter()
            .map(|w| {
                let key = w
                    .secret
                    .as_ref()
                    .map(|s| s.read(&format!("webhooks.{}.secret", w.name)))
                    .transpose()?;
                Ok(Hook {
                    config: w.clone(),
                    url: w.url.read(&w.name)?,
                    key,
                })
            })
            .collect::<Result<_>>()?;
        Ok(WebhookNotifier { hooks })
    }
}

impl Notifier for WebhookNotifier {
    fn deliver(
        &self,
        entry: &OutboxEntry,
        _recipient: &str,
    ) -> std::result::Result<(), DeliveryError> {
        let Payload::Webhook { name, body } = &entry.payload else {
            return Err(DeliveryError::Rejected("not a webhook".into()));
        };
        // A webhook removed from the configuration: kept, not dropped, so
        // putting it back delivers.
        let Some(Hook {
            config: hook,
            url,
            key: secret,
        }) = self.hooks.iter().find(|h| &h.config.name == name)
        else {
            return Err(DeliveryError::Deferred(format!(
                "no [webhooks.{name}] in the configuration"
            )));
        };
        let agent = ureq::AgentBuilder::new().timeout(hook.timeout).build();
        let mut req = agent
            .post(url.expose())
            .set("Content-Type", "application/json")
            .set(
                "User-Agent",
                concat!("driftwatch/", env!("CARGO_PKG_VERSION")),
            )
            .set("X-Driftwatch-Id", &entry.message_id);
        if let Some(s) = secret {
            req = req.set(
                SIGNATURE_HEADER,
                &signature(s.expose().as_bytes(), body.as_bytes()),
            );
        }
        // The URL's path is a token (Slack, Teams, Discord): what is logged,
        // stored in deliveries.jsonl and the outbox, and shown by `status`
        // names the host only.
        let where_ = crate::database::endpoint_only(url.expose());
        match req.send_string(body) {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, _))
                if (400..500).contains(&code) && code != 408 && code != 429 =>
            {
                Err(DeliveryError::Rejected(format!("{where_}: HTTP {code}")))
            }
            Err(ureq::Error::Status(code, _)) => {
                Err(DeliveryError::Deferred(format!("{where_}: HTTP {code}")))
            }
            // ureq's transport errors start with the whole URL, and their
            // message or source may repeat it or its path.
            Err(e) => {
                let text = match &e {
                    ureq::Error::Transport(t) => {
                        // The cause (connection refused, a certificate
                        // verdict) says more than ureq's own words.
                        let detail = std::error::Error::source(t)
                            .map(|s| s.to_string())
                            .or_else(|| t.message().map(str::to_string));
                        match detail {
                            Some(d) => format!("{}: {d}", t.kind()),
                            None => t.kind().to_string(),
                        }
                    }
                    other => other.kind().to_string(),
                };
                let text = crate::database::scrub_url(&text, url.expose(), &where_);
                Err(DeliveryError::Deferred(format!(
                    "{where_}: {}",
                    one_line(&text)
                )))
            }
        }
    }
}

/// A dry run: each delivery becomes a file in `dir` (emails as `.eml`
/// through lettre's file transport, webhooks as their JSON body).
pub struct DryRunNotifier {
    dir: PathBuf,
}

impl DryRunNotifier {
    /// Files go to `dir` (created).
    pub fn new(dir: PathBuf) -> Result<DryRunNotifier> {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(DryRunNotifier { dir })
    }
}

impl Notifier for DryRunNotifier {
    fn deliver(
        &self,
        entry: &OutboxEntry,
        recipient: &str,
    ) -> std::result::Result<(), DeliveryError> {
        let failed = |e: String| DeliveryError::Deferred(format!("{}: {e}", self.dir.display()));
        match &entry.payload {
            Payload::Email { from, message } => {
                let envelope = envelope(from, recipient)?;
                lettre::FileTransport::new(&self.dir)
                    .send_raw(&envelope, message.as_bytes())
                    .map(|_| ())
                    .map_err(|e| failed(e.to_string()))
            }
            Payload::Webhook { name, body } => {
                let path = self.dir.join(format!("{}-{name}.json", entry.id));
                crate::util::write_atomic(&path, body.as_bytes()).map_err(|e| failed(e.to_string()))
            }
        }
    }
}

/// Error texts from servers may span lines: one line for logs and status.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
