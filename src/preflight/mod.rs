//! `preflight`: will the pending migrations apply to what the target
//! really is? A shadow database is built from the target's live schema
//! (a capture now, read-only, or the newest live snapshot in the store),
//! the pending migrations run there one by one as their tool would, and
//! the end state is compared with the replay of the same files on an
//! empty database: what differs is the drift that survives the deploy.
//! Nothing runs on the target but catalog reads.

mod run;

use crate::check::ScanTarget;
use crate::diff::IgnoreRules;
use crate::error::{Error, Result};
use crate::history::{HistoryTables, Tool};
use crate::migrations::{self, compare_versions, Migration, MigrationKind, MigrationSet};
use crate::model::Snapshot;
use crate::report::{
    Explanation, Finding, PendingOutcome, PreflightReport, PreflightResult, TableSize,
    PREFLIGHT_FORMAT,
};
use crate::shadow::Shadow;
use crate::store::TargetStore;

const TABLE_SIZES_SQL: &str = include_str!("sql/table_sizes.sql");

/// Where the live schema comes from.
#[derive(Debug, Clone)]
pub enum LiveFrom {
    /// Captured now from the target's URL (read-only, catalogs only), with
    /// its history table read for the applied version.
    Connect,
    /// The newest live snapshot the store holds (`store:NAME@live`): no
    /// connection to the target. The applied version is the one its scan
    /// recorded, unless given.
    Store,
}

/// One preflight.
#[derive(Debug, Clone)]
pub struct PreflightRequest {
    /// The target (its migration directory is the one with the pending
    /// migrations: a pull request's branch).
    pub target: ScanTarget,
    /// Where the live schema comes from.
    pub live: LiveFrom,
    /// The applied version, instead of the one the history (or the
    /// store's scan) says.
    pub applied: Option<String>,
}

/// The live schema, the applied version and the drift now.
struct Live {
    snapshot: Snapshot,
    described: String,
    applied: Option<String>,
    findings: Vec<Finding>,
    connected: bool,
    warnings: Vec<String>,
}

