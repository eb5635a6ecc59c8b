//! One target's work, the same wherever it runs: `check` (by hand, one or
//! several targets), `alert flush`, and every tick of the `watch` daemon.
//!
//! ```text
//! Lease ─▶ scan (timeout) ─▶ queue alerts ─▶ store results ─▶ deliver ─▶ finish
//!            │ measured         │ queued          │ stored
//! ```
//!
//! The order is the crash rule of both stores: the scan and the messages it
//! calls for are stored before anything is delivered, so a process that
//! dies after that point leaves a tick whose alerts the next one delivers
//! without scanning again (on the fleet store a replica re-claims it as
//! [`crate::store::Claimed::Stored`]). Callers see the steps through
//! [`JobEvents`] (the daemon logs and counts them); the result comes back
//! as data for them to render.

use crate::alert::{AlertOutcome, Alerting};
use crate::check::{self, ScanTarget, Scanned};
use crate::config::AlertPolicy;
use crate::error::{Error, Result};
use crate::report::CheckReport;
use crate::store::{Backend, Lease, TargetStore};
use std::time::{Duration, Instant};

/// What a scan of one target is run with.
pub struct TargetJob<'a> {
    /// The target.
    pub target: &'a ScanTarget,
    /// Its alert channels (None: no alerting asked for).
    pub alerting: Option<&'a Alerting>,
    /// The scan's time limit (the daemon's `scan_timeout`); a scan that
    /// takes longer is recorded as failed. None: no limit.
    pub timeout: Option<Duration>,
}

/// A scan, as it ended.
pub struct ScanDone {
    /// The report (recorded in the store).
    pub report: CheckReport,
    /// How long the scan took.
    pub took: Duration,
    /// What the catalog probe said (see [`Scanned::probe_changed`]).
    pub probe_changed: Option<bool>,
    /// Objects a scheduled full capture found different from the
    /// incremental state (see [`Scanned::incremental_mismatch`]).
    pub incremental_mismatch: Vec<String>,
}

/// The steps of a job as they happen, for a caller that logs or counts
/// them. Every method has a default that does nothing.
pub trait JobEvents {
    /// The scan ended (before anything of it is stored or queued).
    fn measured(&self, _scan: &ScanDone) {}
    /// Messages were written to the outbox (their ids).
    fn queued(&self, _ids: &[String]) {}
    /// Alerting failed (state or outbox unreadable, delivery task died):
    /// the scan itself is kept.
    fn alert_failed(&self, _error: &Error) {}
    /// The scan's results are stored: logged here, once per scan.
    fn stored(&self, _scan: &ScanDone) {}
}

/// No events: the caller renders the result when the job is done.
pub struct Quiet;
impl JobEvents for Quiet {}

/// How a job ended.
pub enum TargetEnd {
    /// Scanned, stored, alerts delivered.
    Done {
        /// The scan.
        scan: ScanDone,
        /// What alerting did (None without alerting).
        alerts: Option<AlertOutcome>,
        /// Alerting's failure, when it failed (the scan is kept).
        alert_error: Option<Error>,
        /// False when the claim was lost while the lease was finished: a
        /// replica that took the tick over finishes it (the results were
        /// stored).
        finished: bool,
    },
    /// The claim was lost before the results were stored: nothing of this
    /// scan is kept, another replica scans the tick.
    Lost,
    /// The claim was lost while the alerts were delivered: the scan is
    /// stored, and the replica that took the tick over delivers the rest.
    LostDelivering {
        /// The scan.
        scan: ScanDone,
    },
}

