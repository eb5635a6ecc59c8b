//! `driftwatch diff FROM TO`: compare any two sources.

use super::{CaptureArgs, ShadowArgs};
use crate::diff::{diff, IgnoreRules, Severity};
use crate::error::Error;
use crate::history::HistoryTables;
use crate::report::{render_markdown, render_text, version_warning, DiffReport, Style};
use crate::source::{LazyShadow, Source};
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Arguments of `driftwatch diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The expected side: URL, env:VAR, snapshot .json, schema .sql, or a
    /// migration directory (dir or dir@VERSION).
    pub from: String,
    /// The actual side, in any of the same forms.
    pub to: String,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Exit 1 when a change at or above this severity remains.
    #[arg(long, value_parser = super::named::<Severity>(), default_value = "info")]
    pub fail_on: Severity,
    /// Leave changes out: kind:comment|privilege|owner|column-order|<object
    /// kind>, code:GLOB, schema:GLOB, <object kind>:GLOB (repeatable).
    #[arg(long = "ignore", value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    /// Read a migration directory that holds no migration as an empty
    /// schema (otherwise an error).
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Grouped summary lines and unified DDL diffs.
    Text,
    /// The report as JSON (docs/report.schema.json).
    Json,
    /// Markdown for pull requests and tickets.
    Markdown,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Runs `driftwatch diff`.
pub async fn run(args: DiffArgs) -> Result<ExitCode> {
    let rules = IgnoreRules::parse(&args.ignore).map_err(Error::Usage)?;
    let from = Source::parse(&args.from)?.allowing_empty(args.allow_empty);
    let to = Source::parse(&args.to)?.allowing_empty(args.allow_empty);
    let shadow = LazyShadow::new(args.shadow.options());
    let mut opts = args.capture.options();
    // A migration directory names the tool: only its history table is
    // left out, on both sides.
    if let Some(tool) = match from.history_tool()? {
        Some(t) => Some(t),
        None => to.history_tool()?,
    } {
        opts.history_tables = HistoryTables::Tool(tool, None);
    }
    // A schema file or migrations compared with a live database load into a
    // shadow of that database's major.
    let needs_shadow = |s: &Source| matches!(s, Source::SqlFile(_) | Source::MigrationDir(..));
    if needs_shadow(&from) || needs_shadow(&to) {
        for side in [&from, &to] {
            if let Source::Database(url) = side {
                shadow.want_major(url.server_major().await?);
            }
        }
    }
    let (a, b) = tokio::try_join!(from.snapshot(&opts, &shadow), to.snapshot(&opts, &shadow))?;
    let (mut a, _, mut warnings) = a;
    let (mut b, _, more) = b;
    // The report names the sources as the user gave them, not what a
    // snapshot file recorded about where it came from.
    a.meta.source = from.display();
    b.meta.source = to.display();
    warnings.extend(more);
    warnings.extend(shadow.warning());
    let mut changes = diff(&a, &b);
    warnings.extend(version_warning(&a, &b));
    warnings.extend(rules.apply(&mut changes));
    let report = DiffReport::new(&a, &b, changes, warnings);
    let text = match args.format {
        ReportFormat::Json => {
            let mut t = serde_json::to_string_pretty(&report)?;
            t.push('\n');
            t
        }
        ReportFormat::Markdown => render_markdown(&report, &a, &b),
        ReportFormat::Text => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            render_text(
                &report,
                &a,
                &b,
                if color { Style::Color } else { Style::Plain },
            )
        }
    };
    if args.format != ReportFormat::Text {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if report.fails(args.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