/// Runs a preflight of `req` with the target's records in `store` (read;
/// a connected preflight's replay of the applied history is kept there as
/// `check` keeps it). Errors are inputs that make any answer impossible.
pub async fn preflight(req: &PreflightRequest, store: &TargetStore) -> Result<PreflightReport> {
    let target = &req.target;
    let dir = target.migrations.as_ref().ok_or_else(|| {
        Error::Usage(format!(
            "target {}: preflight needs the migration directory with the pending migrations: give --migrations DIR (or migrations = in the target's config)",
            target.name
        ))
    })?;
    let set = migrations::read(dir, target.format)?;
    set.require_some(false)?;
    let rules = IgnoreRules::parse(&target.ignore).map_err(Error::Usage)?;
    let mut live = match req.live {
        LiveFrom::Connect => connected(target, store).await?,
        LiveFrom::Store => stored(target, store, &set, req.applied.as_deref()).await?,
    };
    if let Some(given) = req
        .applied
        .as_ref()
        .filter(|a| live.applied.as_ref() != Some(*a))
    {
        // The drift now is against the history's state at the version given.
        let scans = store.read_scans()?;
        let (findings, warnings) =
            drift_at(target, store, &set, given, &live.snapshot, &scans).await?;
        live.findings = findings;
        live.warnings.extend(warnings);
        live.applied = Some(given.clone());
    }
    let applied = live.applied.clone();
    if let Some(v) = &applied {
        set.up_to(Some(v)).map_err(|_| Error::Input {
            path: set.dir.display().to_string(),
            message: format!("the applied version {v} has no migration file"),
            hint: "point --migrations at the directory the target's tool applies".into(),
        })?;
    }
    let pending = pending(&set, applied.as_deref());
    let mut warnings = std::mem::take(&mut live.warnings);
    if set
        .migrations
        .iter()
        .any(|m| m.kind == MigrationKind::Repeatable)
    {
        warnings.push(
            "repeatable migrations are not preflighted: their tool re-runs them when they change"
                .into(),
        );
    }

    // The shadow of the target's major, holding the live schema.
    let mut shadow_opts = target.shadow.clone();
    if shadow_opts.major.is_none() {
        shadow_opts.major = crate::ddl::plan::snapshot_major(&live.snapshot);
    }
    let (shadow, warning) = Shadow::start(&shadow_opts)?;
    warnings.extend(warning);
    let db = shadow
        .replay_database("driftwatch_preflight", shadow_opts.superuser)
        .await?;
    let result = async {
        let seeded = crate::replay::seed(
            &db,
            &live.snapshot,
            &format!("the live schema of {}", target.name),
        )
        .await?;
        warnings.extend(seeded.warnings);
        // The tool's history table, as the tool keeps it in production
        // (a migration may alter it: Harbor's adds a column to
        // golang-migrate's `schema_migrations`); left out of every capture.
        let mut conn = db.url.connect(&[]).await?;
        let tool = Tool::for_format(set.format);
        if let Err(e) = crate::replay::create_history_table(&mut conn, tool, &pending).await {
            warnings.push(format!(
                "the shadow has no {} history table ({e}): a migration that uses it fails there",
                tool.as_str()
            ));
        }
        let _ = sqlx::Connection::close(conn).await;
        let capture = crate::catalog::CaptureOptions {
            history_tables: HistoryTables::Tool(Tool::for_format(set.format), None),
            ..target.capture.clone()
        };
        let mut session = crate::catalog::CaptureSession::open(&db.url, &capture).await?;
        let start = session
            .capture(crate::catalog::CaptureMode::Full, None)
            .await?;
        run::run_pending(&db, &mut session, start, &pending).await
    };
    // The replay of the same files, for the end state, runs meanwhile (on
    // a shadow of its own): most of a preflight's time on a long history.
    let end_version = pending.last().map(Migration::key).or(applied.clone());
    let end_state = async {
        match &end_version {
            Some(v) => Some(history_state(target, store, &set, v, &live.snapshot).await),
            None => None,
        }
    };
    let (result, end_state) = tokio::join!(result, end_state);
    let _ = shadow.discard(&db).await;
    let mut ran = result?;

    // Failures explained by drift; hazards sized from the target.
    for m in &mut ran.migrations {
        if let PendingOutcome::Fails {
            message,
            explained_by,
            touches,
            ..
        } = &mut m.outcome
        {
            *explained_by = explain(message, touches, &live.findings);
        }
    }
    if live.connected {
        size_hazards(target, &mut ran.migrations, &mut warnings).await;
    } else if ran.migrations.iter().any(|m| !m.hazards.is_empty()) {
        warnings.push(
            "table sizes are unknown without a connection to the target (the store keeps no statistics)"
                .into(),
        );
    }

    // The end state against the replay of the same files.
    let surviving = match (ran.failed, end_state) {
        (true, _) => None,
        (false, None) => Some(Vec::new()),
        (false, Some(expected)) => {
            let compared = crate::diff::compare(&expected?, &ran.end, &rules);
            warnings.extend(compared.warnings);
            Some(compared.changes.iter().map(|c| c.summary()).collect())
        }
    };
    let result = if ran.failed {
        PreflightResult::Fails
    } else if surviving.as_ref().is_some_and(|s| !s.is_empty()) {
        PreflightResult::DriftSurvives
    } else {
        PreflightResult::Ok
    };
    Ok(PreflightReport {
        format: PREFLIGHT_FORMAT,
        target: target.name.clone(),
        live: live.described,
        applied_version: applied,
        result,
        drift: live
            .findings
            .iter()
            .filter(|f| f.object.is_some())
            .map(explanation)
            .collect(),
        migrations: ran.migrations,
        surviving_drift: surviving,
        warnings,
    })
}

/// The versioned migrations after `applied` (all of them when nothing is
/// applied), in run order.
fn pending(set: &MigrationSet, applied: Option<&str>) -> Vec<Migration> {
    set.migrations
        .iter()
        .filter(|m| matches!(m.kind, MigrationKind::Versioned | MigrationKind::Baseline))
        .filter(|m| match (&m.version, applied) {
            (Some(v), Some(a)) => compare_versions(v, a).is_gt(),
            (Some(_), None) => true,
            (None, _) => false,
        })
        .cloned()
        .collect()
}

/// The live schema captured now, with the drift a check finds (recorded
/// nowhere: `check::examine`).
async fn connected(target: &ScanTarget, store: &TargetStore) -> Result<Live> {
    let examined = crate::check::examine(target, store).await?;
    let report = examined.report;
    if let Some(error) = report.error {
        return Err(Error::Usage(format!(
            "target {} ({}): {error}",
            target.name, report.url
        )));
    }
    let snapshot = examined.live.ok_or_else(|| {
        Error::Usage(format!(
            "target {} ({}): the live schema was not captured ({}): nothing to preflight against",
            target.name,
            report.url,
            report.result.as_str()
        ))
    })?;
    Ok(Live {
        described: format!("captured now from {}", report.url),
        snapshot,
        applied: report.applied_version,
        findings: report.findings,
        connected: true,
        warnings: report.warnings,
    })
}

