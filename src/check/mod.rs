//! The drift scan of one target: history findings, a migration in
//! progress, the expected state (the replay up to the applied version, or
//! the store's accepted snapshot), the live capture, the diff minus ignore
//! rules, attribution and since when, then the scan record in the store.
//!
//! A scan that cannot be made (target down, bad URL, unreadable migration
//! directory) is a report with result `failed`, recorded as such; only the
//! store itself failing is an error.

mod attribution;
mod history;
mod live;
pub mod locks;
mod status;

pub use attribution::since;
pub use live::{LiveInfo, LivePolicy, LiveProbe};
pub use status::{alert_status, standing, status, AlertStatus, TargetStatus};

use crate::catalog::{CaptureOptions, LiveState};
use crate::database::DatabaseUrl;
use crate::diff::{IgnoreRules, Severity};
use crate::error::{Error, Result};
use crate::history::{self as hist, HistoryTables, Locate};
use crate::migrations::{self, Format, MigrationSet};
use crate::model::Snapshot;
use crate::report::ScanResult;
use crate::report::{CheckReport, Expected, ExpectedFrom, Finding, FindingCode, CHECK_FORMAT};
use crate::shadow::ShadowOptions;
use crate::store::{ScanRecord, TargetStore};
use std::path::PathBuf;

/// Everything a scan of one target needs.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    /// The target's name (its folder in the store).
    pub name: String,
    /// `postgres://…` or `env:VAR`, as configured.
    pub url: String,
    /// The migration directory, when the target has one.
    pub migrations: Option<PathBuf>,
    /// Its layout (detected when None).
    pub format: Option<Format>,
    /// Where the history table is (detected when empty).
    pub locate: Locate,
    /// Capture settings (schemas, timeouts).
    pub capture: CaptureOptions,
    /// Ignore rules.
    pub ignore: Vec<String>,
    /// Lowest severity that fails the check.
    pub fail_on: Severity,
    /// The shadow server for replays.
    pub shadow: ShadowOptions,
    /// Live snapshots kept in the store.
    pub keep_live: usize,
    /// When `scans.jsonl` is rotated.
    pub scan_rotation: crate::store::ScanRotation,
    /// Who hears about its drift, and when.
    pub alerts: crate::config::AlertPolicy,
    /// Probe the catalogs first and reuse the last live snapshot when they
    /// did not change (the `watch` daemon's rescans).
    pub probe: bool,
    /// Incremental or full live captures.
    pub live: LivePolicy,
}

impl ScanTarget {
    /// A configured target, with the command line's capture and shadow
    /// settings (schemas from the config).
    pub fn from_config(
        t: &crate::config::TargetConfig,
        store: &crate::config::StoreConfig,
        capture: &CaptureOptions,
        shadow: &ShadowOptions,
    ) -> ScanTarget {
        ScanTarget {
            name: t.name.clone(),
            url: t.url.clone(),
            migrations: t.migrations.clone(),
            format: t.format,
            locate: Locate {
                tool: t.history,
                table: t.history_table.clone(),
                migrations: t.migrations.clone(),
                format: t.format,
            },
            capture: CaptureOptions {
                schemas: t.schemas.clone(),
                exclude_schemas: t.exclude_schemas.clone(),
                ..capture.clone()
            },
            ignore: t.ignore.clone(),
            fail_on: t.fail_on.unwrap_or(Severity::Info),
            shadow: shadow.clone(),
            keep_live: store.keep_live,
            scan_rotation: store.scans,
            alerts: t.alerts.clone(),
            probe: false,
            live: LivePolicy {
                full_every: store.full_every,
                ..LivePolicy::default()
            },
        }
    }
}

/// What the scan found before the report is assembled.
struct Outcome {
    result: ScanResult,
    server_version: Option<String>,
    history: Option<String>,
    applied_version: Option<String>,
    expected: Option<Expected>,
    live: Option<Snapshot>,
    /// The expected snapshot compared with (baseline needs it).
    expected_snapshot: Option<Snapshot>,
    findings: Vec<Finding>,
    warnings: Vec<String>,
    /// How the live schema was read.
    read: Option<live::LiveInfo>,
}

impl Outcome {
    /// A scan that compared no schema: its history findings only.
    fn history_only(
        history: Option<String>,
        applied_version: Option<String>,
        findings: Vec<Finding>,
        warnings: Vec<String>,
    ) -> Outcome {
        Outcome {
            result: ScanResult::Clean,
            server_version: None,
            history,
            applied_version,
            expected: None,
            live: None,
            expected_snapshot: None,
            findings,
            warnings,
            read: None,
        }
    }
}

