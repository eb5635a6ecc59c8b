//! The command line: clap definitions, one file per subcommand, each with
//! `run(args) -> Result<ExitCode>`. Errors print as one line, exit code 2.

mod alert;
mod baseline;
mod check;
mod diff;
mod history;
mod log;
mod preflight;
mod replay;
mod rollback;
mod snapshot;
mod status;
mod store;
mod watch;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

/// Watches PostgreSQL databases for schema drift.
#[derive(Debug, Parser)]
#[command(name = "driftwatch", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Capture a schema snapshot from a database, or re-canonicalise a snapshot file.
    Snapshot(snapshot::SnapshotArgs),
    /// Compare two sources (databases, snapshots, schema files, migration directories).
    Diff(diff::DiffArgs),
    /// Show the migrations a database's history table says were applied.
    History(history::HistoryArgs),
    /// Apply migrations one by one to a shadow database, storing a snapshot before and after each.
    Replay(replay::ReplayArgs),
    /// The schema changelog: what each migration changed.
    Log(log::LogArgs),
    /// Scan targets for drift: the live schema against its migration history.
    Check(check::CheckArgs),
    /// The last scan of each target: its result, drift since when, failing since when.
    Status(status::StatusArgs),
    /// Apply the pending migrations to a shadow of the target's live schema: will they apply, what will they lock and rewrite, which drift survives?
    Preflight(preflight::PreflightArgs),
    /// Accept a target's live schema as its expected state (optionally with the migration that says how).
    Baseline(baseline::BaselineArgs),
    /// Alerts: send a test message, or deliver what the outboxes hold now.
    Alert(alert::AlertArgs),
    /// The daemon: scan every target on its schedule, alert, serve /healthz and /metrics.
    Watch(watch::WatchArgs),
    /// The verified SQL that undoes a target's last migrations (and, with --write, the tool's down files).
    Rollback(rollback::RollbackArgs),
    /// Maintain the snapshot store: upgrade its layout, remove unused objects, verify it.
    Store(store::StoreArgs),
}

/// Options that narrow or tune a capture, shared by every command that reads a database.
#[derive(Debug, Clone, Args)]
pub struct CaptureArgs {
    /// Only capture this schema (repeatable).
    #[arg(long = "schema", value_name = "SCHEMA")]
    pub schemas: Vec<String>,
    /// Leave this schema out (repeatable).
    #[arg(long = "exclude-schema", value_name = "SCHEMA")]
    pub exclude_schemas: Vec<String>,
    /// Connections the capture may open, at least 2 (the catalog readers
    /// share one exported snapshot; deparsing has its own).
    #[arg(long, default_value_t = 4, env = "DRIFTWATCH_CONNECTIONS")]
    pub connections: usize,
    /// Longest wait for a lock, in milliseconds; beyond it the capture stops
    /// rather than queue behind DDL.
    #[arg(
        long,
        default_value_t = 1000,
        value_name = "MS",
        env = "DRIFTWATCH_LOCK_TIMEOUT"
    )]
    pub lock_timeout: u64,
    /// Longest any one catalog query may run, in seconds.
    #[arg(
        long,
        default_value_t = 60,
        value_name = "SECONDS",
        env = "DRIFTWATCH_STATEMENT_TIMEOUT"
    )]
    pub statement_timeout: u64,
}

impl CaptureArgs {
    /// The capture options these flags ask for.
    pub fn options(&self) -> driftwatch_capture::CaptureOptions {
        driftwatch_capture::CaptureOptions {
            schemas: self.schemas.clone(),
            exclude_schemas: self.exclude_schemas.clone(),
            connections: self.connections.max(1),
            lock_timeout: Duration::from_millis(self.lock_timeout.max(1)),
            statement_timeout: Duration::from_secs(self.statement_timeout.max(1)),
            history_tables: Default::default(),
        }
    }
}

use crate::catalog as driftwatch_capture;

/// A clap value parser for a library enum with names ([`crate::util::Named`]):
/// the possible values are listed in help and errors, and clap stays here.
pub fn named<T: crate::util::Named>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::ALL.iter().map(|v| v.name()))
        .map(|name| T::from_name(&name).expect("clap accepted only the listed names"))
}

