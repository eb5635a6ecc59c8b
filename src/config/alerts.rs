//! The alert parts of `driftwatch.toml`: `[smtp]`, `[webhooks.NAME]`,
//! `[alerts]` and each target's `notify*` keys. Addresses, durations and
//! names are checked when the file is parsed; secrets (the SMTP password, a
//! webhook's signing key, and its URL when given as `url_env`/`url_file`)
//! are read from the environment or a file when the alerting is set up
//! ([`SmtpConfig::settings`], [`WebhookUrl::read`]), before any scan. The
//! password never comes from the configuration text itself; an inline
//! webhook `url` is allowed but treated as a secret all the same.

use crate::diff::Severity;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A secret read from the environment or a file: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), port 587.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS), port 465.
    Tls,
    /// No TLS at all: only for a relay on the same host or network.
    None,
}

/// Where a secret comes from: `*_env` or `*_file`, with the key's place in
/// the file for errors.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// An environment variable.
    Env {
        /// Its name.
        var: String,
        /// `file:line` of the key.
        at: String,
    },
    /// A file (its content, trailing newline removed).
    File {
        /// The file.
        path: PathBuf,
        /// `file:line` of the key.
        at: String,
    },
}

impl SecretSource {
    /// Reads the secret; a missing variable or unreadable file is an error
    /// naming the key and its line.
    pub fn read(&self, key: &str) -> Result<Secret> {
        match self {
            SecretSource::Env { var, at } => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret(v)),
                _ => Err(Error::Input {
                    path: at.clone(),
                    message: format!("{key}_env: the environment variable {var} is not set"),
                    hint: format!("export {var} before starting driftwatch"),
                }),
            },
            SecretSource::File { path, at } => match std::fs::read_to_string(path) {
                Ok(v) if !v.trim_end_matches(['\n', '\r']).is_empty() => {
                    Ok(Secret(v.trim_end_matches(['\n', '\r']).to_string()))
                }
                Ok(_) => Err(Error::Input {
                    path: at.clone(),
                    message: format!("{key}_file: {} is empty", path.display()),
                    hint: "write the secret into it".into(),
                }),
                Err(e) => Err(Error::Input {
                    path: at.clone(),
                    message: format!("{key}_file: cannot read {} ({e})", path.display()),
                    hint: "give a readable file".into(),
                }),
            },
        }
    }
}

/// `[smtp]`, checked.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The server's host name (also the name its certificate must carry).
    pub host: String,
    /// Its port (default by `tls`: 587, 465 or 25).
    pub port: u16,
    /// How the connection is protected.
    pub tls: SmtpTls,
    /// AUTH user name, when the server wants one.
    pub username: Option<String>,
    /// Where the AUTH password comes from.
    pub password: Option<SecretSource>,
    /// The sender, `Name <address>`.
    pub from: lettre::message::Mailbox,
    /// Extra CA certificates (PEM) to trust, for a relay with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Connection and command timeout.
    pub timeout: Duration,
}

/// `[smtp]` with its secret read: what the sender needs.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The checked configuration.
    pub config: SmtpConfig,
    /// The AUTH password, when configured.
    pub password: Option<Secret>,
    /// The CA file's PEM, when configured.
    pub ca_pem: Option<Vec<u8>>,
}

impl SmtpConfig {
    /// Reads the password and CA file: errors name the key and its line.
    pub fn settings(&self) -> Result<SmtpSettings> {
        let password = self
            .password
            .as_ref()
            .map(|p| p.read("smtp.password"))
            .transpose()?;
        let ca_pem = match &self.ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| Error::Input {
                path: p.display().to_string(),
                message: format!("smtp.ca_file: cannot read it ({e})"),
                hint: "give the PEM file of the relay's CA".into(),
            })?),
            None => None,
        };
        Ok(SmtpSettings {
            config: self.clone(),
            password,
            ca_pem,
        })
    }
}

/// Where a webhook's URL comes from. Slack, Teams and Discord put the
/// token in the path, so the URL is a secret: `url_env` and `url_file`
/// keep it out of the configuration file, and messages show only
/// `scheme://host[:port]/…` ([`crate::database::endpoint_only`]).
#[derive(Debug, Clone)]
pub enum WebhookUrl {
    /// `url = "…"`, checked when the file is parsed.
    Inline(Secret),
    /// `url_env` or `url_file`, read and checked when alerting is set up.
    Source(SecretSource),
}