/// Scans `target`, records the scan in `store`, and returns the report.
/// Errors only when the store cannot be read or written.
pub async fn scan(target: &ScanTarget, store: &TargetStore) -> Result<CheckReport> {
    Ok(scan_probed(target, store).await?.report)
}

/// Records a scan that could not finish (the daemon's per-scan timeout)
/// as failed, so that alerting counts it like any other failed scan.
pub fn record_failure(
    target: &ScanTarget,
    store: &TargetStore,
    error: String,
) -> Result<CheckReport> {
    let mut report = empty_report(target, crate::util::now_rfc3339());
    report.error = Some(error);
    record(store, &report, None, None, target)?;
    Ok(report)
}

/// A failed report of `target` at `time`, to be filled in.
fn empty_report(target: &ScanTarget, time: String) -> CheckReport {
    CheckReport {
        format: CHECK_FORMAT,
        target: target.name.clone(),
        url: crate::database::redact_url(&target.url),
        time,
        result: ScanResult::Failed,
        server_version: None,
        history: None,
        applied_version: None,
        expected: None,
        live_fingerprint: None,
        live_capture: None,
        fail_on: target.fail_on,
        counts: Default::default(),
        warnings: Vec::new(),
        findings: Vec::new(),
        error: None,
    }
}

/// A scan's report and what the catalog probe said.
pub struct Scanned {
    /// The report (recorded in the store).
    pub report: CheckReport,
    /// Some(true) when the probe saw the catalogs change (a full capture
    /// ran), Some(false) when the last live snapshot was reused, None when
    /// no probe ran.
    pub probe_changed: Option<bool>,
    /// Objects a scheduled full capture found different from the
    /// incremental state (it won); empty when they agreed or none ran.
    pub incremental_mismatch: Vec<String>,
}

/// [`scan`], telling whether the catalog probe spared a capture (the
/// `watch` daemon counts it).
pub async fn scan_probed(target: &ScanTarget, store: &TargetStore) -> Result<Scanned> {
    let examined = examine(target, store).await?;
    let probe = examined.read.as_ref().and_then(|r| r.probe.as_ref());
    let state = examined.read.as_ref().and_then(|r| r.state.as_ref());
    record(
        store,
        &examined.report,
        examined.live.as_ref().map(|live| (live, state)),
        probe.map(|p| p.key.as_str()),
        target,
    )?;
    Ok(Scanned {
        probe_changed: probe.map(|p| !p.reused),
        incremental_mismatch: examined
            .read
            .as_ref()
            .map(|r| r.mismatch.clone())
            .unwrap_or_default(),
        report: examined.report,
    })
}

/// A scan's report with the two schemas it compared.
pub struct Examined {
    /// The report.
    pub report: CheckReport,
    /// The expected schema (None when the scan compared none).
    pub expected: Option<Snapshot>,
    /// The live schema (None when it was not captured).
    pub live: Option<Snapshot>,
    /// How the live schema was read (None when it was not).
    pub read: Option<live::LiveInfo>,
}

