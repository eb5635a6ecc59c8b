//! `driftwatch history SOURCE`: what a database says was applied.

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
        value_enum,
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
    let history = history::read(&url, &args.table.locate()).await?;
    let text = match args.format {
        HistoryFormat::Json => {
            let mut t = serde_json::to_string_pretty(&history.migrations)?;
            t.push('\n');
            t
        }
        HistoryFormat::Text => render_history_text(&history),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
