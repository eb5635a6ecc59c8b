//! `driftwatch watch`: the daemon (scheduled scans, alerts, metrics), or
//! with `--print-schedule` the next runs of each target.

use super::{CaptureArgs, ShadowArgs};
use crate::config::Config;
use crate::error::Error;
use crate::watch::{self, WatchOptions};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The configuration file (default: ./driftwatch.toml when present).
    #[arg(long, short, env = "DRIFTWATCH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print each target's next 5 runs (RFC 3339, in [watch] timezone) and exit.
    #[arg(long)]
    pub print_schedule: bool,
    /// Log format on standard error: text for people, json (one object per
    /// line) for log shippers.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "DRIFTWATCH_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Log filter (error, warn, info, debug; or tracing directives).
    #[arg(
        long,
        default_value = "info",
        env = "DRIFTWATCH_LOG",
        value_name = "FILTER"
    )]
    pub log_level: String,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// Log formats of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event (timestamp, level, fields, message).
    Json,
}

/// Runs `driftwatch watch`.
pub async fn run(args: WatchArgs) -> Result<ExitCode> {
    let Some(path) = Config::path_or_default(args.config.as_deref()) else {
        return Err(Error::Usage("watch needs --config FILE (or ./driftwatch.toml)".into()).into());
    };
    if args.print_schedule {
        let config = Config::read(&path)?;
        let text = watch::print_schedule(&config, jiff::Timestamp::now())?;
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level).map_err(|e| {
        Error::Usage(format!(
            "--log-level {:?} is not a log filter ({e}); use error, warn, info or debug",
            args.log_level
        ))
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match args.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    watch::run(WatchOptions {
        config: path,
        capture: args.capture.options(),
        shadow: args.shadow.options(),
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
