//! `driftwatch status`: the last scan of each target, drift since when,
//! failing since when.

use crate::check::{self, TargetStatus};
use crate::config::Config;
use crate::escape::terminal;
use crate::store::TargetStore;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The configuration file (default: ./driftwatch.toml when present);
    /// its store and targets are shown.
    #[arg(long, short, env = "DRIFTWATCH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The store (default: the config's, else ./snapshots).
    #[arg(long, env = "DRIFTWATCH_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Only this target (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Output form.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
}

/// Output forms of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A line per target.
    Text,
    /// An array of `{target, scans, last, drift_since, failing_since}`.
    Json,
}

/// Runs `driftwatch status`.
pub async fn run(args: StatusArgs) -> Result<ExitCode> {
    let config_path = Config::path_or_default(args.config.as_deref());
    let config = config_path.as_deref().map(Config::read).transpose()?;
    // A fleet store is read through a copy of its targets' folders.
    let backend = match &config {
        Some(c) => c.open_store(args.store.as_deref()).await?,
        None => crate::store::Backend::files(
            args.store
                .clone()
                .unwrap_or_else(crate::config::default_store_path),
        ),
    };
    let configured: Vec<String> = config
        .iter()
        .flat_map(|c| c.targets.iter().map(|t| t.name.clone()))
        .collect();
    let view = backend.read_view(&configured).await?;
    let root = view.root().to_path_buf();
    let mut names: Vec<String> = if !args.targets.is_empty() {
        args.targets.clone()
    } else if let Some(c) = &config {
        c.targets.iter().map(|t| t.name.clone()).collect()
    } else {
        crate::store::scanned_targets(&root)?
    };
    names.sort();
    let statuses = names
        .iter()
        .map(|n| check::status(&TargetStore::new(&root, n)?))
        .collect::<crate::Result<Vec<TargetStatus>>>()?;
    let text = match args.format {
        StatusFormat::Json => format!("{}\n", serde_json::to_string_pretty(&statuses)?),
        StatusFormat::Text => {
            if statuses.is_empty() {
                format!("no scans recorded in {}\n", root.display())
            } else {
                statuses.iter().map(line).collect::<String>()
            }
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A target's status lines. Every value is escaped: errors quote database
/// and mail-server text.
fn line(s: &TargetStatus) -> String {
    let target = terminal(&s.target);
    let Some(last) = &s.last else {
        return format!("{target}: never scanned\n");
    };
    let c = &last.counts;
    let mut text = format!(
        "{target}: {} at {} ({} critical, {} warning, {} info; {} scans)",
        last.result.as_str(),
        terminal(&last.time),
        c.critical,
        c.warning,
        c.info,
        s.scans
    );
    if let Some(t) = &s.drift_since {
        text.push_str(&format!("; drift since {}", terminal(t)));
    }
    if let Some(t) = &s.failing_since {
        text.push_str(&format!("; failing since {}", terminal(t)));
    }
    if let Some(e) = &last.error {
        text.push_str(&format!(": {}", terminal(e)));
    }
    text.push('\n');
    if let Some(a) = &s.alerts {
        text.push_str(&format!("  alerts: {} waiting in the outbox", a.outbox));
        if a.set_aside > 0 {
            text.push_str(&format!(
                ", {} unreadable set aside in outbox/rejected/",
                a.set_aside
            ));
        }
        if let Some(e) = &a.waiting_error {
            text.push_str(&format!(" (last error: {}", terminal(e)));
            if let Some(t) = &a.next_attempt {
                text.push_str(&format!("; next try {}", terminal(t)));
            }
            text.push(')');
        }
        if let Some(d) = &a.last_sent {
            text.push_str(&format!(
                "; last sent {} ({}) to {}",
                terminal(&d.time),
                d.kind.as_str(),
                terminal(&d.recipient)
            ));
        }
        text.push('\n');
        for r in &a.rejected {
            text.push_str(&format!(
                "  alert rejected by {} at {}: {}\n",
                terminal(&r.recipient),
                terminal(&r.time),
                terminal(r.error.as_deref().unwrap_or(""))
            ));
        }
    }
    text
}
