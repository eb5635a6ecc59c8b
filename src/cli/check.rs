//! `driftwatch check`: the drift scan of configured targets, or of one
//! database given on the command line.

use super::diff::ColorChoice;
use super::history::HistoryTableArgs;
use super::{CaptureArgs, ShadowArgs};
use crate::alert::Alerting;
use crate::check::ScanTarget;
use crate::config::Config;
use crate::diff::Severity;
use crate::error::Error;
use crate::job::check_targets;
use crate::migrations::Format;
use crate::report::ScanResult;
use crate::report::{
    render_check_html, render_check_markdown, render_check_text, CheckReport, Style,
};
use crate::store::Backend;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file (default: $DRIFTWATCH_CONFIG, else
    /// ./driftwatch.toml when present; neither is read with --url).
    // DRIFTWATCH_CONFIG is read in code, not by clap: clap counts an
    // environment value as given, and an exported config would then
    // refuse every --url.
    #[arg(long, short, value_name = "FILE", conflicts_with = "url")]
    pub config: Option<PathBuf>,
    /// Scan this configured target (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Scan every configured target.
    #[arg(long, conflicts_with = "targets")]
    pub all: bool,
    #[command(flatten)]
    pub ad_hoc: AdHocArgs,
    /// The store (default: the config's, else ./snapshots).
    #[arg(long, env = "DRIFTWATCH_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Exit 1 when a drift finding at or above this severity remains
    /// (default: the target's fail_on, else info).
    #[arg(long, value_parser = super::named::<Severity>())]
    pub fail_on: Option<Severity>,
    /// More ignore rules (as for diff; added to the target's).
    #[arg(long = "ignore", value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Write the report here (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Alert the targets' recipients (notify, webhooks) when the drift
    /// state changed, and deliver what the outbox holds.
    #[arg(long, conflicts_with = "url")]
    pub notify: bool,
    /// With --notify: write each message into DIR (.eml files, webhook
    /// JSON) instead of sending it; the alert state is left as it was.
    #[arg(long, value_name = "DIR", requires = "notify")]
    pub dry_run: Option<PathBuf>,
    /// Capture the live schema in full, not only what changed since the
    /// store's last live snapshot (incremental is the default; a full
    /// capture also runs once `full_capture_every` has passed).
    #[arg(long)]
    pub full_capture: bool,
    #[command(flatten)]
    pub history: HistoryTableArgs,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// A target given on the command line instead of a config file: shared by
/// `check` and `baseline`, so both take the same `--url --migrations
/// --migration-format --name`.
#[derive(Debug, Args)]
pub struct AdHocArgs {
    /// Ad hoc: the database (postgres://… or env:VAR), without a config file.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Ad hoc: its migration directory.
    #[arg(long, value_name = "DIR", requires = "url")]
    pub migrations: Option<PathBuf>,
    /// Ad hoc: the directory's layout (detected by default).
    #[arg(long = "migration-format", value_parser = super::named::<Format>(), value_name = "FORMAT", requires = "url")]
    pub migration_format: Option<Format>,
    /// Ad hoc: the target's name in the store (default: the database's name).
    #[arg(long, value_name = "NAME", requires = "url")]
    pub name: Option<String>,
}

impl AdHocArgs {
    /// The target these options name (None without `--url`), with the
    /// command line's history, capture and shadow settings; the store's
    /// defaults for everything a config file would say.
    pub fn target(
        &self,
        history: &HistoryTableArgs,
        capture: &crate::catalog::CaptureOptions,
        shadow: &crate::shadow::ShadowOptions,
    ) -> crate::Result<Option<ScanTarget>> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let name = match &self.name {
            Some(n) => n.clone(),
            None => crate::database::DatabaseUrl::resolve(url)?
                .database_name()
                .unwrap_or_else(|| "default".into()),
        };
        Ok(Some(ScanTarget {
            name,
            url: url.clone(),
            migrations: self.migrations.clone(),
            format: self.migration_format,
            // The directory's layout decides between several tools'
            // history tables.
            locate: crate::history::Locate {
                migrations: self.migrations.clone(),
                format: self.migration_format,
                ..history.locate()
            },
            capture: capture.clone(),
            ignore: Vec::new(),
            fail_on: Severity::Info,
            shadow: shadow.clone(),
            keep_live: crate::config::StoreConfig::default().keep_live,
            scan_rotation: Default::default(),
            alerts: Default::default(),
            probe: false,
            live: Default::default(),
        }))
    }
}

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// For a terminal.
    Text,
    /// The report as JSON (docs/check.schema.json); several targets: an array.
    Json,
    /// Markdown for pull requests and tickets.
    Markdown,
    /// One self-contained HTML page (no scripts, no network).
    Html,
}

/// `--full-capture` as the reason of the full capture it asks for.
fn full_capture(args: &CheckArgs) -> Option<crate::catalog::FullReason> {
    args.full_capture
        .then_some(crate::catalog::FullReason::Forced)
}

