//! `[watch]` and the targets' `schedule`: what the `watch` daemon reads.
//! Checked when the file is read, like everything else in it: a bad cron
//! expression is one line naming the file, the line and the target.

use super::alerts::Place;
use crate::error::{Error, Result};
use crate::schedule::{parse_timezone, Schedule};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;
use toml::Spanned;

/// `[watch]`, checked.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// The zone schedules are read in (`timezone`, default UTC).
    pub timezone: jiff::tz::TimeZone,
    /// Its name as written (`UTC` by default).
    pub timezone_name: String,
    /// The schedule of targets that name none.
    pub schedule: Option<Schedule>,
    /// Scans running at once, across targets (default 4).
    pub max_concurrent_scans: usize,
    /// Longest one scan may take; beyond it, it is cancelled and recorded
    /// as failed (default 10m).
    pub scan_timeout: Duration,
    /// Most a tick is delayed to spread targets sharing a schedule (each
    /// target gets its own fixed share; default 30s, at most a tenth of
    /// the target's interval).
    pub jitter: Duration,
    /// Where `/healthz` and `/metrics` are served (off when None).
    pub listen: Option<SocketAddr>,
    /// How long in-flight scans may take to finish on SIGTERM.
    pub shutdown_timeout: Duration,
    /// Probe the catalogs before a capture and reuse the last live
    /// snapshot when nothing changed (default true).
    pub probe: bool,
    /// Fleet store: how long a replica's claim on a scan lives without
    /// renewal (default 30s).
    pub lease: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            timezone: jiff::tz::TimeZone::UTC,
            timezone_name: "UTC".into(),
            schedule: None,
            max_concurrent_scans: 4,
            scan_timeout: Duration::from_secs(600),
            jitter: Duration::from_secs(30),
            listen: None,
            shutdown_timeout: Duration::from_secs(30),
            probe: true,
            lease: Duration::from_secs(30),
        }
    }
}

/// `[watch]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WatchFile {
    timezone: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    max_concurrent_scans: Option<Spanned<i64>>,
    scan_timeout: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    shutdown_timeout: Option<Spanned<String>>,
    probe: Option<bool>,
    lease: Option<Spanned<String>>,
}

impl Place<'_> {
    /// `[watch]`, checked.
    pub(super) fn watch(&self, raw: WatchFile) -> Result<WatchConfig> {
        let mut w = WatchConfig::default();
        if let Some(tz) = &raw.timezone {
            w.timezone = parse_timezone(tz.get_ref()).map_err(|e| {
                self.err(
                    tz.span(),
                    format!("timezone: {e}"),
                    "write an IANA zone such as \"Europe/Berlin\" or \"UTC\"",
                )
            })?;
            w.timezone_name = tz.get_ref().clone();
        }
        if let Some(s) = &raw.schedule {
            w.schedule = Some(self.schedule("[watch]", s)?);
        }
        if let Some(n) = &raw.max_concurrent_scans {
            if !(1..=1024).contains(n.get_ref()) {
                return Err(self.err(
                    n.span(),
                    format!("max_concurrent_scans: {} is not 1 to 1024", n.get_ref()),
                    "give how many scans may run at once",
                ));
            }
            w.max_concurrent_scans = *n.get_ref() as usize;
        }
        let positive = |key: &str, v: &Spanned<String>| -> Result<Duration> {
            let d = self.duration(key, v)?;
            if d.is_zero() {
                return Err(self.err(v.span(), format!("{key} is zero"), "give a duration"));
            }
            Ok(d)
        };
        if let Some(v) = &raw.scan_timeout {
            w.scan_timeout = positive("scan_timeout", v)?;
        }
        if let Some(v) = &raw.jitter {
            w.jitter = self.duration("jitter", v)?;
        }
        if let Some(v) = &raw.shutdown_timeout {
            w.shutdown_timeout = positive("shutdown_timeout", v)?;
        }
        if let Some(v) = &raw.lease {
            w.lease = positive("lease", v)?;
            if w.lease < Duration::from_secs(2) {
                return Err(self.err(v.span(), "lease is under 2s".into(), "give 2s or more"));
            }
        }
        if let Some(l) = &raw.listen {
            // `env:VAR`: an address known at start only (a pod's IP, which
            // Kubernetes puts in the environment).
            let (text, from) =
                match l.get_ref().strip_prefix("env:") {
                    Some(var) => match std::env::var(var) {
                        Ok(value) => (value, format!(" (from {var})")),
                        Err(_) => return Err(self.err(
                            l.span(),
                            format!("listen: environment variable {var} is not set"),
                            "export it with the address and port to serve /healthz and /metrics on",
                        )),
                    },
                    None => (l.get_ref().clone(), String::new()),
                };
            w.listen = Some(text.trim().parse().map_err(|_| {
                self.err(
                    l.span(),
                    format!("listen: {text:?}{from} is not an address and port"),
                    "write it as \"127.0.0.1:9187\" (or \"[::1]:9187\", or \"env:VAR\")",
                )
            })?);
        }
        if let Some(p) = raw.probe {
            w.probe = p;
        }
        Ok(w)
    }

    /// A cron expression, checked; the error names `whose` and the line.
    pub(super) fn schedule(&self, whose: &str, s: &Spanned<String>) -> Result<Schedule> {
        Schedule::parse(s.get_ref()).map_err(|e| {
            self.err(
                s.span(),
                format!("{whose}: schedule {:?}: {e}", s.get_ref()),
                "write crontab(5): 5 fields (minute hour day month weekday), 6 with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly",
            )
        })
    }
}

/// `[store] url` checked: a PostgreSQL URL or `env:VAR`.
pub(super) fn check_store_url(place: &Place<'_>, url: &Spanned<String>) -> Result<String> {
    let text = url.get_ref();
    if text.starts_with("env:")
        || text.starts_with("postgres://")
        || text.starts_with("postgresql://")
    {
        return Ok(text.clone());
    }
    Err(Error::Input {
        path: place.at(url.span()),
        message: format!(
            "[store] url: {} is not a PostgreSQL URL",
            crate::database::redact_url(text)
        ),
        hint: "write postgres://user@host/db or env:VAR (the fleet store), or use path for files"
            .into(),
    })
}
