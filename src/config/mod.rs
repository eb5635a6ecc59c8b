//! `driftwatch.toml`: the store and the watched targets. Parsing only (no
//! database, no network): the file is read, every key checked (an unknown
//! key is an error naming it and its line), and values resolved that need
//! no I/O beyond the environment (`env:VAR` URLs are resolved when a scan
//! starts, so a missing variable fails that target only).

mod alerts;
mod watch;

pub use alerts::{
    AlertPolicy, AlertsConfig, Secret, SecretSource, SmtpConfig, SmtpSettings, SmtpTls,
    WebhookConfig,
};
pub use watch::WatchConfig;

use crate::diff::{IgnoreRules, Severity};
use crate::error::{Error, Result};
use crate::history::Tool;
use crate::migrations::Format;
use crate::util::Named;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The whole configuration file.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (relative paths in it are relative to
    /// its folder).
    pub path: PathBuf,
    /// The store.
    pub store: StoreConfig,
    /// The watched databases, in file order.
    pub targets: Vec<TargetConfig>,
    /// `[smtp]`, when alerts go out by email.
    pub smtp: Option<SmtpConfig>,
    /// `[webhooks.NAME]`, by name.
    pub webhooks: BTreeMap<String, WebhookConfig>,
    /// `[alerts]`.
    pub alerts: AlertsConfig,
    /// `[watch]`: the daemon's settings.
    pub watch: WatchConfig,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The store folder (default `snapshots`, relative to the config file).
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// Live snapshots kept per target (the oldest are removed; a first
    /// scan's recorded expected state is a baseline, kept apart).
    #[serde(default = "default_keep_live")]
    pub keep_live: usize,
    /// `[store.scans]`: when `scans.jsonl` is rotated (`max_bytes`,
    /// default 10 MiB; `keep` rotated files, default 5).
    #[serde(default)]
    pub scans: crate::store::ScanRotation,
    /// The fleet store: a PostgreSQL database (`postgres://…` or
    /// `env:VAR`) that several `watch` processes share; commands then work
    /// in private temporary copies of its target folders, and `path` is
    /// used only when `--store` names it.
    #[serde(default)]
    url: Option<Spanned<String>>,
    /// `url`, checked.
    #[serde(skip)]
    pub fleet_url: Option<String>,
    /// How often a scan captures the live schema in full rather than
    /// incrementally (`full_capture_every`, default 24h; "0s": always).
    #[serde(default)]
    full_capture_every: Option<Spanned<String>>,
    /// `full_capture_every`, checked.
    #[serde(skip, default = "default_full_capture_every")]
    pub full_every: std::time::Duration,
}

/// A full live capture a day per target: the incremental state is
/// checked against one that often.
pub fn default_full_capture_every() -> std::time::Duration {
    std::time::Duration::from_secs(24 * 3600)
}

/// The store folder when neither a flag nor a config file names one.
pub fn default_store_path() -> PathBuf {
    PathBuf::from("snapshots")
}

/// The configuration file commands read when none is given.
pub const DEFAULT_FILE: &str = "driftwatch.toml";

fn default_keep_live() -> usize {
    10
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
            keep_live: default_keep_live(),
            scans: Default::default(),
            url: None,
            fleet_url: None,
            full_capture_every: None,
            full_every: default_full_capture_every(),
        }
    }
}

/// One `[[target]]`: a watched database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The target's name (its folder in the store).
    pub name: String,
    /// `postgres://…` or `env:VAR`.
    pub url: String,
    /// The migration directory (relative to the config file).
    #[serde(default)]
    pub migrations: Option<PathBuf>,
    /// The migration layout; detected when absent.
    #[serde(default, deserialize_with = "named_opt")]
    pub format: Option<Format>,
    /// The history tool; detected when absent.
    #[serde(default, deserialize_with = "named_opt")]
    pub history: Option<Tool>,
    /// The history table (`schema.name`), when not the tool's default.
    #[serde(default)]
    pub history_table: Option<String>,
    /// Only these schemas.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Leave these schemas out.
    #[serde(default)]
    pub exclude_schemas: Vec<String>,
    /// Ignore rules (as `--ignore`).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the check fail (exit 1).
    #[serde(default, deserialize_with = "named_opt")]
    pub fail_on: Option<Severity>,
    /// Email recipients of this target's alerts.
    #[serde(default)]
    notify: Vec<Spanned<String>>,
    /// Webhooks (`[webhooks.NAME]` names) of this target's alerts.
    #[serde(default)]
    webhooks: Vec<Spanned<String>>,
    /// Lowest severity that alerts (default warning).
    #[serde(default)]
    notify_min_severity: Option<Spanned<String>>,
    /// Remind after this long while the same drift persists (`off`: never).
    #[serde(default)]
    remind_after: Option<Spanned<String>>,
    /// Failed scans in a row before a "scan failing" message (default 3).
    #[serde(default)]
    failing_after: Option<Spanned<u32>>,
    /// When `watch` scans it (crontab(5)); `[watch] schedule` when absent.
    #[serde(default, rename = "schedule")]
    schedule_text: Option<Spanned<String>>,
    /// `schedule` (or `[watch] schedule`), checked.
    #[serde(skip)]
    pub schedule: Option<crate::schedule::Schedule>,
    /// The alert keys above, checked.
    #[serde(skip)]
    pub alerts: AlertPolicy,
}