impl WebhookUrl {
    /// The URL, read from its variable or file when it lives there; an
    /// unset variable, unreadable file or a value that is not an http(s)
    /// URL is an error naming the webhook.
    pub fn read(&self, name: &str) -> Result<Secret> {
        match self {
            WebhookUrl::Inline(url) => Ok(url.clone()),
            WebhookUrl::Source(source) => {
                let key = format!("webhooks.{name}.url");
                let url = source.read(&key)?;
                if !is_http_url(url.expose()) {
                    let (at, from) = match source {
                        SecretSource::Env { var, at } => (at, format!("the variable {var}")),
                        SecretSource::File { path, at } => (at, path.display().to_string()),
                    };
                    return Err(Error::Input {
                        path: at.clone(),
                        message: format!(
                            "{key}: {from} does not hold an http(s) URL ({})",
                            crate::database::endpoint_only(url.expose())
                        ),
                        hint: "put https://host/path in it".into(),
                    });
                }
                Ok(url)
            }
        }
    }
}

/// True for an `http://` or `https://` URL with a host.
fn is_http_url(text: &str) -> bool {
    url::Url::parse(text.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// One `[webhooks.NAME]`, checked.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Its name (what targets list in `webhooks`).
    pub name: String,
    /// Where to POST (http or https): a secret.
    pub url: WebhookUrl,
    /// The HMAC-SHA256 key for `X-Driftwatch-Signature`, when configured.
    pub secret: Option<SecretSource>,
    /// Request timeout.
    pub timeout: Duration,
}

/// `[alerts]`: delivery settings shared by every channel.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// Wait before the first retry of a message that could not be
    /// delivered; doubled on each further failure, up to an hour.
    pub retry_backoff: Duration,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            recipients: Vec::new(),
            webhooks: Vec::new(),
            min_severity: Severity::Warning,
            remind_after: Some(Duration::from_secs(24 * 3600)),
            failing_after: 3,
        }
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            retry_backoff: Duration::from_secs(60),
        }
    }
}

/// A target's alert policy (its `notify*` keys).
#[derive(Debug, Clone)]
pub struct AlertPolicy {
    /// Email recipients.
    pub recipients: Vec<lettre::message::Mailbox>,
    /// Webhooks (names of `[webhooks.NAME]`).
    pub webhooks: Vec<String>,
    /// Findings below this severity neither alert nor count.
    pub min_severity: Severity,
    /// Remind after this long while the same drift persists (None: never).
    pub remind_after: Option<Duration>,
    /// Consecutive failed scans before a "scan failing" message.
    pub failing_after: u32,
}

impl AlertPolicy {
    /// True when the target has somewhere to send alerts.
    pub fn has_channels(&self) -> bool {
        !self.recipients.is_empty() || !self.webhooks.is_empty()
    }
}

/// `[smtp]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SmtpFile {
    host: String,
    port: Option<u16>,
    #[serde(default)]
    tls: SmtpTls,
    username: Option<String>,
    password_env: Option<Spanned<String>>,
    password_file: Option<Spanned<PathBuf>>,
    /// Rejected with a clear line: passwords never live in the file.
    password: Option<Spanned<toml::Value>>,
    from: Spanned<String>,
    ca_file: Option<PathBuf>,
    timeout: Option<Spanned<String>>,
}

/// `[webhooks.NAME]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookFile {
    url: Option<Spanned<String>>,
    url_env: Option<Spanned<String>>,
    url_file: Option<Spanned<PathBuf>>,
    secret_env: Option<Spanned<String>>,
    secret_file: Option<Spanned<PathBuf>>,
    timeout: Option<Spanned<String>>,
}

/// `[alerts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertsFile {
    retry_backoff: Option<Spanned<String>>,
}

/// A target's alert keys as written (taken out of its `[[target]]`: spans
/// do not survive serde's flatten).
#[derive(Debug, Clone, Default)]
pub(super) struct TargetAlertsFile {
    pub notify: Vec<Spanned<String>>,
    pub webhooks: Vec<Spanned<String>>,
    pub notify_min_severity: Option<Spanned<String>>,
    pub remind_after: Option<Spanned<String>>,
    pub failing_after: Option<Spanned<u32>>,
}

/// Turns spans into `file:line` and paths relative to the file's folder.
pub(super) struct Place<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    pub base: &'a Path,
}