/// The newest live snapshot in the store, the applied version its scan
/// recorded, and the drift against the history's state at that version.
async fn stored(
    target: &ScanTarget,
    store: &TargetStore,
    set: &MigrationSet,
    applied: Option<&str>,
) -> Result<Live> {
    let (stamp, snapshot) = store.latest_live()?.ok_or_else(|| Error::Input {
        path: store.dir().display().to_string(),
        message: format!("holds no live snapshot for target {}", target.name),
        hint: "run driftwatch check (or watch) on the target first, or preflight with a connection"
            .into(),
    })?;
    let scans = store.read_scans()?;
    let recorded = scans
        .iter()
        .rev()
        .find(|r| r.live.as_deref() == Some(snapshot.fingerprint.as_str()))
        .and_then(|r| r.applied.clone());
    let applied = match applied.map(str::to_string).or(recorded) {
        Some(a) => a,
        None => {
            return Err(Error::Input {
                path: store.dir().display().to_string(),
                message: format!(
                    "no scan of target {} recorded the applied version of its live snapshot",
                    target.name
                ),
                hint: "give --applied VERSION, or run driftwatch check on the target again".into(),
            })
        }
    };
    let (findings, warnings) = drift_at(target, store, set, &applied, &snapshot, &scans).await?;
    Ok(Live {
        described: format!("store:{}@live ({stamp})", target.name),
        snapshot,
        applied: Some(applied),
        findings,
        connected: false,
        warnings,
    })
}

/// The drift of `live` against the history's state after `applied`, with
/// since when each finding has been seen in `scans`; and the comparison's
/// warnings.
async fn drift_at(
    target: &ScanTarget,
    store: &TargetStore,
    set: &MigrationSet,
    applied: &str,
    live: &Snapshot,
    scans: &[crate::store::ScanRecord],
) -> Result<(Vec<Finding>, Vec<String>)> {
    let expected = history_state(target, store, set, applied, live).await?;
    let (expected, live) = crate::replay::owners::aligned(expected, live.clone(), true, false);
    let rules = IgnoreRules::parse(&target.ignore).map_err(Error::Usage)?;
    let compared = crate::diff::compare(&expected, &live, &rules);
    let time = crate::util::now_rfc3339();
    let mut findings = crate::report::schema_findings(&compared.changes, &expected, &live, &time);
    crate::check::since(&mut findings, scans);
    Ok((findings, compared.warnings))
}

/// The state after `version` of the files of `set` replayed on an empty
/// database: from the store when its replay of them is current, else
/// replayed now into a scratch store (a branch's files never replace the
/// target's stored replay).
async fn history_state(
    target: &ScanTarget,
    store: &TargetStore,
    set: &MigrationSet,
    version: &str,
    live: &Snapshot,
) -> Result<Snapshot> {
    let mut state = replayed_state(target, store, set, version, live).await?;
    // The replay captured every schema: narrowed as the live capture is.
    state
        .objects
        .retain_schemas(&target.capture.schemas, &target.capture.exclude_schemas);
    crate::history::exclude_history_tables(
        &mut state.objects,
        &HistoryTables::Tool(Tool::for_format(set.format), None),
    );
    Ok(Snapshot::new(state.meta, state.objects))
}

/// [`history_state`] as replayed, every schema.
async fn replayed_state(
    target: &ScanTarget,
    store: &TargetStore,
    set: &MigrationSet,
    version: &str,
    live: &Snapshot,
) -> Result<Snapshot> {
    let mut shadow = target.shadow.clone();
    shadow.major = shadow.major.or(crate::ddl::plan::snapshot_major(live));
    let settings = crate::replay::StateSettings {
        shadow,
        capture: target.capture.clone(),
    };
    let current = crate::replay::is_current(set, store, version)?;
    if current {
        let state = crate::replay::state_after(set, store, version, &settings).await?;
        return Ok(state.snapshot(store)?.0);
    }
    let scratch =
        tempfile::tempdir().map_err(|e| Error::Shadow(format!("a scratch store: {e}")))?;
    let temp = TargetStore::new(scratch.path(), store.target())?;
    // The target's replay, linked file by file: the replay reuses its
    // unchanged leading migrations and captures only the branch's new
    // ones. Store files are replaced by rename, never written in place,
    // so nothing written to the scratch copy reaches the target's.
    std::fs::create_dir_all(temp.dir()).map_err(|e| Error::io(temp.dir(), e))?;
    for part in ["layout", "migrations", "objects"] {
        link_tree(&store.dir().join(part), &temp.dir().join(part))?;
    }
    let state = crate::replay::state_after(set, &temp, version, &settings).await?;
    Ok(state.snapshot(&temp)?.0)
}

/// `from` (a file or a folder) as hard links under `to` (copies where a
/// link cannot be made); nothing when `from` does not exist.
fn link_tree(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(from) {
        Ok(m) => m,
        Err(_) => return Ok(()),
    };
    if meta.is_dir() {
        std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
        for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
            let entry = entry.map_err(|e| Error::io(from, e))?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if meta.is_file() && std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).map_err(|e| Error::io(to, e))?;
    }
    Ok(())
}

