//! One tick of one target in the daemon: the library's target job
//! ([`crate::job::run_target`]) under a claim on the tick, with the
//! daemon's bounds (permits, `scan_timeout`, cancellation at shutdown), its
//! log lines and its metrics.

use super::timing::Tick;
use crate::alert::{Alerting, Outbox};
use crate::check::ScanTarget;
use crate::error::{Error, Result};
use crate::job::{run_target, JobEvents, ScanDone, TargetEnd, TargetJob};
use crate::metrics::{FindingCounts, Metrics, ScanOutcome};
use crate::report::ScanResult;
use crate::store::{Backend, Claimed, TargetStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What every job of a process shares.
pub struct Shared {
    /// The store: files, or the fleet store (target folders in this
    /// replica's private working copy).
    pub backend: Backend,
    /// Bounds scans running at once.
    pub permits: Arc<Semaphore>,
    /// Prometheus series.
    pub metrics: Arc<Metrics>,
}

/// What one job needs from the configuration it was started under.
#[derive(Clone)]
pub struct JobSpec {
    /// The target.
    pub target: ScanTarget,
    /// Its alert channels (None: no alerting configured).
    pub alerting: Option<Alerting>,
    /// The per-scan timeout.
    pub timeout: Duration,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// Scanned, with this result.
    Scanned(ScanResult),
    /// Another replica scanned (or is scanning) this tick.
    Taken,
    /// Another tick of this target was still being scanned elsewhere.
    Overrun,
    /// The job could not run (the store failed); the error was logged.
    Error,
    /// Not a scan: the outbox was flushed between ticks.
    Flushed,
    /// Cancelled at shutdown.
    Cancelled,
}

/// Runs `tick` of `spec.target` on a thread of its own, returning early
/// with [`JobEnd::Cancelled`] when `cancel` turns true.
///
/// Why a thread: the scan's future borrows across awaits in ways the
/// compiler cannot prove `Send` for every lifetime (a known limit of
/// higher-ranked lifetimes in async code), so it cannot be a spawned task;
/// driven by `Handle::block_on` on a blocking thread it needs no `Send`,
/// and its I/O still runs on the runtime.
pub fn run_on_thread(
    handle: tokio::runtime::Handle,
    shared: Arc<Shared>,
    spec: JobSpec,
    tick: Tick,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) -> JobEnd {
    handle.block_on(async move {
        tokio::select! {
            end = run(shared, spec, tick) => end,
            _ = cancel.wait_for(|c| *c) => JobEnd::Cancelled,
        }
    })
}

/// Runs `tick` of `spec.target`.
async fn run(shared: Arc<Shared>, spec: JobSpec, tick: Tick) -> JobEnd {
    let name = spec.target.name.clone();
    let _permit = match shared.permits.clone().acquire_owned().await {
        Ok(p) => Running::new(p, shared.metrics.clone()),
        Err(_) => return JobEnd::Error,
    };
    match run_claimed(&shared, &spec, tick).await {
        Ok(end) => end,
        Err(e) => {
            tracing::error!(target = %name, tick = %tick.at, error = %e, "scan could not run");
            JobEnd::Error
        }
    }
}

/// A permit held: counted in `driftwatch_scans_in_flight` until dropped,
/// however the job ends (cancelled at shutdown or by `scan_timeout` too).
struct Running {
    _permit: tokio::sync::OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Running {
    fn new(permit: tokio::sync::OwnedSemaphorePermit, metrics: Arc<Metrics>) -> Running {
        metrics.scan_began();
        Running {
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.metrics.scan_ended();
    }
}

async fn run_claimed(shared: &Shared, spec: &JobSpec, tick: Tick) -> Result<JobEnd> {
    let name = &spec.target.name;
    let events = Events { shared, name, tick };
    let lease = match shared.backend.claim(name, tick.at).await? {
        Claimed::Ours(lease) => lease,
        Claimed::Stored(lease, result) => {
            tracing::info!(target = %name, tick = %tick.at, result = %result, "delivering the alerts of a tick a stopped replica had stored");
            let store = lease.store().clone();
            if let Some(alerting) = &spec.alerting {
                let work = crate::job::deliver(alerting, &store, &spec.target.alerts, false);
                match lease.guard(work).await {
                    None => return Ok(JobEnd::Taken),
                    Some(Ok(out)) => log_deliveries(name, &out.deliveries),
                    Some(Err(e)) => {
                        tracing::warn!(target = %name, error = %e, "outbox flush failed")
                    }
                }
            }
            set_outbox_gauges(shared, name, &store);
            if !lease.finish(None).await? {
                tracing::warn!(target = %name, tick = %tick.at, "claim lost while the alerts were delivered; another replica finishes this tick");
            }
            return Ok(JobEnd::Flushed);
        }
        Claimed::Taken => return Ok(JobEnd::Taken),
        Claimed::Overrun => return Ok(JobEnd::Overrun),
    };
    let store = lease.store().clone();
    let job = TargetJob {
        target: &spec.target,
        alerting: spec.alerting.as_ref(),
        timeout: Some(spec.timeout),
    };
    let end = run_target(lease, &job, &events).await?;
    set_outbox_gauges(shared, name, &store);
    Ok(match end {
        TargetEnd::Done {
            scan,
            alerts,
            finished,
            ..
        } => {
            if let Some(out) = &alerts {
                log_deliveries(name, &out.deliveries);
            }
            if !finished {
                tracing::warn!(target = %name, tick = %tick.at, "claim lost while the alerts were delivered; another replica finishes this tick");
            }
            JobEnd::Scanned(scan.report.result)
        }
        TargetEnd::Lost => {
            tracing::warn!(target = %name, tick = %tick.at, "claim lost before the results were stored; another replica scans this tick");
            JobEnd::Taken
        }
        TargetEnd::LostDelivering { .. } => JobEnd::Taken,
    })
}

/// The daemon's view of a job's steps: metrics and log lines.
struct Events<'a> {
    shared: &'a Shared,
    name: &'a str,
    tick: Tick,
}

impl JobEvents for Events<'_> {
    fn measured(&self, scan: &ScanDone) {
        let report = &scan.report;
        if let Some(changed) = scan.probe_changed {
            self.shared.metrics.probe(self.name, changed);
        }
        if let Some(kind) = &report.live_capture {
            self.shared.metrics.live_capture(self.name, kind);
        }
        if !scan.incremental_mismatch.is_empty() {
            self.shared.metrics.incremental_mismatch(self.name);
        }
        let counts = FindingCounts {
            critical: report.counts.critical as u64,
            warning: report.counts.warning as u64,
            info: report.counts.info as u64,
        };
        let outcome = match report.result {
            ScanResult::Failed => ScanOutcome::Failed,
            ScanResult::Drift => ScanOutcome::Drift,
            _ => ScanOutcome::Clean,
        };
        self.shared.metrics.scan_finished(
            self.name,
            outcome,
            scan.took,
            counts,
            jiff::Timestamp::now().as_second(),
        );
    }

    fn queued(&self, ids: &[String]) {
        for id in ids {
            tracing::info!(target = %self.name, message = %id, "alert queued");
        }
    }

    fn alert_failed(&self, error: &Error) {
        tracing::error!(target = %self.name, error = %error, "alerting failed");
    }

    /// The scan's log line, once its results are stored.
    fn stored(&self, scan: &ScanDone) {
        let (name, tick, report) = (self.name, self.tick, &scan.report);
        let (c, w, i) = (
            report.counts.critical,
            report.counts.warning,
            report.counts.info,
        );
        let ms = scan.took.as_millis() as u64;
        match &report.error {
            Some(e) => tracing::warn!(
                target = %name, tick = %tick.at, result = report.result.as_str(), duration_ms = ms,
                error = %e, "scan failed"
            ),
            None => tracing::info!(
                target = %name, tick = %tick.at, result = report.result.as_str(), duration_ms = ms,
                critical = c, warning = w, info = i,
                "scan finished"
            ),
        }
    }
}

/// The outbox gauges of `name`, from its store.
fn set_outbox_gauges(shared: &Shared, name: &str, store: &TargetStore) {
    shared.metrics.set_outbox_depth(name, outbox_depth(store));
    shared
        .metrics
        .set_outbox_set_aside(name, outbox_set_aside(store));
}

/// One log event per delivery attempt.
fn log_deliveries(name: &str, deliveries: &[crate::alert::DeliveryRecord]) {
    for d in deliveries {
        match &d.error {
            None => {
                tracing::info!(target = %name, to = %d.recipient, message = %d.id, "alert delivered")
            }
            Some(e) => {
                tracing::warn!(target = %name, to = %d.recipient, message = %d.id, error = %e, "alert not delivered")
            }
        }
    }
}

/// Files of the target's outbox that were not entries (set aside, or to
/// be at the next delivery).
pub fn outbox_set_aside(store: &TargetStore) -> u64 {
    Outbox::of(store).set_aside_count() as u64
}

/// Entries waiting in the target's outbox.
pub fn outbox_depth(store: &TargetStore) -> u64 {
    Outbox::of(store)
        .entries()
        .map(|e| e.len() as u64)
        .unwrap_or(0)
}

/// Delivers what the outbox holds and is due (between ticks, so a message
/// deferred by an SMTP outage goes out when the server is back, not at the
/// next scan).
pub async fn flush(
    shared: Arc<Shared>,
    name: String,
    alerting: Alerting,
    policy: crate::config::AlertPolicy,
) {
    let Ok(store) = shared.backend.target_store(&name) else {
        return;
    };
    if outbox_depth(&store) == 0 && outbox_set_aside(&store) == 0 {
        return;
    }
    match crate::job::deliver(&alerting, &store, &policy, false).await {
        Ok(out) => log_deliveries(&name, &out.deliveries),
        Err(e) => tracing::warn!(target = %name, error = %e, "outbox flush failed"),
    }
    set_outbox_gauges(&shared, &name, &store);
}
