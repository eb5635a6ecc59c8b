//! `driftwatch snapshot SOURCE [-o FILE]`: capture a snapshot, or
//! re-canonicalise a snapshot file.

use super::{CaptureArgs, ShadowArgs};
use crate::source::{LazyShadow, Source};
use crate::util::write_atomic_with;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// postgres://…, postgresql://…, env:VAR, a snapshot .json file, a schema
    /// .sql file, or a migration directory (dir or dir@VERSION).
    pub source: String,
    /// Write the snapshot here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// `json`: the snapshot; `summary`: object counts and fingerprint.
    #[arg(long, value_enum, default_value_t = SnapshotFormat::Json)]
    pub format: SnapshotFormat,
    /// Print capture statistics (time, statements, connections) on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// Output forms of `driftwatch snapshot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotFormat {
    /// The canonical snapshot JSON.
    Json,
    /// A human summary: counts by kind and the fingerprint.
    Summary,
}

/// Runs `driftwatch snapshot`.
pub async fn run(args: SnapshotArgs) -> Result<ExitCode> {
    let source = Source::parse(&args.source)?;
    let shadow = LazyShadow::new(args.shadow.options());
    let (snapshot, stats, warnings) = source.snapshot(&args.capture.options(), &shadow).await?;
    for w in warnings {
        eprintln!("warning: {}", crate::escape::terminal(&w));
    }
    if args.stats {
        if let Some(stats) = &stats {
            let objects: usize = snapshot.counts().iter().map(|(_, n)| n).sum();
            eprintln!(
                "captured {objects} objects in {} ms: {} statements over {} connections",
                stats.elapsed.as_millis(),
                stats.statements,
                stats.connections
            );
            if stats.settings_set_locally {
                eprintln!("  the server did not get the startup options (a connection pooler?): timeouts were set in each transaction");
            }
            for (query, elapsed, rows) in stats.queries.iter().take(8) {
                eprintln!("  {:>6} ms {rows:>8} rows  {query}", elapsed.as_millis());
            }
        }
    }
    // The snapshot's text goes out as it is made: on 10,000 tables it is
    // 34 MB that would otherwise be held whole beside the objects.
    let mut write = |w: &mut dyn Write| match args.format {
        SnapshotFormat::Json => snapshot.write_json(w),
        SnapshotFormat::Summary => w.write_all(summary(&snapshot).as_bytes()),
    };
    match &args.output {
        Some(path) => {
            write_atomic_with(path, &mut write)?;
            if args.format == SnapshotFormat::Json {
                eprintln!("wrote {} ({})", path.display(), snapshot.fingerprint);
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            write(&mut out)?;
            out.flush()?;
        }
    }
    // The process ends next: freeing a big snapshot object by object
    // (0.1 s on 10,000 tables) would only delay the exit.
    std::mem::forget(snapshot);
    Ok(ExitCode::SUCCESS)
}

/// Object counts by kind (non-zero ones) and the fingerprint.
pub fn summary(snapshot: &crate::model::Snapshot) -> String {
    // A snapshot file says what it likes about itself: shown, not obeyed.
    use crate::escape::terminal;
    let mut out = String::new();
    out.push_str(&format!(
        "source       {}\n",
        terminal(&snapshot.meta.source)
    ));
    if let Some(v) = &snapshot.meta.server_version {
        out.push_str(&format!("server       PostgreSQL {}\n", terminal(v)));
    }
    match &snapshot.meta.migration {
        Some(m) => out.push_str(&format!(
            "replayed     {} {} ({})\n",
            terminal(&m.version),
            terminal(&m.name),
            match m.phase {
                crate::model::Phase::Before => "before",
                crate::model::Phase::After => "after",
            }
        )),
        None => out.push_str(&format!(
            "captured at  {}\n",
            terminal(&snapshot.meta.captured_at)
        )),
    }
    out.push_str(&format!("fingerprint  {}\n", snapshot.fingerprint));
    for (kind, n) in snapshot.counts() {
        if n > 0 {
            out.push_str(&format!("{n:>8}  {}\n", kind.replace('_', " ")));
        }
    }
    out
}
