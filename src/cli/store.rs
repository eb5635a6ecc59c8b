//! `driftwatch store upgrade|gc|verify`: maintenance of the snapshot store.

use crate::error::Error;
use crate::store::TargetStore;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
    /// The store (a folder).
    #[arg(
        long,
        global = true,
        default_value = "snapshots",
        env = "DRIFTWATCH_STORE",
        value_name = "PATH"
    )]
    store: PathBuf,
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

fn targets(args: &StoreArgs) -> Result<Vec<TargetStore>> {
    let names: Vec<String> = if args.targets.is_empty() {
        let entries = std::fs::read_dir(&args.store).map_err(|e| Error::Input {
            path: args.store.display().to_string(),
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
    } else {
        args.targets.clone()
    };
    if names.is_empty() {
        return Err(Error::Input {
            path: args.store.display().to_string(),
            message: "holds no target".into(),
            hint: "give the store with --store PATH".into(),
        }
        .into());
    }
    Ok(names
        .iter()
        .map(|n| TargetStore::new(&args.store, n))
        .collect::<crate::Result<_>>()?)
}

/// Runs `driftwatch store`.
pub async fn run(args: StoreArgs) -> Result<ExitCode> {
    let mut failed = false;
    for store in targets(&args)? {
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
                    eprintln!("driftwatch: {}", crate::report::escape::terminal(line));
                }
                eprintln!(
                    "{}: {ok} stored snapshots read back, {} broken",
                    store.target(),
                    broken.len()
                );
                failed |= !broken.is_empty();
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
