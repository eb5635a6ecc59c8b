//! `driftwatch replay DIR`: before/after snapshots for every migration.

use super::{CaptureArgs, ShadowArgs};
use crate::migrations::{self, Format};
use crate::replay::{self, ReplayOptions};
use crate::report::{render_down_markdown, render_down_text, DownReport, DownRow};
use crate::store::TargetStore;
use anyhow::Result;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where replayed snapshots go, shared by `replay` and `log`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The snapshot store (a folder).
    #[arg(
        long,
        default_value = "snapshots",
        env = "DRIFTWATCH_STORE",
        value_name = "PATH"
    )]
    pub store: PathBuf,
    /// The target's name in the store (default: the migration directory's name).
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
}

impl StoreArgs {
    /// The target store for migrations read from `dir`.
    pub fn for_dir(&self, dir: &Path) -> Result<TargetStore> {
        let name = match &self.target {
            Some(t) => t.clone(),
            None => std::fs::canonicalize(dir)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_else(|| "migrations".into()),
        };
        Ok(TargetStore::new(&self.store, &name)?)
    }
}

/// Options that read a migration directory and replay it, shared by
/// `replay` and `log DIR`.
#[derive(Debug, Clone, Args)]
pub struct ReplaySourceArgs {
    /// The migration layout (detected from the file names by default).
    #[arg(long = "migration-format", value_parser = super::named::<Format>(), value_name = "FORMAT")]
    pub migration_format: Option<Format>,
    /// Stop after this version.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Capture the whole schema after every migration rather than only
    /// what it changed (slower; the reference for the incremental capture).
    #[arg(long)]
    pub full_capture: bool,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    /// Read a directory that holds no migration as an empty history
    /// (otherwise an error: a wrong path must not look like an empty schema).
    #[arg(long)]
    pub allow_empty: bool,
    /// Replace a target whose stored snapshots came from another directory.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// Arguments of `driftwatch replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The migration directory.
    pub dir: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub source: ReplaySourceArgs,
    /// After each migration, run its down file and compare the schema with
    /// the state before the migration, then the migration again and compare
    /// with the state after it; exit 1 when a down file is wrong.
    #[arg(long)]
    pub verify_down: bool,
    /// Output form of the --verify-down report.
    #[arg(long, value_enum, default_value_t = DownFormat::Text, requires = "verify_down")]
    pub format: DownFormat,
}

/// Output forms of `replay --verify-down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DownFormat {
    /// A line per migration, what differs or failed indented under it.
    Text,
    /// `{"target", "migrations": [{"version", "description", "verdict", "file", "checksum", "differences", "failure"}]}`.
    Json,
    /// A list item per migration.
    Markdown,
}

/// Replays `dir` into its target store, with a progress bar on a terminal;
/// prints skipped-file warnings on stderr.
pub async fn replay_dir(
    dir: &Path,
    store: &TargetStore,
    args: &ReplaySourceArgs,
    verify_down: bool,
) -> Result<replay::ReplayOutcome> {
    let set = migrations::read(dir, args.migration_format)?;
    set.require_some(args.allow_empty)?;
    for w in &set.warnings {
        eprintln!("warning: {}", crate::escape::terminal(w));
    }
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let opts = ReplayOptions {
        to: args.to.clone(),
        full_capture: args.full_capture,
        capture: args.capture.options(),
        shadow: args.shadow.options(),
        force: args.force,
        verify_down,
    };
    let outcome = replay::replay(&set, store, &opts, &Bar(progress.clone())).await;
    progress.finish_and_clear();
    Ok(outcome?)
}

/// Runs `driftwatch replay`.
pub async fn run(args: ReplayArgs) -> Result<ExitCode> {
    let store = args.store.for_dir(&args.dir)?;
    let outcome = replay_dir(&args.dir, &store, &args.source, args.verify_down).await?;
    let count = outcome.index.migrations.len();
    eprintln!(
        "{}: {count} migration{} ({} replayed, {} captured incrementally; {} unchanged since the last replay) in {}",
        store.target(),
        if count == 1 { "" } else { "s" },
        outcome.captured,
        outcome.incremental,
        outcome.reused,
        store.migrations_dir().display()
    );
    if !args.verify_down {
        return Ok(ExitCode::SUCCESS);
    }
    let report = DownReport {
        target: store.target().to_string(),
        migrations: outcome
            .index
            .migrations
            .iter()
            .filter_map(|m| {
                Some(DownRow {
                    version: m.version.clone(),
                    description: m.description.clone(),
                    check: m.down.clone()?,
                })
            })
            .collect(),
    };
    let text = match args.format {
        DownFormat::Text => render_down_text(&report),
        DownFormat::Markdown => render_down_markdown(&report),
        DownFormat::Json => {
            let mut t = serde_json::to_string_pretty(&report)?;
            t.push('\n');
            t
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if report.wrong() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The replay's progress on an indicatif bar.
struct Bar(ProgressBar);

impl replay::Progress for Bar {
    fn start(&self, total: u64, done: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }
    fn working_on(&self, what: &str) {
        self.0.set_message(what.to_string());
    }
    fn advance(&self) {
        self.0.inc(1);
    }
}
