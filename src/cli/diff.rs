//! `driftwatch diff FROM TO`: compare any two sources.

use super::{CaptureArgs, ShadowArgs};
use crate::diff::{compare, IgnoreRules, Severity};
use crate::error::Error;
use crate::report::{render_markdown, render_text, DiffReport, Style};
use crate::source::{capture_pair, Source};
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
    #[arg(long = "ignore", value_name = "RULE", conflicts_with = "sql")]
    pub ignore: Vec<String>,
    /// Print the migration that turns FROM into TO instead of the report
    /// (exit 0 when empty, 1 when not); with --format json, its statements
    /// and their hazards.
    #[arg(long)]
    pub sql: bool,
    #[command(flatten)]
    pub plan: PlanArgs,
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

/// How `--sql` writes the migration.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Run the statements that lose data (drop a table or column, change a
    /// column's type, drop a generation expression); otherwise they are
    /// written commented out, with their hazard.
    #[arg(long)]
    pub allow_drops: bool,
    /// Build new indexes on existing tables with CREATE INDEX CONCURRENTLY,
    /// after the transaction.
    #[arg(long)]
    pub concurrently: bool,
    /// Restore the target's column order by moving columns (copies, an
    /// UPDATE of every row); otherwise the order is left, with a warning.
    #[arg(long)]
    pub reorder_columns: bool,
    /// `SET lock_timeout` at the top of the migration.
    #[arg(long, default_value = "3s", value_name = "DURATION")]
    pub migration_lock_timeout: String,
    /// `SET statement_timeout` at the top of the migration.
    #[arg(long, default_value = "20min", value_name = "DURATION")]
    pub migration_statement_timeout: String,
}

impl PlanArgs {
    /// The planner settings these flags ask for.
    pub fn options(&self) -> crate::ddl::plan::PlanOptions {
        crate::ddl::plan::PlanOptions {
            allow_drops: self.allow_drops,
            concurrently: self.concurrently,
            reorder_columns: self.reorder_columns,
            lock_timeout: self.migration_lock_timeout.clone(),
            statement_timeout: self.migration_statement_timeout.clone(),
            server_major: None,
        }
    }
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
    let pair = capture_pair(&from, &to, args.capture.options(), args.shadow.options()).await?;
    let (a, b, mut warnings) = (pair.from, pair.to, pair.warnings);
    if args.sql {
        return print_plan(&args, &a, &b, &warnings);
    }
    let compared = compare(&a, &b, &rules);
    let changes = compared.changes;
    warnings.extend(compared.warnings);
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
            eprintln!("warning: {}", crate::escape::terminal(w));
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    // The process ends next: freeing two big snapshots object by object
    // would only delay the exit.
    std::mem::forget((a, b));
    Ok(if report.fails(args.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--sql`: the migration from `a` to `b`.
fn print_plan(
    args: &DiffArgs,
    a: &crate::model::Snapshot,
    b: &crate::model::Snapshot,
    warnings: &[String],
) -> Result<ExitCode> {
    // The migration runs on FROM's server.
    let opts = crate::ddl::plan::PlanOptions {
        server_major: crate::ddl::plan::snapshot_major(a),
        ..args.plan.options()
    };
    let plan = crate::ddl::plan::plan(a, b, &opts);
    let text = match args.format {
        ReportFormat::Json => {
            let mut t = serde_json::to_string_pretty(&plan)?;
            t.push('\n');
            t
        }
        ReportFormat::Markdown if plan.is_empty() => String::new(),
        ReportFormat::Markdown => crate::escape::markdown_fence(&plan.to_sql(), "sql"),
        ReportFormat::Text => {
            let mut t = String::new();
            if !plan.is_empty() {
                // A source is a path or URL someone typed: one comment line
                // whatever it holds.
                let sources = format!("driftwatch: {} -> {}", a.meta.source, b.meta.source);
                t.push_str(&crate::ddl::quote::comment(
                    &sources.replace(['\r', '\n'], " "),
                ));
                t.push('\n');
            }
            t.push_str(&plan.to_sql());
            t
        }
    };
    for w in warnings.iter().chain(&plan.warnings) {
        eprintln!("warning: {}", crate::escape::terminal(w));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if plan.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
