//! `driftwatch watch`: the daemon. Each target is scanned on its cron
//! schedule (in `[watch] timezone`), at most `max_concurrent_scans` at
//! once and never two scans of one target at once; a tick that comes while
//! the target's previous scan still runs is skipped and counted. Alerts go
//! out after each scan, and the outbox is retried between scans.
//!
//! Signals: SIGTERM and SIGINT stop scheduling, let running scans finish
//! (for `shutdown_timeout`, then cancel them), deliver what the outboxes
//! hold, and return. SIGHUP reads the configuration again; a bad one is
//! logged and the running one kept.
//!
//! Everything a restart needs is in the store (scans, alert state, outbox),
//! so a restart neither re-sends an alert nor forgets since when drift has
//! existed. With `[store] url`, the store is a PostgreSQL database shared
//! by several replicas ([`crate::store::fleet`]).

mod job;
pub mod timing;

use crate::alert::Alerting;
use crate::catalog::CaptureOptions;
use crate::check::ScanTarget;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::http::Health;
use crate::metrics::Metrics;
use crate::shadow::ShadowOptions;
use jiff::Timestamp;
use job::{JobEnd, JobSpec, Shared};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use timing::{Tick, Timing};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What `watch` is given besides the configuration file's content.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The configuration file (read again on SIGHUP).
    pub config: PathBuf,
    /// Capture settings from the command line (schemas come from targets).
    pub capture: CaptureOptions,
    /// Where replays run.
    pub shadow: ShadowOptions,
}

/// A watched target under the configuration in force.
struct Watched {
    spec: JobSpec,
    timing: Timing,
    next: Option<Tick>,
}

/// The configuration in force: targets by name.
struct Setup {
    config: Config,
    targets: BTreeMap<String, Watched>,
    alerting: Option<Alerting>,
}

/// The next five runs of each scheduled target, as `--print-schedule`
/// prints them: the target's name, then one RFC 3339 time per line.
pub fn print_schedule(config: &Config, now: Timestamp) -> Result<String> {
    let mut out = String::new();
    scheduled(config)?;
    for t in &config.targets {
        out.push_str(&t.name);
        out.push('\n');
        match &t.schedule {
            Some(s) => {
                for z in s.upcoming(now, &config.watch.timezone, 5) {
                    out.push_str(&crate::schedule::rfc3339(&z));
                    out.push('\n');
                }
            }
            None => out.push_str("(no schedule: not watched)\n"),
        }
    }
    Ok(out)
}

/// The targets with a schedule; an error when there is none.
fn scheduled(config: &Config) -> Result<Vec<&crate::config::TargetConfig>> {
    let list: Vec<_> = config
        .targets
        .iter()
        .filter(|t| t.schedule.is_some())
        .collect();
    if list.is_empty() {
        return Err(Error::Input {
            path: config.path.display().to_string(),
            message: "no target has a schedule, so watch has nothing to do".into(),
            hint: "add schedule = \"*/15 * * * *\" to [watch] (every target) or to a [[target]]"
                .into(),
        });
    }
    Ok(list)
}

impl Setup {
    /// The targets and channels of `config`; ticks of targets whose
    /// schedule, jitter and time zone did not change are kept from
    /// `previous`.
    fn new(
        config: Config,
        opts: &WatchOptions,
        previous: Option<&Setup>,
        now: Timestamp,
    ) -> Result<Setup> {
        let alerting = Some(Alerting::from_config(&config, None)?);
        let tz = config.watch.timezone.clone();
        let mut targets = BTreeMap::new();
        for t in scheduled(&config)? {
            let Some(schedule) = t.schedule.clone() else {
                continue;
            };
            let mut target = ScanTarget::from_config(t, &config.store, &opts.capture, &opts.shadow);
            target.probe = config.watch.probe;
            let timing = Timing::new(&t.name, schedule, &tz, config.watch.jitter);
            let kept = previous
                .filter(|p| p.config.watch.timezone_name == config.watch.timezone_name)
                .and_then(|p| p.targets.get(&t.name))
                .filter(|w| {
                    w.timing.schedule() == timing.schedule() && w.timing.offset() == timing.offset()
                })
                .and_then(|w| w.next);
            let next = kept.or_else(|| timing.next_after(now, &tz));
            targets.insert(
                t.name.clone(),
                Watched {
                    spec: JobSpec {
                        target,
                        alerting: None,
                        timeout: config.watch.scan_timeout,
                    },
                    timing,
                    next,
                },
            );
        }
        for w in targets.values_mut() {
            if w.spec.target.alerts.has_channels() {
                w.spec.alerting = alerting.clone();
            }
        }
        Ok(Setup {
            config,
            targets,
            alerting,
        })
    }
}