/// The drift findings that explain a failure, the surest first: those
/// about an object the server's message names in quotes (`relation
/// "orders_created_idx" already exists`), else about an object it names
/// bare (`must be owner of table registry`; `rule _RETURN on view
/// robot_report depends on column "id"`), else about an object the
/// failing statement touches. The statement quoted after the message is
/// not read: its every word would name something.
fn explain(message: &str, touches: &[String], findings: &[Finding]) -> Vec<Explanation> {
    let server = message.split(" (in `").next().unwrap_or(message);
    let quoted: Vec<&str> = server
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    let names = |o: &crate::diff::ObjectRef, n: &str| {
        o.name == n
            || last_name(&o.name) == n
            || o.name
                .ends_with(&format!(".{}", crate::model::quote_ident(n)))
    };
    let pick = |matches: &dyn Fn(&crate::diff::ObjectRef) -> bool| -> Vec<Explanation> {
        findings
            .iter()
            .filter(|f| f.object.as_ref().is_some_and(matches))
            .map(explanation)
            .collect()
    };
    let found = pick(&|o| quoted.iter().any(|n| names(o, n)));
    if !found.is_empty() {
        return found;
    }
    let unquoted: String = server.split('"').step_by(2).collect::<Vec<_>>().join(" ");
    let words: Vec<&str> = unquoted
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| w.len() >= 3)
        .collect();
    let found = pick(&|o| o.parent.is_none() && words.iter().any(|w| last_name(&o.name) == *w));
    if !found.is_empty() {
        return found;
    }
    pick(&|o| {
        o.parent.is_none()
            && touches
                .iter()
                .any(|t| o.name == *t || o.name == format!("public.{t}"))
    })
}

/// The last name of an identity as `diff` writes it (`public.orders.idx`,
/// `public."odd.name"`, `public.f(integer)`), unquoted: what a server
/// message names.
fn last_name(identity: &str) -> String {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut chars = identity.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(p) = parts.last_mut() {
                    p.push('"');
                }
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            '(' if !quoted => break,
            c => {
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    parts.pop().unwrap_or_default()
}

fn explanation(f: &Finding) -> Explanation {
    Explanation {
        finding: f.message.clone(),
        object: f
            .object
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        since: Some(f.since.clone()).filter(|s| !s.is_empty()),
    }
}

/// Sizes the hazards' tables from the target's statistics (catalog reads
/// on the capture's read-only, time-limited connection). A failure is a
/// warning: the sizes are context, not the answer.
async fn size_hazards(
    target: &ScanTarget,
    migrations: &mut [crate::report::PendingMigration],
    warnings: &mut Vec<String>,
) {
    let tables: std::collections::BTreeSet<(String, String)> = migrations
        .iter()
        .flat_map(|m| m.hazards.iter())
        .filter_map(|h| {
            h.table
                .split_once('.')
                .map(|(s, n)| (s.to_string(), n.to_string()))
        })
        .collect();
    if tables.is_empty() {
        return;
    }
    let read = async {
        let url = crate::database::DatabaseUrl::resolve(&target.url)?;
        let settings = crate::catalog::session_settings(&target.capture);
        let mut conn = url.connect(&settings).await?;
        let (schemas, names): (Vec<String>, Vec<String>) = tables.into_iter().unzip();
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(TABLE_SIZES_SQL)
            .bind(&schemas)
            .bind(&names)
            .fetch_all(&mut conn)
            .await
            .map_err(|e| Error::Shadow(format!("{}: {e}", url.redacted())))?;
        let _ = sqlx::Connection::close(conn).await;
        Ok::<_, Error>(rows)
    };
    match read.await {
        Ok(rows) => {
            for h in migrations.iter_mut().flat_map(|m| m.hazards.iter_mut()) {
                h.size = rows
                    .iter()
                    .find(|(s, n, _, _)| format!("{s}.{n}") == h.table)
                    .map(|(_, _, rows, pages)| TableSize {
                        rows: (*rows >= 0).then_some(*rows),
                        pages: *pages,
                    });
            }
        }
        Err(e) => warnings.push(format!("table sizes could not be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::last_name;

    #[test]
    fn last_names_of_identities_are_unquoted() {
        assert_eq!(
            last_name("public.orders.orders_created_idx"),
            "orders_created_idx"
        );
        assert_eq!(last_name("public.\"odd.na\"\"me\""), "odd.na\"me");
        assert_eq!(last_name("app.total(integer, text)"), "total");
        assert_eq!(last_name("plain"), "plain");
    }
}
