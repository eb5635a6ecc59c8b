//! `driftwatch history SOURCE`: what a database says was applied.

use crate::escape::terminal;
use crate::history::{self, Locate, Tool};
use crate::report::render_history_text;
use crate::source::Source;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::process::ExitCode;

/// Options that say where a database keeps its migration history, shared
/// by every command that reads one.
#[derive(Debug, Clone, Args)]
pub struct HistoryTableArgs {
    /// The migration tool whose history table to read (detected by default).
    #[arg(
        long = "history",
        value_parser = super::named::<Tool>(),
        value_name = "TOOL",
        env = "DRIFTWATCH_HISTORY"
    )]
    pub tool: Option<Tool>,
    /// The history table, `schema.table`, when not the tool's default.
    #[arg(long, value_name = "SCHEMA.TABLE", env = "DRIFTWATCH_HISTORY_TABLE")]
    pub history_table: Option<String>,
}

impl HistoryTableArgs {
    /// Where to look.
    pub fn locate(&self) -> Locate {
        Locate {
            tool: self.tool,
            table: self.history_table.clone(),
            ..Locate::default()
        }
    }
}

/// Arguments of `driftwatch history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The database: postgres://…, postgresql://… or env:VAR.
    pub source: String,
    /// `text`: an aligned table; `json`: an array of applied migrations.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
    #[command(flatten)]
    pub table: HistoryTableArgs,
    /// Compare with this migration directory: rows whose file is missing or
    /// changed since it was applied, and files not applied yet.
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<std::path::PathBuf>,
    /// The directory's layout (detected by default).
    #[arg(long = "migration-format", value_parser = super::named::<crate::migrations::Format>(), value_name = "FORMAT")]
    pub migration_format: Option<crate::migrations::Format>,
}

/// A history row with how it stands against its file.
#[derive(serde::Serialize)]
struct RowWithFile<'a> {
    #[serde(flatten)]
    row: &'a history::AppliedMigration,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<history::FileStatus>,
}

/// Output forms of `driftwatch history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One aligned line per applied migration.
    Text,
    /// `[{"version", "description", "checksum", "applied_at", "success", "kind"}]`.
    Json,
}

/// Runs `driftwatch history`.
pub async fn run(args: HistoryArgs) -> Result<ExitCode> {
    let url = match Source::parse(&args.source)? {
        Source::Database(url) => url,
        other => {
            return Err(crate::error::Error::Usage(format!(
                "{}: history is read from a database; give postgres://…, postgresql://… or env:VAR",
                other.display()
            ))
            .into())
        }
    };
    let set = match &args.migrations {
        Some(dir) => Some(crate::migrations::read(dir, args.migration_format)?),
        None => None,
    };
    // The history table reads on any major, but what driftwatch says about
    // a database it cannot capture would be half an answer: refused alike.
    url.supported_major().await?;
    let locate = Locate {
        migrations: args.migrations.clone(),
        format: set.as_ref().map(|s| s.format),
        ..args.table.locate()
    };
    let history = history::read(&url, &locate).await?;
    let files = match &set {
        Some(set) if !history::compares_with_files(history.tool) => {
            return Err(crate::error::Error::Usage(format!(
                "--migrations: {} history rows do not name SQL files driftwatch reads; compare Flyway, sqlx, golang-migrate, dbmate, Prisma, diesel, refinery, generic or driftwatch histories",
                history.tool.as_str()
            ))
            .into())
        }
        Some(set) => Some(history::compare(history.tool, &history.migrations, set)),
        None => None,
    };
    if let (Some(files), Some(set)) = (&files, &set) {
        for w in &set.warnings {
            eprintln!("warning: {}", terminal(w));
        }
        for (row, status) in history.migrations.iter().zip(&files.rows) {
            let version = &*terminal(row.version.as_deref().unwrap_or(&row.description));
            let table = &*terminal(&history.table);
            let checksum = &*terminal(row.checksum.as_deref().unwrap_or("-"));
            match status {
                history::FileStatus::MissingFile => eprintln!(
                    "warning: {table} has version {version}, but no file in {} has it; restore the file or repair the history",
                    set.dir.display()
                ),
                history::FileStatus::ChecksumChanged => eprintln!(
                    "warning: version {version} was applied with checksum {checksum}, its file has another; migration files must not change after they ran"
                ),
                history::FileStatus::Outdated => eprintln!(
                    "repeatable {version} is outdated: its file changed since it ran (checksum {checksum}); it will re-run on the next migrate"
                ),
                history::FileStatus::Failed => eprintln!(
                    "warning: version {version} failed part-way ({table} is dirty); the files before it were applied, the ones after it are pending"
                ),
                _ => {}
            }
        }
        if args.format == HistoryFormat::Json {
            for path in &files.pending {
                eprintln!("pending: {}", terminal(path));
            }
        }
    }
    let text = match args.format {
        HistoryFormat::Json => {
            let rows: Vec<RowWithFile> = history
                .migrations
                .iter()
                .enumerate()
                .map(|(i, row)| RowWithFile {
                    row,
                    file: files.as_ref().and_then(|f| f.rows.get(i).copied()),
                })
                .collect();
            let mut t = serde_json::to_string_pretty(&rows)?;
            t.push('\n');
            t
        }
        HistoryFormat::Text => render_history_text(&history, files.as_ref()),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
