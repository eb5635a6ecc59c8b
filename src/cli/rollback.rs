//! `driftwatch rollback --target NAME`: the verified SQL that undoes a
//! target's last migrations, from its stored snapshots (never run against
//! the target); `--write` writes the tool's down files.

use super::diff::{PlanArgs, ReportFormat};
use super::ShadowArgs;
use crate::config::Config;
use crate::error::Error;
use crate::rollback::{render_markdown, render_text, RollbackOptions};
use crate::store::TargetStore;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The target whose replayed migrations are rolled back.
    #[arg(long, value_name = "NAME")]
    pub target: String,
    /// Roll back every migration after this version (it stays applied).
    #[arg(long, value_name = "VERSION", conflicts_with = "steps")]
    pub to: Option<String>,
    /// Roll back this many migrations (default 1).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// The applied version (default: the newest replayed migration).
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    /// Write the output to this file (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output form: text (the SQL with its findings as comments), json, markdown.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the down file each rolled-back migration's tool runs (once
    /// every one verified; never over a non-empty one).
    #[arg(long)]
    pub write: bool,
    /// The migration directory for --write (default: the target's
    /// `migrations` in the configuration, else the directory replayed).
    #[arg(long, value_name = "DIR", requires = "write")]
    pub migrations: Option<PathBuf>,
    /// The configuration file: its store (a fleet store too) and the
    /// target's migration directory.
    #[arg(long, short, env = "DRIFTWATCH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The store (default: the configuration's, else ./snapshots).
    #[arg(long, env = "DRIFTWATCH_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub shadow: ShadowArgs,
}

/// Runs `driftwatch rollback`: exit 0 when the rollback converges on the
/// stored `before`, 1 when it does not, 2 when it could not run.
pub async fn run(args: RollbackArgs) -> Result<ExitCode> {
    let config_path = Config::path_or_default(args.config.as_deref());
    let config = config_path.as_deref().map(Config::read).transpose()?;
    let backend = match &config {
        Some(c) => c.open_store(args.store.as_deref()).await?,
        None => crate::store::Backend::files(
            args.store
                .clone()
                .unwrap_or_else(crate::config::default_store_path),
        ),
    };
    // A fleet store is read through a copy of the target's folder.
    let view = backend
        .read_view(std::slice::from_ref(&args.target))
        .await?;
    let store = TargetStore::new(view.root(), &args.target)?;
    let write = if args.write {
        let configured = config.as_ref().and_then(|c| {
            c.targets
                .iter()
                .find(|t| t.name == args.target)
                .and_then(|t| t.migrations.clone())
        });
        let replayed = store.read_index()?.map(|i| PathBuf::from(i.source));
        Some(
            args.migrations
                .clone()
                .or(configured)
                .or(replayed)
                .ok_or_else(|| {
                    Error::Usage(
                        "--write needs the migration directory: give --migrations DIR".into(),
                    )
                })?,
        )
    } else {
        None
    };
    let opts = RollbackOptions {
        from: args.from.clone(),
        to: args.to.clone(),
        steps: args.steps,
        plan: args.plan.options(),
        shadow: args.shadow.options(),
        write,
    };
    let report = crate::rollback::rollback(&store, &opts).await?;
    let text = match args.format {
        ReportFormat::Text => render_text(&report),
        ReportFormat::Markdown => render_markdown(&report),
        ReportFormat::Json => {
            let mut t = serde_json::to_string_pretty(&report)?;
            t.push('\n');
            t
        }
    };
    let unverified = report
        .written
        .iter()
        .filter(|w| !w.verification.converges())
        .count();
    eprintln!(
        "verified: {}{}",
        crate::escape::terminal(&report.verification.line()),
        match (report.written.len(), unverified) {
            (0, _) => String::new(),
            (n, 0) => format!("; {n} down file(s) verified and written"),
            (n, bad) => format!("; {bad} of {n} down file(s) do not converge: none written"),
        }
    );
    super::write_output(args.output.as_deref(), &text)?;
    Ok(if report.converges() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
