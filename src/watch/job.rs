//! One tick of one target: claim it (fleet store), scan with a timeout,
//! alert, record metrics and a log line, and hand the store back.

use super::fleet::{Claim, Fleet, Stage};
use super::timing::Tick;
use crate::alert::{Alerting, Outbox};
use crate::check::{self, ScanTarget};
use crate::error::Result;
use crate::metrics::{FindingCounts, Metrics, ScanOutcome};
use crate::report::CheckReport;
use crate::store::{ScanResult, TargetStore};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What every job of a process shares.
pub struct Shared {
    /// Where target folders are: the file store, or the fleet store's
    /// private working copy.
    pub store_root: PathBuf,
    /// The fleet store, when the store is one.
    pub fleet: Option<Arc<Fleet>>,
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
    let store = TargetStore::new(&shared.store_root, name)?;
    let Some(fleet) = &shared.fleet else {
        let (report, took) = scan_and_queue(shared, spec, &store).await?;
        log_scan(name, tick, &report, took);
        deliver(shared, spec, &store).await;
        return Ok(JobEnd::Scanned(report.result));
    };
    let stored = match fleet.claim(name, tick.at).await? {
        Claim::Ours => None,
        Claim::Stored(result) => Some(result),
        Claim::Taken => return Ok(JobEnd::Taken),
        Claim::Overrun => return Ok(JobEnd::Overrun),
    };
    fleet.pull(name, &store.dir()).await?;
    let end = match stored {
        None => {
            let work = scan_and_queue(shared, spec, &store);
            let Some((report, took)) = renewing(fleet, name, tick, work).await? else {
                return Ok(JobEnd::Taken);
            };
            // Stored before anything is delivered: a replica that dies from
            // here on leaves a tick that the next one delivers without
            // scanning it again (a scan is logged once, when it is stored).
            let stage = Stage::Stored(report.result.as_str());
            if !fleet.push(name, tick.at, &store.dir(), stage).await? {
                tracing::warn!(target = %name, tick = %tick.at, "claim lost before the results were stored; another replica scans this tick");
                return Ok(JobEnd::Taken);
            }
            log_scan(name, tick, &report, took);
            JobEnd::Scanned(report.result)
        }
        Some(result) => {
            tracing::info!(target = %name, tick = %tick.at, result = %result, "delivering the alerts of a tick a stopped replica had stored");
            JobEnd::Flushed
        }
    };
    if renewing(fleet, name, tick, async {
        deliver(shared, spec, &store).await;
        Ok(())
    })
    .await?
    .is_none()
    {
        return Ok(JobEnd::Taken);
    }
    let finished = fleet
        .push(name, tick.at, &store.dir(), Stage::Finished(None))
        .await?;
    if !finished {
        tracing::warn!(target = %name, tick = %tick.at, "claim lost while the alerts were delivered; another replica finishes this tick");
    }
    Ok(end)
}

/// Runs `work` while renewing the claim on `tick`; None when the claim was
/// lost (this replica stalled past the lease and another took the tick
/// over), and `work` is then dropped.
async fn renewing<T>(
    fleet: &Fleet,
    name: &str,
    tick: Tick,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<Option<T>> {
    tokio::pin!(work);
    let every = fleet.heartbeat_every();
    loop {
        tokio::select! {
            r = &mut work => return r.map(Some),
            _ = tokio::time::sleep(every) => {
                if !fleet.heartbeat(name, tick.at).await? {
                    tracing::warn!(target = %name, tick = %tick.at, "claim lost to another replica; work abandoned");
                    return Ok(None);
                }
            }
        }
    }
}

/// The scan, its metrics, and the alerts it calls for written to the
/// outbox (not yet delivered); with the scan's duration.
async fn scan_and_queue(
    shared: &Shared,
    spec: &JobSpec,
    store: &TargetStore,
) -> Result<(CheckReport, Duration)> {
    let name = &spec.target.name;
    let started = Instant::now();
    let report =
        match tokio::time::timeout(spec.timeout, check::scan_probed(&spec.target, store)).await {
            Ok(Ok(scanned)) => {
                if let Some(changed) = scanned.probe_changed {
                    shared.metrics.probe(name, changed);
                }
                scanned.report
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => check::record_failure(
                &spec.target,
                store,
                format!(
                    "the scan took longer than scan_timeout ({}s) and was cancelled",
                    spec.timeout.as_secs()
                ),
            )?,
        };
    let elapsed = started.elapsed();
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
    shared.metrics.scan_finished(
        name,
        outcome,
        elapsed,
        counts,
        jiff::Timestamp::now().as_second(),
    );
    if let Some(alerting) = &spec.alerting {
        match alerting.queue(store, &spec.target.alerts, &report) {
            Ok(entries) => {
                for e in &entries {
                    tracing::info!(target = %name, message = %e.id, "alert queued");
                }
            }
            Err(e) => tracing::error!(target = %name, error = %e, "alerting failed"),
        }
    }
    Ok((report, elapsed))
}

/// The scan's log line, once its results are stored.
fn log_scan(name: &str, tick: Tick, report: &CheckReport, took: Duration) {
    let (c, w, i) = (
        report.counts.critical,
        report.counts.warning,
        report.counts.info,
    );
    let ms = took.as_millis() as u64;
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

/// Delivers what the target's outbox holds and is due, after a scan.
async fn deliver(shared: &Shared, spec: &JobSpec, store: &TargetStore) {
    if let Some(alerting) = &spec.alerting {
        flush_outbox(
            &spec.target.name,
            alerting.clone(),
            &spec.target.alerts,
            store,
        )
        .await;
    }
    shared
        .metrics
        .set_outbox_depth(&spec.target.name, outbox_depth(store));
    shared
        .metrics
        .set_outbox_set_aside(&spec.target.name, outbox_set_aside(store));
}

/// Runs the outbox's delivery on a blocking thread and logs each attempt.
async fn flush_outbox(
    name: &str,
    alerting: Alerting,
    policy: &crate::config::AlertPolicy,
    store: &TargetStore,
) {
    let s = store.clone();
    let policy = policy.clone();
    match tokio::task::spawn_blocking(move || alerting.flush(&s, &policy, false)).await {
        Ok(Ok(out)) => log_deliveries(name, &out.deliveries),
        Ok(Err(e)) => tracing::warn!(target = %name, error = %e, "outbox flush failed"),
        Err(e) => tracing::warn!(target = %name, error = %e, "outbox flush stopped"),
    }
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
    let Ok(store) = TargetStore::new(&shared.store_root, &name) else {
        return;
    };
    if outbox_depth(&store) == 0 && outbox_set_aside(&store) == 0 {
        return;
    }
    flush_outbox(&name, alerting, &policy, &store).await;
    shared.metrics.set_outbox_depth(&name, outbox_depth(&store));
    shared
        .metrics
        .set_outbox_set_aside(&name, outbox_set_aside(&store));
}