impl Place<'_> {
    pub(super) fn at(&self, span: std::ops::Range<usize>) -> String {
        let line = self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        format!("{}:{line}", self.path.display())
    }

    pub(super) fn err(&self, span: std::ops::Range<usize>, message: String, hint: &str) -> Error {
        Error::Input {
            path: self.at(span),
            message,
            hint: hint.into(),
        }
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() || self.base.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    pub(super) fn duration(&self, key: &str, v: &Spanned<String>) -> Result<Duration> {
        crate::util::parse_duration(v.get_ref()).ok_or_else(|| {
            self.err(
                v.span(),
                format!("{key}: {:?} is not a duration", v.get_ref()),
                "write it as 30s, 15m, 24h, 7d or 1h30m",
            )
        })
    }

    fn mailbox(&self, key: &str, v: &Spanned<String>) -> Result<lettre::message::Mailbox> {
        v.get_ref().parse().map_err(|e| {
            self.err(
                v.span(),
                format!("{key}: {:?} is not an email address ({e})", v.get_ref()),
                "write name@example.com or \"Name <name@example.com>\"",
            )
        })
    }

    fn secret(
        &self,
        key: &str,
        env: &Option<Spanned<String>>,
        file: &Option<Spanned<PathBuf>>,
    ) -> Result<Option<SecretSource>> {
        match (env, file) {
            (Some(_), Some(f)) => Err(self.err(
                f.span(),
                format!("{key}_env and {key}_file are both set"),
                "keep one",
            )),
            (Some(e), None) => Ok(Some(SecretSource::Env {
                var: e.get_ref().clone(),
                at: self.at(e.span()),
            })),
            (None, Some(f)) => Ok(Some(SecretSource::File {
                path: self.resolve(f.get_ref()),
                at: self.at(f.span()),
            })),
            (None, None) => Ok(None),
        }
    }

    /// Checks `[smtp]`.
    pub(super) fn smtp(&self, f: SmtpFile) -> Result<SmtpConfig> {
        if let Some(p) = &f.password {
            return Err(self.err(
                p.span(),
                "smtp.password: the password does not belong in the configuration file".into(),
                "set password_env = \"VAR\" (or password_file) and keep the password there",
            ));
        }
        let password = self.secret("smtp.password", &f.password_env, &f.password_file)?;
        if password.is_some() != f.username.is_some() {
            let span = f
                .password_env
                .as_ref()
                .map(|s| s.span())
                .or(f.password_file.as_ref().map(|s| s.span()))
                .unwrap_or(f.from.span());
            return Err(self.err(
                span,
                "smtp: username and password_env (or password_file) go together".into(),
                "set both for a server that wants AUTH, neither for one that does not",
            ));
        }
        if let (SmtpTls::None, Some(p)) = (f.tls, &password) {
            if !crate::database::is_local_host(&f.host) {
                let at = match p {
                    SecretSource::Env { at, .. } | SecretSource::File { at, .. } => at.clone(),
                };
                return Err(Error::Input {
                    path: at,
                    message: format!(
                        "smtp: tls = \"none\" with a username would send the password in clear text to {}",
                        f.host
                    ),
                    hint: "use tls = \"starttls\" or \"tls\"; tls = \"none\" with AUTH is only for a relay on this host (localhost, 127.0.0.0/8, ::1)".into(),
                });
            }
        }
        Ok(SmtpConfig {
            port: f.port.unwrap_or(match f.tls {
                SmtpTls::Starttls => 587,
                SmtpTls::Tls => 465,
                SmtpTls::None => 25,
            }),
            host: f.host,
            tls: f.tls,
            username: f.username,
            password,
            from: self.mailbox("smtp.from", &f.from)?,
            ca_file: f.ca_file.as_deref().map(|p| self.resolve(p)),
            timeout: match &f.timeout {
                Some(t) => self.duration("smtp.timeout", t)?,
                None => Duration::from_secs(30),
            },
        })
    }

    /// Checks the `[webhooks.NAME]` tables.
    pub(super) fn webhooks(
        &self,
        all: BTreeMap<String, WebhookFile>,
    ) -> Result<BTreeMap<String, WebhookConfig>> {
        let mut out = BTreeMap::new();
        for (name, w) in all {
            let url = self.webhook_url(&name, &w)?;
            out.insert(
                name.clone(),
                WebhookConfig {
                    name: name.clone(),
                    url,
                    secret: self.secret(
                        &format!("webhooks.{name}.secret"),
                        &w.secret_env,
                        &w.secret_file,
                    )?,
                    timeout: match &w.timeout {
                        Some(t) => self.duration("timeout", t)?,
                        None => Duration::from_secs(10),
                    },
                },
            );
        }
        Ok(out)
    }

    /// Checks a webhook's `url`, `url_env` and `url_file`: exactly one.
    fn webhook_url(&self, name: &str, w: &WebhookFile) -> Result<WebhookUrl> {
        let source = self.secret(&format!("webhooks.{name}.url"), &w.url_env, &w.url_file)?;
        match (&w.url, source) {
            (Some(u), None) => {
                if !is_http_url(u.get_ref()) {
                    return Err(self.err(
                        u.span(),
                        format!(
                            "webhooks.{name}.url: {:?} is not an http(s) URL",
                            crate::database::endpoint_only(u.get_ref())
                        ),
                        "write https://host/path",
                    ));
                }
                Ok(WebhookUrl::Inline(Secret(u.get_ref().trim().to_string())))
            }
            (None, Some(source)) => Ok(WebhookUrl::Source(source)),
            (Some(u), Some(_)) => Err(self.err(
                u.span(),
                format!("webhooks.{name}: url and url_env (or url_file) are both set"),
                "keep one: url_env or url_file keeps the URL's token out of this file",
            )),
            (None, None) => {
                let header = format!("[webhooks.{name}]");
                let at = self.text.find(&header).unwrap_or(0);
                Err(self.err(
                    at..at,
                    format!("webhooks.{name}: no url"),
                    "set url_env = \"VAR\" or url_file = \"path\" (or url = \"https://…\")",
                ))
            }
        }
    }

    /// Checks `[alerts]`.
    pub(super) fn alerts(&self, f: AlertsFile) -> Result<AlertsConfig> {
        let mut c = AlertsConfig::default();
        if let Some(b) = &f.retry_backoff {
            c.retry_backoff = self.duration("alerts.retry_backoff", b)?;
        }
        Ok(c)
    }

    /// Checks a target's alert keys.
    pub(super) fn policy(
        &self,
        f: &TargetAlertsFile,
        smtp: Option<&SmtpConfig>,
        webhooks: &BTreeMap<String, WebhookConfig>,
    ) -> Result<AlertPolicy> {
        let recipients = f
            .notify
            .iter()
            .map(|a| self.mailbox("notify", a))
            .collect::<Result<Vec<_>>>()?;
        if let (Some(first), None) = (f.notify.first(), smtp) {
            return Err(self.err(
                first.span(),
                "notify: email recipients, but the file has no [smtp] section".into(),
                "add [smtp] with the relay to send through (see docs/configuration.md)",
            ));
        }
        for w in &f.webhooks {
            if !webhooks.contains_key(w.get_ref()) {
                return Err(self.err(
                    w.span(),
                    format!("webhooks: no [webhooks.{}] is defined", w.get_ref()),
                    "define it, or remove the name",
                ));
            }
        }
        let min_severity = match &f.notify_min_severity {
            Some(s) => {
                use crate::util::Named;
                Severity::from_name(s.get_ref()).ok_or_else(|| {
                    self.err(
                        s.span(),
                        format!(
                            "notify_min_severity: unknown value {:?}, expected one of critical, warning, info",
                            s.get_ref()
                        ),
                        "use one of those",
                    )
                })?
            }
            None => Severity::Warning,
        };
        let remind_after = match &f.remind_after {
            Some(r) if matches!(r.get_ref().as_str(), "off" | "never") => None,
            Some(r) => Some(self.duration("remind_after", r)?).filter(|d| !d.is_zero()),
            None => Some(Duration::from_secs(24 * 3600)),
        };
        let failing_after = match &f.failing_after {
            Some(n) if *n.get_ref() == 0 => {
                return Err(self.err(
                    n.span(),
                    "failing_after: must be at least 1".into(),
                    "write how many failed scans in a row make a \"scan failing\" message",
                ))
            }
            Some(n) => *n.get_ref(),
            None => 3,
        };
        Ok(AlertPolicy {
            recipients,
            webhooks: f.webhooks.iter().map(|w| w.get_ref().clone()).collect(),
            min_severity,
            remind_after,
            failing_after,
        })
    }
}