/// Scans the target held by `lease`, queues the alerts the scan calls
/// for, stores the results, delivers what the outbox holds and is due,
/// and ends the lease. Errors only when the store cannot be read or
/// written; a target that cannot be scanned is a failed report.
pub async fn run_target(
    lease: Lease,
    job: &TargetJob<'_>,
    events: &dyn JobEvents,
) -> Result<TargetEnd> {
    let store = lease.store().clone();
    let started = Instant::now();
    let Some(scanned) = lease.guard(scan(job, &store)).await else {
        return Ok(TargetEnd::Lost);
    };
    let Scanned {
        report,
        probe_changed,
        incremental_mismatch,
    } = scanned?;
    let scan = ScanDone {
        report,
        took: started.elapsed(),
        probe_changed,
        incremental_mismatch,
    };
    events.measured(&scan);
    let policy = &job.target.alerts;
    let mut alert_error = None;
    let mut queued = Vec::new();
    if let Some(alerting) = job.alerting {
        match alerting.queue(&store, policy, &scan.report) {
            Ok(entries) => queued = entries,
            Err(e) => {
                events.alert_failed(&e);
                alert_error = Some(e);
            }
        }
        let ids: Vec<String> = queued.iter().map(|e| e.id.clone()).collect();
        events.queued(&ids);
    }
    if !lease.store_results(scan.report.result.as_str()).await? {
        return Ok(TargetEnd::Lost);
    }
    events.stored(&scan);
    let alerts = match job.alerting {
        None => None,
        // A dry run keeps no outbox: its messages are written out now.
        Some(alerting) if alerting.dry_run_dir().is_some() => {
            let ids = queued.iter().map(|e| e.id.clone()).collect();
            match alerting.deliver_now(queued).await {
                Ok(deliveries) => Some(AlertOutcome {
                    queued: ids,
                    deliveries,
                    written_to: alerting.dry_run_dir().map(|d| d.to_path_buf()),
                    ..AlertOutcome::default()
                }),
                Err(e) => {
                    events.alert_failed(&e);
                    alert_error.get_or_insert(e);
                    None
                }
            }
        }
        Some(alerting) => {
            let Some(delivered) = lease.guard(deliver(alerting, &store, policy, false)).await
            else {
                return Ok(TargetEnd::LostDelivering { scan });
            };
            match delivered {
                Ok(mut outcome) => {
                    outcome.queued = queued.iter().map(|e| e.id.clone()).collect();
                    Some(outcome)
                }
                Err(e) => {
                    events.alert_failed(&e);
                    alert_error.get_or_insert(e);
                    None
                }
            }
        }
    };
    let finished = lease.finish(None).await?;
    Ok(TargetEnd::Done {
        scan,
        alerts,
        alert_error,
        finished,
    })
}

/// `check` run by hand: each of `targets` leased from `backend` in turn
/// and run as [`run_target`] without a time limit; `on_alerts` sees what
/// alerting did for each as it happens. The reports, in order. A lease
/// lost to a watch replica, or alerting that failed, is an error.
pub async fn check_targets(
    backend: &Backend,
    targets: &[ScanTarget],
    alerting: Option<&Alerting>,
    mut on_alerts: impl FnMut(&str, &AlertOutcome),
) -> Result<Vec<CheckReport>> {
    let mut reports = Vec::with_capacity(targets.len());
    for target in targets {
        let lease = backend.checkout(&target.name).await?;
        let job = TargetJob {
            target,
            alerting,
            timeout: None,
        };
        match run_target(lease, &job, &Quiet).await? {
            TargetEnd::Done {
                scan,
                alerts,
                alert_error,
                finished,
            } => {
                if let Some(outcome) = &alerts {
                    on_alerts(&target.name, outcome);
                }
                if let Some(e) = alert_error {
                    return Err(e);
                }
                if !finished {
                    return Err(backend.lost_claim(&target.name));
                }
                reports.push(scan.report);
            }
            TargetEnd::Lost | TargetEnd::LostDelivering { .. } => {
                return Err(backend.lost_claim(&target.name))
            }
        }
    }
    Ok(reports)
}

/// Delivers what the outbox of the target held by `lease` holds (due
/// entries, or every one with `all`) and ends the lease with `result`
/// (None: the stored one). None when the claim was lost meanwhile.
pub async fn flush_target(
    lease: Lease,
    alerting: &Alerting,
    policy: &AlertPolicy,
    all: bool,
    result: Option<&str>,
) -> Result<Option<AlertOutcome>> {
    let store = lease.store().clone();
    let Some(outcome) = lease.guard(deliver(alerting, &store, policy, all)).await else {
        return Ok(None);
    };
    let outcome = outcome?;
    Ok(lease.finish(result).await?.then_some(outcome))
}

/// The scan, within the job's time limit.
async fn scan(job: &TargetJob<'_>, store: &TargetStore) -> Result<Scanned> {
    let Some(limit) = job.timeout else {
        return check::scan_probed(job.target, store).await;
    };
    match tokio::time::timeout(limit, check::scan_probed(job.target, store)).await {
        Ok(scanned) => scanned,
        Err(_) => Ok(Scanned {
            report: check::record_failure(
                job.target,
                store,
                format!(
                    "the scan took longer than scan_timeout ({}s) and was cancelled",
                    limit.as_secs()
                ),
            )?,
            probe_changed: None,
            incremental_mismatch: Vec::new(),
        }),
    }
}

/// The outbox's delivery, on a blocking thread (SMTP and HTTP clients
/// block).
pub async fn deliver(
    alerting: &Alerting,
    store: &TargetStore,
    policy: &AlertPolicy,
    all: bool,
) -> Result<AlertOutcome> {
    let (a, s, p) = (alerting.clone(), store.clone(), policy.clone());
    tokio::task::spawn_blocking(move || a.flush(&s, &p, all))
        .await
        .map_err(|e| Error::Usage(format!("delivery task failed: {e}")))?
}
