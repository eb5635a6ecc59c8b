//! `driftwatch log DIR|--target NAME`: the schema changelog, migration by
//! migration, from the before and after snapshots of a replay.

use super::replay::{replay_dir, ReplaySourceArgs, StoreArgs};
use crate::diff::{diff_with, Renames};
use crate::error::Error;
use crate::report::{
    ddl_diffs, render_changelog_markdown, render_changelog_text, Changelog, ChangelogEntry,
};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// A migration directory: replayed into the store first (unchanged
    /// migrations are reused). Without it, `--target` names stored snapshots.
    pub dir: Option<PathBuf>,
    /// Output form.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
    /// Show the DDL diff of every object a migration changed under its
    /// summary lines (text format).
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// With --target: read the stored snapshots from the store this
    /// configuration names (a fleet store too) instead of --store.
    #[arg(long, short, value_name = "FILE", conflicts_with = "dir")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub source: ReplaySourceArgs,
}

/// Output forms of `driftwatch log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// A heading per migration and one line per change.
    Text,
    /// `{"target", "migrations": [{"version", "description", "kind", "class", "checksum", "changes"}]}`.
    Json,
    /// A section per migration.
    Markdown,
}

/// Runs `driftwatch log`.
pub async fn run(args: LogArgs) -> Result<ExitCode> {
    // A configured store (a fleet store: read through a copy).
    let mut _view = None;
    let (store, index) = match &args.dir {
        Some(dir) => {
            let store = args.store.for_dir(dir)?;
            let outcome = replay_dir(dir, &store, &args.source, false).await?;
            (store, outcome.index)
        }
        None => {
            let Some(target) = &args.store.target else {
                return Err(Error::Usage(
                    "log needs a migration directory or --target NAME (a target replayed into the store)".into(),
                )
                .into());
            };
            let root = match &args.config {
                Some(path) => {
                    let backend = crate::config::Config::read(path)?.open_store(None).await?;
                    let view = backend.read_view(std::slice::from_ref(target)).await?;
                    let root = view.root().to_path_buf();
                    _view = Some(view);
                    root
                }
                None => args.store.store.clone(),
            };
            let store = crate::store::TargetStore::new(&root, target)?;
            let index = store.read_index()?.ok_or_else(|| Error::Input {
                path: store.migrations_dir().display().to_string(),
                message: format!("holds no replayed migrations for target {target}"),
                hint: "run driftwatch replay DIR --target NAME first".into(),
            })?;
            (store, index)
        }
    };
    let mut entries = Vec::with_capacity(index.migrations.len());
    for m in &index.migrations {
        let (changes, ddl) = if m.before_fingerprint == m.after_fingerprint {
            (Vec::new(), Vec::new())
        } else {
            // The migration's own RENAME statements say what it renamed.
            let renames = match &m.renames {
                Some(list) => Renames::Given(list),
                None => Renames::Inferred,
            };
            let (before, after) = (
                store.read_snapshot(&m.before)?,
                store.read_snapshot(&m.after)?,
            );
            let changes = diff_with(&before, &after, renames);
            let ddl = if args.verbose {
                ddl_diffs(&changes, &before, &after)
            } else {
                Vec::new()
            };
            (changes, ddl)
        };
        entries.push(ChangelogEntry {
            version: m.version.clone(),
            description: m.description.clone(),
            kind: m.kind,
            class: m.class,
            checksum: m.checksum.clone(),
            changes,
            ddl,
            down: m.down.clone(),
        });
    }
    let log = Changelog {
        target: index.target.clone(),
        migrations: entries,
    };
    let text = match args.format {
        LogFormat::Text => render_changelog_text(&log),
        LogFormat::Markdown => render_changelog_markdown(&log),
        LogFormat::Json => {
            let mut t = serde_json::to_string_pretty(&log)?;
            t.push('\n');
            t
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