/// The longest the scheduler sleeps between two turns of its loop, so
/// that a clock change is noticed and [`STALL_AFTER`] can be short.
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// Seconds without a turn of the scheduler's loop after which `/healthz`
/// answers 503: three turns missed. The loop only awaits what cannot block
/// long (a due tick, a job ending, timers, signals, the fleet sweep), so
/// this is a scheduler stuck (a fleet store that stopped answering, a
/// starved process), and a liveness probe should restart it.
const STALL_AFTER: i64 = 15;

/// The daemon's state as `/healthz` reports it.
struct Liveness {
    stopping: AtomicBool,
    last_loop: AtomicI64,
}

impl Health for Liveness {
    fn healthy(&self) -> std::result::Result<(), String> {
        if self.stopping.load(Ordering::Relaxed) {
            return Err("shutting down".into());
        }
        let age = Timestamp::now().as_second() - self.last_loop.load(Ordering::Relaxed);
        if age > STALL_AFTER {
            return Err(format!("the scheduler has not run for {age}s"));
        }
        Ok(())
    }
}

/// Starts `tick` of `spec`'s target on a blocking thread of its own (see
/// [`job::run_on_thread`]); it ends early when `cancel` turns true.
fn spawn_job(
    jobs: &mut JoinSet<(String, JobEnd)>,
    shared: &Arc<Shared>,
    spec: JobSpec,
    tick: Tick,
    cancel: &tokio::sync::watch::Receiver<bool>,
) {
    let (handle, shared, cancel) = (
        tokio::runtime::Handle::current(),
        shared.clone(),
        cancel.clone(),
    );
    jobs.spawn_blocking(move || {
        let name = spec.target.name.clone();
        (name, job::run_on_thread(handle, shared, spec, tick, cancel))
    });
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(opts: WatchOptions) -> Result<()> {
    let config = Config::read(&opts.config)?;
    let mut setup = Setup::new(config, &opts, None, Timestamp::now())?;
    let fleet_url = setup.config.store.fleet_url.clone();
    let backend = setup.config.open_store(None).await?;
    let fleet = backend.fleet_store().cloned();
    if let Some(f) = &fleet {
        tracing::info!(store = %f.redacted(), replica = %f.holder(), "fleet store opened");
    }
    let metrics = Arc::new(Metrics::new());
    metrics.set_targets(&setup.targets.keys().cloned().collect::<Vec<_>>());
    let shared = Arc::new(Shared {
        backend,
        permits: Arc::new(Semaphore::new(setup.config.watch.max_concurrent_scans)),
        metrics: metrics.clone(),
    });
    let liveness = Arc::new(Liveness {
        stopping: AtomicBool::new(false),
        last_loop: AtomicI64::new(Timestamp::now().as_second()),
    });
    let (stop_http, http_stopped) = tokio::sync::watch::channel(false);
    let http = match setup.config.watch.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Error::Input {
                    path: setup.config.path.display().to_string(),
                    message: format!("[watch] listen: cannot listen on {addr} ({e})"),
                    hint: "choose a free address and port".into(),
                })?;
            tracing::info!(listen = %addr, "serving /healthz and /metrics");
            let mut rx = http_stopped.clone();
            let health: Arc<dyn Health> = liveness.clone();
            Some(tokio::spawn(crate::metrics::http::serve(
                listener,
                metrics.clone(),
                health,
                async move {
                    let _ = rx.wait_for(|s| *s).await;
                },
            )))
        }
        None => None,
    };
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::Usage(format!("cannot handle SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::Usage(format!("cannot handle SIGINT: {e}")))?;
    let mut hup = signal(SignalKind::hangup())
        .map_err(|e| Error::Usage(format!("cannot handle SIGHUP: {e}")))?;
    for t in setup.config.targets.iter().filter(|t| t.schedule.is_none()) {
        tracing::warn!(target = %t.name, "no schedule (neither its own nor [watch] schedule): not watched");
    }
    tracing::info!(
        targets = setup.targets.len(),
        timezone = %setup.config.watch.timezone_name,
        max_concurrent_scans = setup.config.watch.max_concurrent_scans,
        "watch started"
    );

    let mut jobs: JoinSet<(String, JobEnd)> = JoinSet::new();
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let mut running: HashSet<String> = HashSet::new();
    let mut captured_in_full: HashSet<String> = HashSet::new();
    let mut flush_every = tokio::time::interval(Duration::from_secs(15));
    flush_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let sweep_period = setup.config.watch.lease / 2;
    let mut sweep_every = tokio::time::interval(sweep_period.max(Duration::from_secs(1)));
    sweep_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now = Timestamp::now();
        liveness.last_loop.store(now.as_second(), Ordering::Relaxed);
        // Start what is due.
        let due: Vec<String> = setup
            .targets
            .iter()
            .filter(|(_, w)| w.next.is_some_and(|t| t.start <= now))
            .map(|(n, _)| n.clone())
            .collect();
        let tz = setup.config.watch.timezone.clone();
        for name in due {
            let Some(w) = setup.targets.get_mut(&name) else {
                continue;
            };
            let Some(tick) = w.next else { continue };
            let (next, missed) = w.timing.following(tick, now, &tz);
            w.next = next;
            for _ in 0..missed {
                metrics.tick_skipped(&name);
            }
            if running.contains(&name) {
                metrics.tick_skipped(&name);
                tracing::warn!(target = %name, tick = %tick.at, "tick skipped: the previous scan is still running");
                continue;
            }
            running.insert(name.clone());
            let mut spec = w.spec.clone();
            // The first scan of each target in this process captures in
            // full (and checks the stored incremental state against it).
            if captured_in_full.insert(name.clone()) {
                spec.target.live.full_now = Some(crate::catalog::FullReason::Scheduled);
            }
            spawn_job(&mut jobs, &shared, spec, tick, &cancel_rx);
        }
        for (name, w) in &setup.targets {
            metrics.set_next_scan(name, w.next.map(|t| t.start.as_second()));
        }
        let wake = setup
            .targets
            .values()
            .filter_map(|w| w.next.map(|t| t.start))
            .min()
            .map(|t| t.duration_since(Timestamp::now()).unsigned_abs())
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(wake) => {}
            Some(done) = jobs.join_next(), if !jobs.is_empty() => {
                if let Ok((name, end)) = done {
                    running.remove(&name);
                    match end {
                        JobEnd::Overrun => {
                            metrics.tick_skipped(&name);
                            tracing::warn!(target = %name, "tick skipped: another replica is still scanning this target");
                        }
                        JobEnd::Taken => tracing::debug!(target = %name, "tick scanned by another replica"),
                        JobEnd::Scanned(_) | JobEnd::Error | JobEnd::Flushed | JobEnd::Cancelled => {}
                    }
                }
            }
            _ = flush_every.tick(), if fleet.is_none() => {
                for (name, w) in &setup.targets {
                    let Some(alerting) = w.spec.alerting.clone() else { continue };
                    // Only a target with something waiting is busied (a tick
                    // coming during a flush is skipped).
                    let waiting = shared.backend.target_store(name)
                        .map(|s| job::outbox_depth(&s))
                        .unwrap_or(0);
                    if waiting == 0 || running.contains(name) {
                        continue;
                    }
                    running.insert(name.clone());
                    let shared = shared.clone();
                    let name = name.clone();
                    let policy = w.spec.target.alerts.clone();
                    jobs.spawn(async move {
                        job::flush(shared, name.clone(), alerting, policy).await;
                        (name, JobEnd::Flushed)
                    });
                }
            }
            _ = sweep_every.tick(), if fleet.is_some() => {
                if let Some(f) = &fleet {
                    match f.orphaned().await {
                        Ok(list) => {
                            for (name, at) in list {
                                let Some(w) = setup.targets.get(&name) else { continue };
                                if running.contains(&name) {
                                    continue;
                                }
                                tracing::info!(target = %name, tick = %at, "re-claiming a tick its replica stopped renewing");
                                running.insert(name.clone());
                                spawn_job(&mut jobs, &shared, w.spec.clone(), Tick { at, start: at }, &cancel_rx);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "fleet store sweep failed"),
                    }
                    if let Err(e) = f.prune(Duration::from_secs(7 * 86_400)).await {
                        tracing::warn!(error = %e, "fleet store prune failed");
                    }
                }
            }
            _ = hup.recv() => {
                match Config::read(&opts.config).and_then(|c| Setup::new(c, &opts, Some(&setup), Timestamp::now())) {
                    Ok(new) => {
                        let (old_w, new_w) = (&setup.config.watch, &new.config.watch);
                        if new.config.store.fleet_url != fleet_url
                            || new.config.store.path != setup.config.store.path
                            || new_w.max_concurrent_scans != old_w.max_concurrent_scans
                            || new_w.listen != old_w.listen
                            || new_w.lease != old_w.lease
                        {
                            tracing::warn!("[store], max_concurrent_scans, listen and lease take effect at the next start");
                        }
                        setup = new;
                        metrics.set_targets(&setup.targets.keys().cloned().collect::<Vec<_>>());
                        tracing::info!(targets = setup.targets.len(), "configuration reloaded");
                    }
                    Err(e) => tracing::error!(error = %e, "configuration not reloaded; the running one is kept"),
                }
            }
            _ = term.recv() => { tracing::info!(signal = "SIGTERM", "stopping"); break; }
            _ = int.recv() => { tracing::info!(signal = "SIGINT", "stopping"); break; }
        }
    }

    // Shutdown: let running scans finish, then cancel what is left.
    liveness.stopping.store(true, Ordering::Relaxed);
    let grace = setup.config.watch.shutdown_timeout;
    let finished =
        tokio::time::timeout(grace, async { while jobs.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!(
            scans = jobs.len(),
            "scans still running after shutdown_timeout: cancelled"
        );
        let _ = cancel_tx.send(true);
        while jobs.join_next().await.is_some() {}
    }
    // A replay cancelled here or by scan_timeout drops its shadow database
    // in a task of its own: let those finish before the process ends.
    crate::shadow::settle_abandoned(Duration::from_secs(10)).await;
    if let Some(f) = &fleet {
        if let Err(e) = f.release().await {
            tracing::warn!(error = %e, "could not release this replica's claims");
        }
    } else if let Some(alerting) = &setup.alerting {
        // Deliver what waits, bounded: a dead relay must not hold the exit.
        let names: Vec<(String, crate::config::AlertPolicy)> = setup
            .targets
            .iter()
            .filter(|(_, w)| w.spec.alerting.is_some())
            .map(|(n, w)| (n.clone(), w.spec.target.alerts.clone()))
            .collect();
        let flushing = async {
            for (name, policy) in names {
                job::flush(shared.clone(), name, alerting.clone(), policy).await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(10), flushing)
            .await
            .is_err()
        {
            tracing::warn!("outbox delivery at shutdown took over 10s; what is left goes out at the next start");
        }
    }
    let _ = stop_http.send(true);
    if let Some(h) = http {
        let _ = h.await;
    }
    tracing::info!("watch stopped");
    Ok(())
}
