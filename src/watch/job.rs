//! One tick of one target: claim it (fleet store), scan with a timeout,
//! alert, record metrics and a log line, and hand the store back.

use super::fleet::{Claim, Fleet};
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
        Ok(p) => p,
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

async fn run_claimed(shared: &Shared, spec: &JobSpec, tick: Tick) -> Result<JobEnd> {
    let name = &spec.target.name;
    let store = TargetStore::new(&shared.store_root, name)?;
    let Some(fleet) = &shared.fleet else {
        let report = scan_and_alert(shared, spec, &store, tick).await?;
        return Ok(JobEnd::Scanned(report.result));
    };
    match fleet.claim(name, tick.at).await? {
        Claim::Ours => {}
        Claim::Taken => return Ok(JobEnd::Taken),
        Claim::Overrun => return Ok(JobEnd::Overrun),
    }
    fleet.pull(name, &store.dir()).await?;
    // Renew the claim while the scan runs; a claim lost (this replica
    // stalled past the lease and another took the tick over) stops it.
    let work = scan_and_alert(shared, spec, &store, tick);
    tokio::pin!(work);
    let every = fleet.heartbeat_every();
    let report = loop {
        tokio::select! {
            r = &mut work => break r?,
            _ = tokio::time::sleep(every) => {
                if !fleet.heartbeat(name, tick.at).await? {
                    tracing::warn!(target = %name, tick = %tick.at, "claim lost to another replica; scan abandoned");
                    return Ok(JobEnd::Taken);
                }
            }
        }
    };
    if !fleet
        .push(name, tick.at, &store.dir(), report.result.as_str())
        .await?
    {
        tracing::warn!(target = %name, tick = %tick.at, "claim lost before the results were stored; another replica scans this tick");
        return Ok(JobEnd::Taken);
    }
    Ok(JobEnd::Scanned(report.result))
}

/// The scan, its alerts, its metrics and its log line.
async fn scan_and_alert(
    shared: &Shared,
    spec: &JobSpec,
    store: &TargetStore,
    tick: Tick,
) -> Result<CheckReport> {
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
    match &report.error {
        Some(e) => tracing::warn!(
            target = %name, tick = %tick.at, result = report.result.as_str(), duration_ms = elapsed.as_millis() as u64,
            error = %e, "scan failed"
        ),
        None => tracing::info!(
            target = %name, tick = %tick.at, result = report.result.as_str(), duration_ms = elapsed.as_millis() as u64,
            critical = counts.critical, warning = counts.warning, info = counts.info,
            "scan finished"
        ),
    }
    if let Some(alerting) = &spec.alerting {
        match alerting
            .after_scan(store, &spec.target.alerts, &report)
            .await
        {
            Ok(out) => {
                for id in &out.queued {
                    tracing::info!(target = %name, message = %id, "alert queued");
                }
                log_deliveries(name, &out.deliveries);
            }
            Err(e) => tracing::error!(target = %name, error = %e, "alerting failed"),
        }
    }
    shared.metrics.set_outbox_depth(name, outbox_depth(store));
    Ok(report)
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
pub async fn flush(shared: Arc<Shared>, name: String, alerting: Alerting) {
    let Ok(store) = TargetStore::new(&shared.store_root, &name) else {
        return;
    };
    if outbox_depth(&store) == 0 {
        return;
    }
    let s = store.clone();
    let result = tokio::task::spawn_blocking(move || alerting.flush(&s, false)).await;
    match result {
        Ok(Ok(out)) => log_deliveries(&name, &out.deliveries),
        Ok(Err(e)) => tracing::warn!(target = %name, error = %e, "outbox flush failed"),
        Err(e) => tracing::warn!(target = %name, error = %e, "outbox flush stopped"),
    }
    shared.metrics.set_outbox_depth(&name, outbox_depth(&store));
}
