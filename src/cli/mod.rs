//! The command line: clap definitions, one file per subcommand, each with
//! `run(args) -> Result<ExitCode>`. Errors print as one line, exit code 2.

mod diff;
mod history;
mod log;
mod replay;
mod snapshot;

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
    /// Connections the capture may open (they share one exported snapshot).
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

/// Parses the command line, runs the command, and maps errors to exit code 2.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
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
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("driftwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}
