//! `driftwatch preflight`: the pending migrations applied to a shadow of
//! the target's live schema before they run in production.

use super::history::HistoryTableArgs;
use super::{CaptureArgs, ShadowArgs};
use crate::check::ScanTarget;
use crate::config::Config;
use crate::error::Error;
use crate::migrations::Format;
use crate::preflight::{LiveFrom, PreflightRequest};
use crate::report::{render_preflight_html, render_preflight_markdown, render_preflight_text};
use crate::store::{Backend, StoredRef};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The configuration file (default: $DRIFTWATCH_CONFIG, else
    /// ./driftwatch.toml when present; not read with --url).
    #[arg(long, short, value_name = "FILE", conflicts_with = "url")]
    pub config: Option<PathBuf>,
    /// The configured target to preflight.
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Ad hoc: the database (postgres://… or env:VAR), without a config file.
    #[arg(long, value_name = "URL", conflicts_with = "snapshot")]
    pub url: Option<String>,
    /// No connection to the target: its newest live snapshot in the store
    /// (`store:[PATH/]NAME@live`, as `watch` or `check` kept it).
    #[arg(long, value_name = "store:NAME@live")]
    pub snapshot: Option<String>,
    /// The migration directory with the pending migrations (a branch's
    /// checkout; default: the target's configured one).
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// The directory's layout (detected by default).
    #[arg(long = "migration-format", value_parser = super::named::<Format>(), value_name = "FORMAT")]
    pub migration_format: Option<Format>,
    /// Ad hoc: the target's name in the store (default: the database's name).
    #[arg(long, value_name = "NAME", requires = "url")]
    pub name: Option<String>,
    /// The newest applied version, instead of what the history table (or
    /// the store's scan) says.
    #[arg(long, value_name = "VERSION")]
    pub applied: Option<String>,
    /// The store (default: the config's, else ./snapshots).
    #[arg(long, env = "DRIFTWATCH_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// More ignore rules (as for diff; added to the target's).
    #[arg(long = "ignore", value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = PreflightFormat::Text)]
    pub format: PreflightFormat,
    /// Write the report here (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub history: HistoryTableArgs,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// Report formats of `preflight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PreflightFormat {
    /// For a terminal.
    Text,
    /// The report as JSON.
    Json,
    /// Markdown for pull requests.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

/// The target, where its live schema comes from, and its store.
async fn request(args: &PreflightArgs) -> Result<(PreflightRequest, Backend)> {
    let capture = args.capture.options();
    let shadow = args.shadow.options();
    let stored = match &args.snapshot {
        Some(spec) => {
            let default_root = args
                .store
                .clone()
                .unwrap_or_else(crate::config::default_store_path);
            let r = StoredRef::parse(spec, &default_root)?;
            if r.which != crate::store::Stored::Live {
                return Err(Error::Usage(format!(
                    "--snapshot {spec}: preflight starts from a target's live schema: write store:NAME@live"
                ))
                .into());
            }
            Some(r)
        }
        None => None,
    };
    let live = if stored.is_some() {
        LiveFrom::Store
    } else {
        LiveFrom::Connect
    };
    let config_path = match (&args.url, &args.config) {
        (Some(_), _) => None,
        (None, given) => super::config_path(given.as_deref()),
    };
    let (mut target, backend) = match (&args.url, &config_path, &stored) {
        (Some(url), _, _) => {
            let ad_hoc = super::check::AdHocArgs {
                url: Some(url.clone()),
                migrations: args.migrations.clone(),
                migration_format: args.migration_format,
                name: args.name.clone(),
            };
            let target = ad_hoc
                .target(&args.history, &capture, &shadow)?
                .ok_or_else(|| Error::Usage("--url is empty".into()))?;
            let root = args
                .store
                .clone()
                .unwrap_or_else(crate::config::default_store_path);
            (target, Backend::files(root))
        }
        (None, Some(path), _) => {
            let config = Config::read(path)?;
            let name = match (&args.target, &stored) {
                (Some(n), _) => n.clone(),
                (None, Some(r)) => r.target.clone(),
                (None, None) if config.targets.len() == 1 => config.targets[0].name.clone(),
                (None, None) => {
                    return Err(Error::Usage(format!(
                        "{} has {} targets: name one with --target NAME",
                        path.display(),
                        config.targets.len()
                    ))
                    .into())
                }
            };
            let t = config.target(&name)?;
            let target = ScanTarget::from_config(t, &config.store, &capture, &shadow);
            let backend = match &stored {
                // A store named in the snapshot's spec wins over the config's.
                Some(r) if args.store.is_some() || spec_names_root(args) => {
                    Backend::files(r.root.clone())
                }
                _ => config.open_store(args.store.as_deref()).await?,
            };
            (target, backend)
        }
        (None, None, Some(r)) => {
            let target = ScanTarget {
                name: r.target.clone(),
                url: String::new(),
                migrations: args.migrations.clone(),
                format: args.migration_format,
                locate: args.history.locate(),
                capture: capture.clone(),
                ignore: Vec::new(),
                fail_on: crate::diff::Severity::Info,
                shadow: shadow.clone(),
                keep_live: 0,
                scan_rotation: Default::default(),
                alerts: Default::default(),
                probe: false,
                live: Default::default(),
            };
            (target, Backend::files(r.root.clone()))
        }
        (None, None, None) => {
            return Err(Error::Usage(
                "preflight needs --config FILE (or ./driftwatch.toml) and --target NAME, --url URL --migrations DIR, or --snapshot store:NAME@live --migrations DIR"
                    .into(),
            )
            .into())
        }
    };
    if let Some(dir) = &args.migrations {
        target.migrations = Some(dir.clone());
        target.locate.migrations = Some(dir.clone());
    }
    if args.migration_format.is_some() {
        target.format = args.migration_format;
        target.locate.format = args.migration_format;
    }
    target.ignore.extend(args.ignore.iter().cloned());
    Ok((
        PreflightRequest {
            target,
            live,
            applied: args.applied.clone(),
        },
        backend,
    ))
}

/// True when `--snapshot` names its store folder (`store:PATH/NAME@live`).
fn spec_names_root(args: &PreflightArgs) -> bool {
    args.snapshot.as_deref().is_some_and(|s| {
        s.strip_prefix("store:")
            .unwrap_or(s)
            .rsplit_once('@')
            .is_some_and(|(path, _)| path.contains('/'))
    })
}

/// Runs `driftwatch preflight`.
pub async fn run(args: PreflightArgs) -> Result<ExitCode> {
    let (req, backend) = request(&args).await?;
    let view = backend
        .read_view(std::slice::from_ref(&req.target.name))
        .await?;
    let store = crate::store::TargetStore::new(view.root(), &req.target.name)?;
    let report = crate::preflight::preflight(&req, &store).await?;
    let text = match args.format {
        PreflightFormat::Text => render_preflight_text(&report),
        PreflightFormat::Markdown => render_preflight_markdown(&report),
        PreflightFormat::Html => render_preflight_html(&report),
        PreflightFormat::Json => {
            let mut t = serde_json::to_string_pretty(&report)?;
            t.push('\n');
            t
        }
    };
    super::write_output(args.output.as_deref(), &text)?;
    Ok(ExitCode::from(report.exit_code()))
}