/// A scan of `target` that records nothing (a first scan's accepted state
/// aside): what `baseline` looks at before it accepts the live schema.
pub async fn examine(target: &ScanTarget, store: &TargetStore) -> Result<Examined> {
    let time = crate::util::now_rfc3339();
    let scans = store.read_scans()?;
    let outcome = run(target, store, &scans, &time).await;
    let mut report = empty_report(target, time);
    let mut live = None;
    let mut expected_snapshot = None;
    let mut read = None;
    match outcome {
        Ok(mut o) => {
            expected_snapshot = o.expected_snapshot.take();
            attribution::since(&mut o.findings, &scans);
            report.result = o.result;
            report.server_version = o.server_version;
            report.history = o.history;
            report.applied_version = o.applied_version;
            report.expected = o.expected;
            report.live_fingerprint = o.live.as_ref().map(|s| s.fingerprint.clone());
            report.counts = CheckReport::count(&o.findings);
            report.warnings = o.warnings;
            report.findings = o.findings;
            if matches!(
                report.result,
                ScanResult::Clean | ScanResult::Drift | ScanResult::Notice
            ) {
                report.result = if report.findings.is_empty() {
                    ScanResult::Clean
                } else if report.fails() {
                    ScanResult::Drift
                } else {
                    ScanResult::Notice
                };
            }
            report.live_capture = o.read.as_ref().map(|r| r.kind.clone());
            live = o.live;
            read = o.read;
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    Ok(Examined {
        report,
        expected: expected_snapshot,
        live,
        read,
    })
}

/// Appends the scan to `scans.jsonl` and keeps the live snapshot with
/// the positions of its capture, under the store's lock.
fn record(
    store: &TargetStore,
    report: &CheckReport,
    live: Option<(&Snapshot, Option<&LiveState>)>,
    probe: Option<&str>,
    target: &ScanTarget,
) -> Result<()> {
    let _lock = store.lock()?;
    if let Some((live, state)) = live {
        store.keep_live(&report.time, live, target.keep_live)?;
        if let Some(state) = state.filter(|s| s.snapshot == live.fingerprint) {
            store.write_live_state(state)?;
        }
    }
    let compared = report.result.compared();
    store.append_scan(
        &ScanRecord {
            time: report.time.clone(),
            target: report.target.clone(),
            result: report.result,
            fingerprint: compared.then(|| report.findings_fingerprint()),
            counts: report.counts,
            findings: if compared {
                report.findings.iter().map(Finding::id).collect()
            } else {
                Vec::new()
            },
            live: report.live_fingerprint.clone(),
            expected: report.expected.as_ref().map(|e| e.fingerprint.clone()),
            error: report.error.clone(),
            probe: probe.map(str::to_string),
            since: Default::default(),
            drift_since: None,
            applied: report.applied_version.clone(),
        },
        target.scan_rotation,
    )
}

async fn run(
    target: &ScanTarget,
    store: &TargetStore,
    scans: &[ScanRecord],
    time: &str,
) -> Result<Outcome> {
    let rules = IgnoreRules::parse(&target.ignore).map_err(Error::Usage)?;
    let url = DatabaseUrl::resolve(&target.url)?;
    let set = match &target.migrations {
        Some(dir) => {
            let set = migrations::read(dir, target.format)?;
            set.require_some(false)?;
            Some(set)
        }
        None => None,
    };
    let major = url.server_major().await?;
    let mut warnings: Vec<String> = set.iter().flat_map(|s| s.warnings.clone()).collect();

    // 1. The history, when there is one (the directory's layout decides
    // between several tools' tables).
    let locate = Locate {
        migrations: target.migrations.clone(),
        format: set.as_ref().map(|s| s.format).or(target.format),
        ..target.locate.clone()
    };
    let history = match hist::read(&url, &locate).await {
        Ok(h) => Some(h),
        Err(Error::Input { message, .. })
            if set.is_none() && target.locate.tool.is_none() && target.locate.table.is_none() =>
        {
            warnings.push(format!(
                "{message}: the expected state is the store's accepted snapshot"
            ));
            None
        }
        Err(e) => return Err(e),
    };
    let history_label = history
        .as_ref()
        .map(|h| format!("{} ({})", h.tool.as_str(), h.table));

    // 2. A migration running: not drift, and nothing else is compared.
    if let Some(h) = &history {
        if let Some(running) =
            locks::migration_in_progress(&url, h.tool, &h.schema, &h.name).await?
        {
            return Ok(in_progress(
                running.pid,
                &running.evidence,
                time,
                history_label,
                warnings,
            ));
        }
    }

    // 3. History findings.
    let reading = history
        .as_ref()
        .map(|h| history::read(h, set.as_ref(), time));
    let mut findings: Vec<Finding> = reading.iter().flat_map(|r| r.findings.clone()).collect();
    let applied_version = reading.as_ref().and_then(|r| r.applied_version.clone());

    // A directory that names none of the applied versions is not this
    // target's: its state would be no expectation at all.
    if reading.as_ref().is_some_and(|r| r.matches_no_file) {
        return Ok(Outcome::history_only(
            history_label,
            applied_version,
            findings,
            warnings,
        ));
    }

    // 4. The expected state.
    let replayable = match (&history, &set) {
        (Some(h), Some(_)) => hist::compares_with_files(h.tool),
        _ => false,
    };
    let mut capture = target.capture.clone();
    if let Some(h) = &history {
        capture.history_tables =
            HistoryTables::Tool(h.tool, Some(format!("{}.{}", h.schema, h.name)));
    }
    if replayable && applied_version.is_none() {
        warnings
            .push("no migration is applied successfully yet: the schema is not compared".into());
        return Ok(Outcome::history_only(
            history_label,
            applied_version,
            findings,
            warnings,
        ));
    }
    if let (Some(h), Some(_)) = (&history, &set) {
        if !hist::compares_with_files(h.tool) {
            warnings.push(format!(
                "{} migrations are not SQL files driftwatch can replay: the expected state is the store's accepted snapshot",
                h.tool.as_str()
            ));
        }
    }
    // An accepted state (driftwatch baseline) made at the applied version
    // stands in for the replay of that version; a later migration makes
    // the replay the expectation again.
    let accepted_here = replayable
        && store
            .latest_baseline_record()?
            .is_some_and(|r| r.applied_version.is_some() && r.applied_version == applied_version);
    // 4 and 5 at once: the expected state (a replay, or reading the stored
    // state, client work) while the live capture runs (server work).
    let mut applied_migrations = Vec::new();
    let expected_state = async {
        match (replayable && !accepted_here, &set, &applied_version) {
            (true, Some(set), Some(version)) => {
                let (snapshot, source, applied) =
                    replayed_state(target, store, set, version, major, &capture, &mut warnings)
                        .await?;
                applied_migrations = applied;
                let fingerprint = snapshot.fingerprint.clone();
                let expected = Expected {
                    from: ExpectedFrom::Replay,
                    source,
                    fingerprint,
                };
                Ok(Some((snapshot, expected)))
            }
            _ => {
                // An accepted state at the applied version: the replayed
                // migrations before it still say who last touched what.
                if let (true, Some(set), Some(version)) = (accepted_here, &set, &applied_version) {
                    match replayed(target, store, set, version, major, &capture).await {
                        Ok(state) => applied_migrations = state.applied,
                        Err(e) => warnings.push(format!(
                            "attribution unavailable: the migrations before the accepted state could not be replayed ({e})"
                        )),
                    }
                }
                let reader = store.clone();
                let stored = tokio::task::spawn_blocking(move || reader.latest_baseline())
                    .await
                    .map_err(|e| Error::Input {
                        path: store.baselines_dir().display().to_string(),
                        message: format!("reading the accepted state stopped ({e})"),
                        hint: "run the check again".into(),
                    })??;
                Ok::<_, Error>(stored.map(|(file, snapshot)| {
                    let fingerprint = snapshot.fingerprint.clone();
                    let expected = Expected {
                        from: ExpectedFrom::Baseline,
                        source: format!("store:{}@baseline ({file})", store.target()),
                        fingerprint,
                    };
                    (snapshot, expected)
                }))
            }
        }
    };
    let (expected, captured) = tokio::join!(
        expected_state,
        live::live_schema(target, store, scans, &url, &capture)
    );

    // DDL holding a table (a tool without a lock, such as dbmate,
    // mid-migration; or a change by hand) stops the capture rather than
    // queue behind it: nothing to compare yet.
    let (mut live, read) = match captured {
        Err(Error::Locked { relation, pid, .. }) => {
            let evidence = format!("DDL holds {relation} (ACCESS EXCLUSIVE)");
            return Ok(in_progress(pid, &evidence, time, history_label, warnings));
        }
        other => other?,
    };
    let expected = expected?;
    live.meta.source = format!("live {}", url.redacted());
    let server_version = live.meta.server_version.clone();

    let Some((mut expected, expected_info)) = expected else {
        // First scan without replayable files: this is the accepted state.
        // It compared nothing, and must not read like a clean scan.
        warnings.push(nothing_compared(set.is_some(), history.as_ref()));
        let _lock = store.lock()?;
        let file = store.add_baseline(
            time,
            &live,
            crate::store::BaselineAudit {
                by: "driftwatch".into(),
                reason: "first scan: the live schema is recorded as the accepted state".into(),
                applied_version: applied_version.clone(),
                ..Default::default()
            },
        )?;
        return Ok(Outcome {
            result: ScanResult::Recorded,
            server_version,
            history: history_label,
            applied_version,
            expected: Some(Expected {
                from: ExpectedFrom::FirstScan,
                source: format!("store:{}@baseline ({file})", store.target()),
                fingerprint: live.fingerprint.clone(),
            }),
            expected_snapshot: Some(live.clone()),
            live: Some(live),
            findings,
            warnings,
            read: Some(read),
        });
    };
    // The replay captured every schema: narrow it as the live capture is.
    expected
        .objects
        .retain_schemas(&capture.schemas, &capture.exclude_schemas);
    hist::exclude_history_tables(&mut expected.objects, &capture.history_tables);
    let mut expected = Snapshot::new(expected.meta, expected.objects);
    expected.meta.source = format!("expected {}", expected_info.source);

    // A replay's objects belong to the replay role: read it as the live
    // database's migrating role.
    let (expected, live) = crate::replay::owners::aligned(expected, live, true, false);

    // 6. The diff, minus ignore rules.
    let compared = crate::diff::compare(&expected, &live, &rules);
    let changes = compared.changes;
    warnings.extend(compared.warnings);
    let mut schema_findings = crate::report::schema_findings(&changes, &expected, &live, time);
    if expected_info.from == ExpectedFrom::Replay || !applied_migrations.is_empty() {
        attribution::attribute(&mut schema_findings, store, &applied_migrations)?;
    } else {
        for f in &mut schema_findings {
            f.attribution = Some(crate::report::Attribution::Unknown);
        }
    }
    findings.extend(schema_findings);
    Ok(Outcome {
        result: ScanResult::Clean,
        server_version,
        history: history_label,
        applied_version,
        expected: Some(expected_info),
        live: Some(live),
        expected_snapshot: Some(expected),
        findings,
        warnings,
        read: Some(read),
    })
}

/// The warning of a first scan that recorded the live schema instead of
/// comparing it: why nothing was compared, and how to give the target a
/// source of truth.
fn nothing_compared(has_dir: bool, history: Option<&hist::History>) -> String {
    let why = match history {
        Some(h) if has_dir => format!(
            "{} migrations are not SQL files driftwatch replays",
            h.tool.as_str()
        ),
        _ => "the target has no migration directory".to_string(),
    };
    format!(
        "nothing compared: {why}, so the live schema was recorded as the accepted state and later scans compare with it; \
         to compare with a source of truth, give the SQL migrations its tool applies (--migrations DIR, or migrations = in the config), \
         or review the live schema and accept it with driftwatch baseline --reason"
    )
}

/// The outcome of a scan that found a migration running.
fn in_progress(
    pid: i32,
    evidence: &str,
    time: &str,
    history: Option<String>,
    warnings: Vec<String>,
) -> Outcome {
    let finding = Finding {
        code: FindingCode::MigrationInProgress,
        severity: Severity::Info,
        object: None,
        migration: None,
        message: format!(
            "a migration is running (pid {pid}, {evidence}): the schema is not compared until it is done"
        ),
        attribution: None,
        since: time.to_string(),
        hint: "not drift: scan again when the deployment has finished".into(),
        attribute: None,
        expected: serde_json::Value::Null,
        actual: serde_json::Value::Null,
        ddl: None,
    };
    Outcome {
        result: ScanResult::MigrationInProgress,
        server_version: None,
        history,
        applied_version: None,
        expected: None,
        live: None,
        expected_snapshot: None,
        findings: vec![finding],
        warnings,
        read: None,
    }
}

/// The snapshot after `version` ([`replayed`]), the warning it may call
/// for added to `warnings`. Returns it, its `store:` name, and the stored
/// migrations up to it.
async fn replayed_state(
    target: &ScanTarget,
    store: &TargetStore,
    set: &MigrationSet,
    version: &str,
    major: u32,
    capture: &CaptureOptions,
    warnings: &mut Vec<String>,
) -> Result<(Snapshot, String, Vec<crate::store::StoredMigration>)> {
    let state = replayed(target, store, set, version, major, capture).await?;
    if state.pending_repeatables {
        warnings.push(
            "repeatable migrations run after pending ones: the expected state leaves them out"
                .into(),
        );
    }
    let (snapshot, name) = state.snapshot(store)?;
    Ok((snapshot, name, state.applied))
}

/// The history of `set` up to `version` ([`crate::replay::state_after`]),
/// replayed on a shadow of the target's `major` when the store's copy is
/// not current.
async fn replayed(
    target: &ScanTarget,
    store: &TargetStore,
    set: &MigrationSet,
    version: &str,
    major: u32,
    capture: &CaptureOptions,
) -> Result<crate::replay::StateAfter> {
    let settings = replay_settings(target, major, capture);
    crate::replay::state_after(set, store, version, &settings).await
}

/// How the target's history is replayed when the store's copy is not
/// current: on a shadow of the target's `major`, captured as `capture`.
fn replay_settings(
    target: &ScanTarget,
    major: u32,
    capture: &CaptureOptions,
) -> crate::replay::StateSettings {
    let mut shadow = target.shadow.clone();
    shadow.major.get_or_insert(major);
    crate::replay::StateSettings {
        shadow,
        capture: capture.clone(),
    }
}