/// Where shadow databases run (schema files, migration directories).
#[derive(Debug, Clone, Args)]
pub struct ShadowArgs {
    /// Server for shadow databases; default: a private throwaway cluster.
    #[arg(long, env = "DRIFTWATCH_SHADOW_URL", value_name = "URL")]
    pub shadow_url: Option<String>,
    /// Bin directory (initdb, postgres) of the server a private cluster
    /// runs; default: the target's major when its binaries are found.
    #[arg(long, env = "DRIFTWATCH_PG_BINDIR", value_name = "DIR")]
    pub pg_bindir: Option<std::path::PathBuf>,
    /// Replay migrations as the shadow server's superuser, for a history
    /// that needs one. By default they run as the unprivileged role
    /// driftwatch_replay, which owns the shadow database (CREATE EXTENSION
    /// runs as the superuser): a migration from an untrusted branch cannot
    /// read the server's files or run programs.
    #[arg(long, env = "DRIFTWATCH_SHADOW_SUPERUSER")]
    pub shadow_superuser: bool,
}

impl ShadowArgs {
    /// The shadow options these flags ask for.
    pub fn options(&self) -> crate::shadow::ShadowOptions {
        crate::shadow::ShadowOptions {
            url: self.shadow_url.clone(),
            bindir: self.pg_bindir.clone(),
            major: None,
            superuser: self.shadow_superuser,
        }
    }
}

/// A clap usage error as one line: clap's message and tips joined, then the
/// usage it prints and where help is (`driftwatch` alone, which clap answers
/// with the whole help, becomes "a command is required").
fn usage_error_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut message = Vec::new();
    let mut usage = None;
    for line in rendered.lines().map(str::trim) {
        if let Some(u) = line.strip_prefix("Usage:") {
            usage.get_or_insert_with(|| u.trim().to_string());
        } else if line.is_empty() || line.starts_with("For more information") {
            continue;
        } else if usage.is_none() {
            message.push(
                line.strip_prefix("error:")
                    .unwrap_or(line)
                    .trim()
                    .to_string(),
            );
        }
    }
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        message = vec!["a command is required".to_string()];
    }
    let mut line = String::new();
    for part in &message {
        if !line.is_empty() {
            line.push_str(if part.starts_with("tip:") { "; " } else { " " });
        }
        line.push_str(part);
    }
    match usage {
        Some(usage) => format!("{line} (usage: {usage}; more with --help)"),
        None => format!("{line} (more with --help)"),
    }
}

/// The configuration file: `--config`, else `DRIFTWATCH_CONFIG` (when not
/// empty), else `./driftwatch.toml` when present.
pub(crate) fn config_path(given: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    let from_env = std::env::var_os("DRIFTWATCH_CONFIG")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    crate::config::Config::path_or_default(given.or(from_env.as_deref()))
}

/// Writes a report to `output` (atomically: a failure leaves no half file)
/// or, without one, to standard output.
pub(crate) fn write_output(output: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match output {
        Some(path) => crate::util::write_atomic(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Parses the command line, runs the command, and maps errors to exit code 2.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!("driftwatch: {}", usage_error_line(&e));
                    ExitCode::from(2)
                }
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("driftwatch: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Snapshot(args) => snapshot::run(args).await,
            Command::Diff(args) => diff::run(args).await,
            Command::History(args) => history::run(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Log(args) => log::run(args).await,
            Command::Preflight(args) => preflight::run(args).await,
            Command::Watch(args) => watch::run(args).await,
            Command::Check(args) => check::run(args).await,
            Command::Status(args) => status::run(args).await,
            Command::Store(args) => store::run(args).await,
            Command::Alert(args) => alert::run(args).await,
            Command::Baseline(args) => baseline::run(args).await,
            Command::Rollback(args) => rollback::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors quote database text (names, server messages): shown, not obeyed.
            let line = format!("{e:#}");
            eprintln!("driftwatch: {}", crate::escape::terminal_block(&line));
            ExitCode::from(2)
        }
    }
}
