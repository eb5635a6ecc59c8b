//! `driftwatch store upgrade|gc|verify`: maintenance of the snapshot store.

use crate::config::Config;
use crate::error::Error;
use crate::store::{Backend, TargetStore};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `driftwatch store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
    /// The store (a folder; default: the configuration's, else ./snapshots).
    #[arg(long, global = true, env = "DRIFTWATCH_STORE", value_name = "PATH")]
    store: Option<PathBuf>,
    /// Work on the store this configuration names (a fleet store too:
    /// each target claimed, worked in a copy and pushed back); its targets
    /// are the default.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only this target (repeatable; default: every target in the store).
    #[arg(long = "target", global = true, value_name = "NAME")]
    targets: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Convert full snapshot files (layout 1) into content-addressed objects (layout 2).
    Upgrade,
    /// Remove objects no stored snapshot names (and leftovers of a crash).
    Gc,
    /// Read every stored snapshot back; exit 2 naming each one that does not read.
    Verify,
}

/// The target names: `--target`, else the configuration's, else every
/// folder of the file store at `root`.
fn target_names(args: &StoreArgs, config: Option<&Config>, root: &Path) -> Result<Vec<String>> {
    let names: Vec<String> = if !args.targets.is_empty() {
        args.targets.clone()
    } else if let Some(c) = config {
        c.targets.iter().map(|t| t.name.clone()).collect()
    } else {
        let entries = std::fs::read_dir(root).map_err(|e| Error::Input {
            path: root.display().to_string(),
            message: format!("cannot read the store ({e})"),
            hint: "give the store with --store PATH".into(),
        })?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    if names.is_empty() {
        return Err(Error::Input {
            path: root.display().to_string(),
            message: "holds no target".into(),
            hint: "give the store with --store PATH".into(),
        }
        .into());
    }
    for n in &names {
        TargetStore::new(root, n)?;
    }
    Ok(names)
}

/// Runs `driftwatch store`.
pub async fn run(args: StoreArgs) -> Result<ExitCode> {
    let config = args.config.as_deref().map(Config::read).transpose()?;
    let backend = match &config {
        Some(c) => c.open_store(args.store.as_deref()).await?,
        None => Backend::files(
            args.store
                .clone()
                .unwrap_or_else(crate::config::default_store_path),
        ),
    };
    let names = target_names(&args, config.as_ref(), backend.root())?;
    let mut failed = false;
    for name in &names {
        // Upgrade and gc rewrite the folder: under a lease, pushed back;
        // verify reads a copy.
        let (lease, _view, store) = if matches!(args.command, StoreCommand::Verify) {
            let view = backend.read_view(std::slice::from_ref(name)).await?;
            let store = TargetStore::new(view.root(), name)?;
            (None, Some(view), store)
        } else {
            let lease = backend.checkout(name).await?;
            let store = lease.store().clone();
            (Some(lease), None, store)
        };
        match args.command {
            StoreCommand::Upgrade => {
                let n = store.upgrade()?;
                eprintln!(
                    "{}: {n} snapshot file{} converted",
                    store.target(),
                    if n == 1 { "" } else { "s" }
                );
            }
            StoreCommand::Gc => {
                let _lock = store.lock()?;
                let done = store.gc()?;
                eprintln!(
                    "{}: {} objects kept, {} removed, {} temporary files removed",
                    store.target(),
                    done.kept,
                    done.removed,
                    done.temporary
                );
            }
            StoreCommand::Verify => {
                let (ok, broken) = store.verify();
                for line in &broken {
                    eprintln!("driftwatch: {}", crate::escape::terminal(line));
                }
                eprintln!(
                    "{}: {ok} stored snapshots read back, {} broken",
                    store.target(),
                    broken.len()
                );
                failed |= !broken.is_empty();
            }
        }
        if let Some(lease) = lease {
            lease.finish_checked(Some("store-maintenance")).await?;
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