fn named_opt<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Named,
{
    let text = String::deserialize(d)?;
    T::from_name(&text).map(Some).ok_or_else(|| {
        let names: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
        serde::de::Error::custom(format!(
            "unknown value {text:?}, expected one of {}",
            names.join(", ")
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    store: StoreConfig,
    #[serde(default)]
    target: Vec<TargetConfig>,
    smtp: Option<alerts::SmtpFile>,
    #[serde(default)]
    webhooks: BTreeMap<String, alerts::WebhookFile>,
    #[serde(default)]
    alerts: alerts::AlertsFile,
    #[serde(default)]
    watch: watch::WatchFile,
}

impl Config {
    /// The configuration to read: `given` (`--config`), else
    /// `./driftwatch.toml` when it exists; None when there is neither.
    pub fn path_or_default(given: Option<&Path>) -> Option<PathBuf> {
        match given {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let default = PathBuf::from(DEFAULT_FILE);
                default.is_file().then_some(default)
            }
        }
    }

    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
            path: path.display().to_string(),
            message: format!("cannot read the configuration ({e})"),
            hint: "give an existing driftwatch.toml with --config".into(),
        })?;
        Config::parse(path, &text)
    }

    /// Parses `text`, read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Error::Input {
                path: match line {
                    Some(l) => format!("{}:{l}", path.display()),
                    None => path.display().to_string(),
                },
                message: e.message().trim().replace('\n', " "),
                hint: "see docs/configuration.md".into(),
            }
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &Path| {
            if p.is_absolute() || base.as_os_str().is_empty() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let at = |needle: &str| {
            text.find(needle)
                .map(|i| text[..i].matches('\n').count() + 1)
                .map_or(path.display().to_string(), |l| {
                    format!("{}:{l}", path.display())
                })
        };
        let place = alerts::Place { path, text, base };
        let smtp = file.smtp.map(|s| place.smtp(s)).transpose()?;
        let webhooks = place.webhooks(file.webhooks)?;
        let alerts = place.alerts(file.alerts)?;
        let watch = place.watch(file.watch)?;
        let mut targets: Vec<TargetConfig> = Vec::new();
        for mut t in file.target {
            let raw = alerts::TargetAlertsFile {
                notify: std::mem::take(&mut t.notify),
                webhooks: std::mem::take(&mut t.webhooks),
                notify_min_severity: t.notify_min_severity.take(),
                remind_after: t.remind_after.take(),
                failing_after: t.failing_after.take(),
            };
            t.alerts = place.policy(&raw, smtp.as_ref(), &webhooks)?;
            let where_ = at(&format!("\"{}\"", t.name));
            crate::store::TargetStore::new(Path::new("."), &t.name).map_err(|e| Error::Input {
                path: where_.clone(),
                message: e.to_string(),
                hint: "rename the target".into(),
            })?;
            if targets.iter().any(|o| o.name == t.name) {
                return Err(Error::Input {
                    path: where_,
                    message: format!("target {} is defined twice", t.name),
                    hint: "give each [[target]] its own name".into(),
                });
            }
            IgnoreRules::parse(&t.ignore).map_err(|m| Error::Input {
                path: where_.clone(),
                message: format!("target {}: {m}", t.name),
                hint: "see --ignore in docs/commands/diff.md".into(),
            })?;
            t.migrations = t.migrations.as_deref().map(resolve);
            t.schedule = match &t.schedule_text {
                Some(s) => Some(place.schedule(&format!("target {}", t.name), s)?),
                None => watch.schedule.clone(),
            };
            targets.push(t);
        }
        let mut store = file.store;
        store.path = resolve(&store.path);
        store.fleet_url = store
            .url
            .as_ref()
            .map(|u| watch::check_store_url(&place, u))
            .transpose()?;
        if let Some(v) = &store.full_capture_every {
            store.full_every = place.duration("full_capture_every", v)?;
        }
        Ok(Config {
            path: path.to_path_buf(),
            store,
            targets,
            smtp,
            webhooks,
            alerts,
            watch,
        })
    }

    /// The store `[store]` names: the fleet store when `url` is set, else
    /// the files at `path`. `path_override` (a command's `--store PATH`)
    /// chooses a file store there instead.
    pub async fn open_store(&self, path_override: Option<&Path>) -> Result<crate::store::Backend> {
        match (path_override, &self.store.fleet_url) {
            (Some(path), _) => Ok(crate::store::Backend::files(path.to_path_buf())),
            (None, Some(url)) => crate::store::Backend::fleet(url, self.watch.lease).await,
            (None, None) => Ok(crate::store::Backend::files(self.store.path.clone())),
        }
    }

    /// The target named `name`.
    pub fn target(&self, name: &str) -> Result<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name).ok_or_else(|| {
            Error::Usage(format!(
                "{}: no target named {name}; targets: {}",
                self.path.display(),
                self.targets
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[store]
path = "snapshots"

[[target]]
name = "shop"
url = "env:SHOP_DATABASE_URL"
migrations = "db/migrations"
format = "flyway"
history = "flyway"
schemas = ["shop"]
ignore = ["kind:comment", "table:shop.tmp_*"]
fail_on = "warning"
"#;

    #[test]
    fn the_readme_example_parses_with_paths_relative_to_the_file() {
        let c = Config::parse(Path::new("/etc/dw/driftwatch.toml"), EXAMPLE).unwrap();
        assert_eq!(c.store.path, Path::new("/etc/dw/snapshots"));
        let t = c.target("shop").unwrap();
        assert_eq!(
            t.migrations.as_deref(),
            Some(Path::new("/etc/dw/db/migrations"))
        );
        assert_eq!(t.format, Some(Format::Flyway));
        assert_eq!(t.history, Some(Tool::Flyway));
        assert_eq!(t.fail_on, Some(Severity::Warning));
        assert!(c.target("nope").is_err());
    }

    #[test]
    fn the_example_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/driftwatch.toml");
        let c = Config::read(&path).unwrap();
        assert_eq!(c.targets.len(), 2);
        assert_eq!(
            (c.store.scans.max_bytes, c.store.scans.keep),
            (10 * 1024 * 1024, 5)
        );
        assert_eq!(c.target("billing").unwrap().history, Some(Tool::Django));
        let demo = &c.target("demo").unwrap().alerts;
        assert_eq!(demo.recipients.len(), 2);
        assert_eq!(demo.webhooks, ["ops"]);
        assert_eq!(
            demo.remind_after,
            Some(std::time::Duration::from_secs(86_400))
        );
        let smtp = c.smtp.as_ref().unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
        assert_eq!(smtp.from.email.to_string(), "drift@example.com");
        assert!(c.webhooks["ops"].secret.is_some());
        assert!(!c.target("billing").unwrap().alerts.has_channels());
        assert_eq!(
            c.target("demo")
                .unwrap()
                .schedule
                .as_ref()
                .map(|s| s.expression()),
            Some("0 9 * * 1-5")
        );
        assert_eq!(
            c.target("billing")
                .unwrap()
                .schedule
                .as_ref()
                .map(|s| s.expression()),
            Some("*/15 * * * *")
        );
        assert_eq!(c.watch.timezone_name, "Europe/Berlin");
        assert_eq!(c.watch.listen, Some("127.0.0.1:9187".parse().unwrap()));
        assert!(c
            .target("demo")
            .unwrap()
            .migrations
            .as_ref()
            .unwrap()
            .is_dir());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let text = EXAMPLE.replace("fail_on", "fial_on");
        let e = Config::parse(Path::new("dw.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("dw.toml:13: "), "{e}");
        assert!(e.contains("unknown field `fial_on`"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }

    #[test]
    fn bad_values_and_duplicates_are_errors() {
        let e = Config::parse(
            Path::new("dw.toml"),
            &EXAMPLE.replace("\"warning\"", "\"loud\""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("dw.toml:13") && e.contains("critical"), "{e}");
        let twice = format!("{EXAMPLE}\n[[target]]\nname = \"shop\"\nurl = \"postgres://x/y\"\n");
        let e = Config::parse(Path::new("dw.toml"), &twice)
            .unwrap_err()
            .to_string();
        assert!(e.contains("defined twice"), "{e}");
        let bad_rule = EXAMPLE.replace("kind:comment", "frobnicate");
        assert!(Config::parse(Path::new("dw.toml"), &bad_rule).is_err());
    }
}
