//! `driftwatch baseline`: accept a target's live schema as its expected
//! state, after showing what would be written and asking.

use super::check::AdHocArgs;
use super::diff::PlanArgs;
use super::history::HistoryTableArgs;
use super::{CaptureArgs, ShadowArgs};
use crate::baseline::{accept, BaselineRequest, Prepared};
use crate::check::ScanTarget;
use crate::config::Config;
use crate::error::Error;
use crate::store::{Backend, TargetStore};
use anyhow::Result;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The configuration file (default: $DRIFTWATCH_CONFIG, else
    /// ./driftwatch.toml when present; neither is read with --url).
    // DRIFTWATCH_CONFIG is read in code, not by clap: clap counts an
    // environment value as given, and an exported config would then
    // refuse every --url.
    #[arg(long, short, value_name = "FILE", conflicts_with = "url")]
    pub config: Option<PathBuf>,
    /// The target whose live schema becomes the expected state (needed
    /// when the file has several).
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    pub target: Option<String>,
    /// A target named on the command line, as for `check`.
    #[command(flatten)]
    pub ad_hoc: AdHocArgs,
    /// Why: kept in the audit record and in the migration's name.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Do not ask (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Also write the expected → live migration into the target's
    /// migrations directory, as its next version.
    #[arg(long)]
    pub write_migration: bool,
    /// Also record that migration as applied in the target's history table
    /// (the only write driftwatch makes to a database).
    #[arg(long, requires = "write_migration")]
    pub record_history: bool,
    /// Who accepts it (default: the operating-system user).
    #[arg(long, env = "DRIFTWATCH_USER", value_name = "NAME")]
    pub by: Option<String>,
    /// The store (default: the config's, else ./snapshots).
    #[arg(long, env = "DRIFTWATCH_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub history: HistoryTableArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Runs `driftwatch baseline`.
pub async fn run(args: BaselineArgs) -> Result<ExitCode> {
    let (target, backend) = target_and_store(&args).await?;
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "baseline asks before it writes: run it on a terminal, or pass --yes".into(),
        )
        .into());
    }
    let name = target.name.clone();
    let req = BaselineRequest {
        target,
        reason: args.reason.clone(),
        by: args.by.clone().unwrap_or_else(os_user),
        write_migration: args.write_migration,
        record_history: args.record_history,
        plan: args.plan.options(),
    };
    let confirm = |prepared: &Prepared| match show_and_ask(&args, &name, prepared) {
        Ok(yes) => yes,
        Err(e) => {
            eprintln!("driftwatch: {e}");
            false
        }
    };
    let Some(applied) = accept(&backend, &req, confirm).await? else {
        return Ok(ExitCode::from(1));
    };
    println!(
        "accepted: store:{}@baseline ({})",
        crate::escape::terminal(&name),
        applied.baseline
    );
    for f in &applied.migration_files {
        println!("wrote {}", f.display());
    }
    if applied.history_recorded {
        println!("recorded the migration in the history table");
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows what the baseline accepts and writes; asks unless `--yes`. True
/// to go on.
fn show_and_ask(args: &BaselineArgs, name: &str, prepared: &Prepared) -> std::io::Result<bool> {
    let mut e = std::io::stderr().lock();
    writeln!(
        e,
        "baseline {}: accept the live schema ({}) as the expected state{}",
        crate::escape::terminal(name),
        short(&prepared.live.fingerprint),
        prepared
            .report
            .expected
            .as_ref()
            .map(|x| format!(", replacing {}", x.source))
            .unwrap_or_default()
    )?;
    let drift: Vec<_> = prepared
        .report
        .findings
        .iter()
        .filter(|f| f.code.is_drift())
        .collect();
    writeln!(e, "  {} finding(s) accepted", drift.len())?;
    for f in &drift {
        writeln!(
            e,
            "    [{}] {}",
            crate::util::Named::name(f.severity),
            f.message
        )?;
    }
    if let Some(m) = &prepared.migration {
        for (file, _) in &m.files {
            writeln!(e, "  migration: {}", file.display())?;
        }
        let off = m.plan.statements.iter().filter(|s| !s.enabled).count();
        writeln!(
            e,
            "    {} statement(s){}",
            m.plan.statements.len(),
            if off > 0 {
                format!(", {off} written commented out (they lose data; --allow-drops)")
            } else {
                String::new()
            }
        )?;
        for w in &m.plan.warnings {
            writeln!(e, "    warning: {w}")?;
        }
    } else if args.write_migration {
        writeln!(
            e,
            "  no migration: the live schema equals the expected state"
        )?;
    }
    if let Some(table) = &prepared.history {
        writeln!(
            e,
            "  history: a {} row in {} (the only write to the database)",
            table.tool.as_str(),
            visible(&table.qualified())
        )?;
    }
    if !args.yes {
        write!(e, "Accept? [y/N] ")?;
        e.flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            writeln!(e, "nothing written")?;
            return Ok(false);
        }
    }
    Ok(true)
}

/// The target (ad hoc with `--url`, else from the configuration) and its
/// store.
async fn target_and_store(args: &BaselineArgs) -> Result<(ScanTarget, Backend)> {
    let capture = args.capture.options();
    let shadow = args.shadow.options();
    if let Some(target) = args.ad_hoc.target(&args.history, &capture, &shadow)? {
        let root = args
            .store
            .clone()
            .unwrap_or_else(crate::config::default_store_path);
        TargetStore::new(&root, &target.name)?;
        return Ok((target, Backend::files(root)));
    }
    let Some(path) = super::config_path(args.config.as_deref()) else {
        return Err(Error::Usage(
            "baseline needs --config FILE (or ./driftwatch.toml) naming the target, or --url URL for an ad hoc target"
                .into(),
        )
        .into());
    };
    let config = Config::read(&path)?;
    let t = match &args.target {
        Some(name) => config.target(name)?,
        None if config.targets.len() == 1 => &config.targets[0],
        None => {
            return Err(Error::Usage(format!(
                "{} has {} targets: name one with --target NAME",
                path.display(),
                config.targets.len()
            ))
            .into())
        }
    };
    let mut target = ScanTarget::from_config(t, &config.store, &capture, &shadow);
    if args.history.tool.is_some() || args.history.history_table.is_some() {
        target.locate = args.history.locate();
    }
    TargetStore::new(&config.store.path, &t.name)?;
    let backend = config.open_store(args.store.as_deref()).await?;
    Ok((target, backend))
}

/// Database text for the terminal: control characters shown escaped.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The first 12 hex digits of a fingerprint (`sha256:` left off).
fn short(fingerprint: &str) -> &str {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    hex.get(..12).unwrap_or(hex)
}
