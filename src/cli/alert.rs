//! `driftwatch alert`: send a test message through the configured SMTP
//! server, or deliver what the targets' outboxes hold now.

use crate::alert::{AlertOutcome, Alerting, ChannelKind, DeliveryOutcome, DeliveryRecord};
use crate::config::Config;
use crate::error::Error;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `driftwatch alert`.
#[derive(Debug, Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    command: AlertCommand,
}

#[derive(Debug, Subcommand)]
enum AlertCommand {
    /// Send a test message to ADDR through [smtp] (exit 0 when the server accepted it).
    Test(TestArgs),
    /// Deliver every message waiting in the targets' outboxes now, backoff or not.
    Flush(FlushArgs),
}

/// The configuration file every `alert` subcommand reads.
#[derive(Debug, Args)]
struct ConfigArg {
    /// The configuration file (default: ./driftwatch.toml when present).
    #[arg(long, short, env = "DRIFTWATCH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArg {
    fn read(&self) -> Result<Config> {
        let Some(path) = Config::path_or_default(self.config.as_deref()) else {
            return Err(
                Error::Usage("alert needs --config FILE (or ./driftwatch.toml)".into()).into(),
            );
        };
        Ok(Config::read(&path)?)
    }
}

#[derive(Debug, Args)]
struct TestArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The address to send to.
    #[arg(long, value_name = "ADDR")]
    to: String,
    /// The target the message names (default: "test").
    #[arg(long, value_name = "NAME", default_value = "test")]
    target: String,
    /// Write the message into DIR as an .eml file instead of sending it.
    #[arg(long, value_name = "DIR")]
    dry_run: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct FlushArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Only this target (repeatable; default: every configured target).
    #[arg(long = "target", value_name = "NAME")]
    targets: Vec<String>,
}

/// Runs `driftwatch alert`.
pub async fn run(args: AlertArgs) -> Result<ExitCode> {
    match args.command {
        AlertCommand::Test(a) => test(a).await,
        AlertCommand::Flush(a) => flush(a).await,
    }
}

async fn test(args: TestArgs) -> Result<ExitCode> {
    let config = args.config.read()?;
    let to: lettre::message::Mailbox = args.to.parse().map_err(|e| {
        Error::Usage(format!(
            "--to {:?} is not an email address ({e}); write name@example.com",
            args.to
        ))
    })?;
    if config.smtp.is_none() {
        return Err(Error::Input {
            path: config.path.display().to_string(),
            message: "has no [smtp] section".into(),
            hint: "add one (see docs/commands/check.md, alerts)".into(),
        }
        .into());
    }
    let alerting = Alerting::from_config(&config, args.dry_run)?;
    let records = alerting.test_message(&args.target, &to).await?;
    let mut ok = true;
    for r in &records {
        match r.outcome {
            DeliveryOutcome::Sent => println!("sent a test message to {}", r.recipient),
            _ => {
                ok = false;
                eprintln!(
                    "driftwatch: test message to {} not delivered: {}",
                    r.recipient,
                    crate::escape::terminal(r.error.as_deref().unwrap_or(""))
                );
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn flush(args: FlushArgs) -> Result<ExitCode> {
    let config = args.config.read()?;
    let names: Vec<String> = if args.targets.is_empty() {
        config.targets.iter().map(|t| t.name.clone()).collect()
    } else {
        args.targets
            .iter()
            .map(|t| config.target(t).map(|t| t.name.clone()))
            .collect::<crate::Result<_>>()?
    };
    let alerting = Alerting::from_config(&config, None)?;
    let mut pending = 0;
    let backend = config.open_store(None).await?;
    for name in names {
        let lease = backend.checkout(&name).await?;
        let policy = config.target(&name)?.alerts.clone();
        let Some(outcome) =
            crate::job::flush_target(lease, &alerting, &policy, true, Some("alert-flush")).await?
        else {
            return Err(backend.lost_claim(&name).into());
        };
        print_outcome(&name, &outcome);
        pending += outcome.pending;
        println!(
            "{name}: {} delivered, {} still waiting",
            outcome
                .deliveries
                .iter()
                .filter(|d| d.outcome == DeliveryOutcome::Sent)
                .count(),
            outcome.pending
        );
    }
    Ok(if pending == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn not_delivered(target: &str, r: &DeliveryRecord) -> String {
    let what = match r.outcome {
        DeliveryOutcome::Rejected => "rejected",
        DeliveryOutcome::Dropped => "dropped",
        _ => "not delivered yet (kept in the outbox, retried)",
    };
    format!(
        "driftwatch: {target}: alert {} to {} {what}: {}",
        r.id,
        r.recipient,
        crate::escape::terminal(r.error.as_deref().unwrap_or(""))
    )
}

/// One line for a delivery that went through: what kind of alert, by
/// which channel, to whom (or, in a dry run, into which folder).
fn delivered(target: &str, r: &DeliveryRecord, written_to: Option<&std::path::Path>) -> String {
    let recipient = crate::escape::terminal(&r.recipient);
    let how = match (written_to, r.channel) {
        (Some(dir), Some(ChannelKind::Webhook)) => format!(
            "for webhook {recipient} written to {} (dry run: not sent)",
            dir.display()
        ),
        (Some(dir), _) => format!(
            "for {recipient} written to {} (dry run: not sent)",
            dir.display()
        ),
        (None, Some(ChannelKind::Webhook)) => format!("posted to webhook {recipient}"),
        (None, Some(ChannelKind::Email)) => format!("sent by email to {recipient}"),
        (None, None) => format!("sent to {recipient}"),
    };
    format!(
        "driftwatch: {target}: {} alert {} {how}",
        r.kind.as_str(),
        r.id
    )
}

/// Prints, on standard error, each delivery: what was sent, on which
/// channel and to whom, and what did not go through and why.
pub(crate) fn print_outcome(target: &str, outcome: &AlertOutcome) {
    let target = crate::escape::terminal(target);
    for line in &outcome.set_aside {
        eprintln!("driftwatch: {target}: {line}");
    }
    for r in &outcome.deliveries {
        if r.outcome == DeliveryOutcome::Sent {
            eprintln!("{}", delivered(&target, r, outcome.written_to.as_deref()));
        } else {
            eprintln!("{}", not_delivered(&target, r));
        }
    }
}