/// The targets and store these arguments ask for, and the configuration
/// they came from (None for an ad hoc scan).
pub(crate) fn targets_and_store(
    args: &CheckArgs,
) -> Result<(Vec<ScanTarget>, PathBuf, Option<Config>)> {
    let capture = args.capture.options();
    let shadow = args.shadow.options();
    if let Some(mut target) = args.ad_hoc.target(&args.history, &capture, &shadow)? {
        target.ignore = args.ignore.clone();
        target.fail_on = args.fail_on.unwrap_or(Severity::Info);
        target.live.full_now = full_capture(args);
        let store = args
            .store
            .clone()
            .unwrap_or_else(crate::config::default_store_path);
        return Ok((vec![target], store, None));
    }
    let Some(path) = super::config_path(args.config.as_deref()) else {
        return Err(Error::Usage(
            "check needs --config FILE (or ./driftwatch.toml), or --url URL for an ad hoc scan"
                .into(),
        )
        .into());
    };
    let config = Config::read(&path)?;
    let chosen: Vec<&crate::config::TargetConfig> = if args.all || args.targets.is_empty() {
        if !args.all && config.targets.len() > 1 {
            return Err(Error::Usage(format!(
                "{} has {} targets: name one with --target NAME or scan all with --all",
                path.display(),
                config.targets.len()
            ))
            .into());
        }
        config.targets.iter().collect()
    } else {
        args.targets
            .iter()
            .map(|t| config.target(t))
            .collect::<crate::Result<_>>()?
    };
    if chosen.is_empty() {
        return Err(Error::Input {
            path: path.display().to_string(),
            message: "defines no [[target]]".into(),
            hint: "add one (see docs/configuration.md)".into(),
        }
        .into());
    }
    let targets = chosen
        .into_iter()
        .map(|t| {
            let mut target = ScanTarget::from_config(t, &config.store, &capture, &shadow);
            target.ignore.extend(args.ignore.iter().cloned());
            target.live.full_now = full_capture(args);
            if let Some(f) = args.fail_on {
                target.fail_on = f;
            }
            if args.history.tool.is_some() || args.history.history_table.is_some() {
                target.locate = crate::history::Locate {
                    migrations: target.locate.migrations.clone(),
                    format: target.locate.format,
                    ..args.history.locate()
                };
            }
            target
        })
        .collect();
    let store = args.store.clone().unwrap_or(config.store.path.clone());
    Ok((targets, store, Some(config)))
}

/// Runs `driftwatch check`.
pub async fn run(args: CheckArgs) -> Result<ExitCode> {
    let (targets, store_root, config) = targets_and_store(&args)?;
    // Every target name checked before the first scan.
    for t in &targets {
        crate::store::TargetStore::new(&store_root, &t.name)?;
    }
    // Set up before any scan: a missing password is an error now, not
    // after the scans when there is drift to report.
    let alerting = match (&config, args.notify) {
        (Some(c), true) => Some(Alerting::from_config(c, args.dry_run.clone())?),
        _ => None,
    };
    let backend = match &config {
        Some(c) => c.open_store(args.store.as_deref()).await?,
        None => Backend::files(store_root),
    };
    let reports = check_targets(&backend, &targets, alerting.as_ref(), |name, outcome| {
        super::alert::print_outcome(name, outcome)
    })
    .await?;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text = match args.format {
        CheckFormat::Text => reports
            .iter()
            .map(|r| render_check_text(r, if color { Style::Color } else { Style::Plain }))
            .collect::<Vec<_>>()
            .join("\n"),
        CheckFormat::Markdown => reports
            .iter()
            .map(render_check_markdown)
            .collect::<Vec<_>>()
            .join("\n"),
        CheckFormat::Html => render_check_html(&reports),
        CheckFormat::Json => {
            let mut t = if reports.len() == 1 {
                serde_json::to_string_pretty(&reports[0])?
            } else {
                serde_json::to_string_pretty(&reports)?
            };
            t.push('\n');
            t
        }
    };
    if args.format != CheckFormat::Text || args.output.is_some() {
        for r in &reports {
            for w in &r.warnings {
                eprintln!(
                    "warning: {}: {}",
                    crate::escape::terminal(&r.target),
                    crate::escape::terminal(w)
                );
            }
            if let Some(e) = &r.error {
                eprintln!(
                    "driftwatch: {}: scan failed: {}",
                    crate::escape::terminal(&r.target),
                    crate::escape::terminal(e)
                );
            }
        }
    }
    super::write_output(args.output.as_deref(), &text)?;
    Ok(exit_code(&reports))
}

/// 2 when a scan failed, else 1 when one found drift, else 0.
pub(crate) fn exit_code(reports: &[CheckReport]) -> ExitCode {
    if reports.iter().any(|r| r.result == ScanResult::Failed) {
        ExitCode::from(2)
    } else if reports.iter().any(|r| r.fails()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
