//! `driftwatch baseline`: accept the live schema as a target's expected
//! state. [`prepare`] scans (nothing written) and works out what would be
//! written: the accepted snapshot, optionally the migration that turns the
//! expected state into the live one (in the directory's layout, with a
//! down migration where the layout keeps one) and its history row. The
//! caller confirms; [`apply`] checks that the live schema has not changed
//! since (fingerprint), then writes all of it or nothing: the migration's
//! files go to a hidden folder first, the history row is inserted in a
//! transaction (the only write driftwatch ever makes to a target, see
//! [`record`]), the files are moved into place, the row is committed (a
//! failed commit removes the files again), and the accepted state and its
//! audit record are stored last.

pub mod naming;
pub mod record;

use crate::check::{examine, ScanTarget};
use crate::database::DatabaseUrl;
use crate::ddl::plan::{plan, Plan, PlanOptions};
use crate::error::{Error, Result};
use crate::history::Tool;
use crate::migrations::{self, Format};
use crate::model::Snapshot;
use crate::report::CheckReport;
use crate::report::ScanResult;
use crate::store::{BaselineAudit, TargetStore};
use record::{HistoryTable, Timeouts};
use std::path::{Path, PathBuf};

/// What the admin asked for.
#[derive(Debug, Clone)]
pub struct BaselineRequest {
    /// The target.
    pub target: ScanTarget,
    /// Why (the audit record and the migration's name).
    pub reason: String,
    /// Who.
    pub by: String,
    /// Write the expected → live migration into the migrations directory.
    pub write_migration: bool,
    /// Record that migration as applied in the target's history table.
    pub record_history: bool,
    /// How the migration is written.
    pub plan: PlanOptions,
}

/// A migration to write.
#[derive(Debug, Clone)]
pub struct PendingMigration {
    /// Its version.
    pub version: String,
    /// Files (relative to the migrations directory) and their contents.
    pub files: Vec<(PathBuf, String)>,
    /// The expected → live plan.
    pub plan: Plan,
}

/// What a baseline would do, for the admin to confirm.
#[derive(Debug)]
pub struct Prepared {
    /// The scan: the findings being accepted.
    pub report: CheckReport,
    /// The live schema to accept.
    pub live: Snapshot,
    /// The expected state it replaces, if any.
    pub expected: Option<Snapshot>,
    /// The migration, with `--write-migration` (None when there is no
    /// difference to write).
    pub migration: Option<PendingMigration>,
    /// The history table a row goes into, with `--record-history`: the
    /// one the scan reads.
    pub history: Option<HistoryTable>,
}

/// What was written.
#[derive(Debug)]
pub struct Applied {
    /// The accepted state's file in `baselines/`.
    pub baseline: String,
    /// The migration's files, in the migrations directory.
    pub migration_files: Vec<PathBuf>,
    /// True when the history row was inserted.
    pub history_recorded: bool,
}

fn problem(path: impl Into<String>, message: String, hint: &str) -> Error {
    Error::Input {
        path: path.into(),
        message,
        hint: hint.into(),
    }
}

/// A baseline of `req.target` on `backend`: the target leased (on a fleet
/// store claimed from the preparation to the last write, so no replica
/// scans it meanwhile), prepared, shown to `confirm`, and applied when it
/// says yes. None when it said no (nothing written).
pub async fn accept(
    backend: &crate::store::Backend,
    req: &BaselineRequest,
    confirm: impl FnOnce(&Prepared) -> bool,
) -> Result<Option<Applied>> {
    let lease = backend.checkout(&req.target.name).await?;
    let store = lease.store().clone();
    let prepared = prepare(req, &store).await?;
    if !confirm(&prepared) {
        lease.finish_checked(Some("baseline-declined")).await?;
        return Ok(None);
    }
    let applied = apply(req, &store, prepared).await?;
    lease.finish_checked(Some("baseline")).await?;
    Ok(Some(applied))
}

/// Scans the target and works out the baseline; writes nothing.
pub async fn prepare(req: &BaselineRequest, store: &TargetStore) -> Result<Prepared> {
    if req.record_history && !req.write_migration {
        return Err(Error::Usage(
            "--record-history records the migration --write-migration writes: give both".into(),
        ));
    }
    let examined = examine(&req.target, store).await?;
    let report = examined.report;
    match report.result {
        ScanResult::Failed => {
            return Err(problem(
                report.url.clone(),
                format!(
                    "cannot capture the live schema: {}",
                    report.error.clone().unwrap_or_default()
                ),
                "fix the connection and run baseline again; nothing was written",
            ))
        }
        ScanResult::MigrationInProgress => {
            return Err(problem(
                report.url.clone(),
                "a migration is running".into(),
                "run baseline when the deployment has finished; nothing was written",
            ))
        }
        _ => {}
    }
    let live = examined.live.ok_or_else(|| {
        // Why nothing was compared is in the warnings: shown here, on the
        // one line, so the admin need not run check to learn it.
        let why = if report.warnings.is_empty() {
            "see driftwatch check".to_string()
        } else {
            report.warnings.join("; ")
        };
        problem(
            report.url.clone(),
            format!("the scan compared no schema ({why})"),
            "fix what it says and run baseline again; nothing was written",
        )
    })?;
    let expected = examined.expected;
    let mut migration = None;
    let mut history = None;
    if req.write_migration {
        let dir = req.target.migrations.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "target {} has no migrations directory to write into",
                req.target.name
            ))
        })?;
        let set = migrations::read(dir, req.target.format)?;
        probe_writable(dir)?;
        let empty = Snapshot::new(Default::default(), Default::default());
        let from = expected.as_ref();
        let opts = PlanOptions {
            server_major: crate::ddl::plan::snapshot_major(&live),
            ..req.plan.clone()
        };
        let up = plan(from.unwrap_or(&empty), &live, &opts);
        if !up.is_empty() {
            let down = plan(&live, from.unwrap_or(&empty), &opts);
            let names = naming::new_files(&set, &naming::slug(&req.reason), &report.time);
            for f in std::iter::once(&names.up).chain(names.down.iter()) {
                let path = dir.join(f);
                if path.exists() {
                    return Err(problem(
                        path.display().to_string(),
                        "already exists: the baseline migration would overwrite it".into(),
                        "run baseline again in a second, or rename the file",
                    ));
                }
            }
            // The target's name, the reason and --by are text someone
            // typed: one comment line each, whatever line breaks they hold.
            let header = format!(
                "{}\n{}\n",
                crate::ddl::quote::comment(&format!(
                    "driftwatch baseline of {} at {}: {}",
                    req.target.name,
                    report.time,
                    req.reason.replace(['\r', '\n'], " ")
                )),
                crate::ddl::quote::comment(&format!(
                    "by {}; accepts {} finding(s)",
                    req.by.replace(['\r', '\n'], " "),
                    report.findings.len()
                )),
            );
            let mut files = Vec::new();
            if names.sections {
                let tx = if up.needs_no_transaction() {
                    " transaction:false"
                } else {
                    ""
                };
                files.push((
                    names.up.clone(),
                    format!(
                        "{header}-- migrate:up{tx}\n{}\n-- migrate:down\n{}",
                        up.to_migration_sql(),
                        down.to_migration_sql()
                    ),
                ));
            } else {
                let no_tx = if up.needs_no_transaction() && set.format == Format::Sqlx {
                    "-- no-transaction\n"
                } else {
                    ""
                };
                files.push((
                    names.up.clone(),
                    format!("{no_tx}{header}{}", up.to_migration_sql()),
                ));
                if let Some(d) = &names.down {
                    files.push((d.clone(), format!("{header}{}", down.to_migration_sql())));
                }
            }
            if req.record_history {
                let tool = crate::history::Tool::for_format(set.format);
                if crate::replay::history_row_sql(tool, &placeholder(&names.version), 1).is_none() {
                    return Err(Error::Usage(format!(
                        "--record-history: driftwatch cannot write {} history rows (Flyway, sqlx, golang-migrate, dbmate and Prisma only)",
                        tool.as_str()
                    )));
                }
                history = Some(history_table(req, tool).await?);
            }
            migration = Some(PendingMigration {
                version: names.version,
                files,
                plan: up,
            });
        }
    }
    Ok(Prepared {
        report,
        live,
        expected,
        migration,
        history,
    })
}

/// A migration with only a version, to ask whether a tool's row can be
/// written at all.
fn placeholder(version: &str) -> migrations::Migration {
    migrations::Migration {
        version: Some(version.into()),
        description: String::new(),
        kind: migrations::MigrationKind::Versioned,
        path: PathBuf::new(),
        sql: String::new(),
        first_line: 1,
        checksum: "0".into(),
        no_transaction: false,
        down: None,
    }
}

/// A directory files can be created in: checked before anything is written.
fn probe_writable(dir: &Path) -> Result<()> {
    tempfile::Builder::new()
        .prefix(".driftwatch-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            problem(
                dir.display().to_string(),
                format!("cannot write into the migrations directory ({e})"),
                "run baseline as a user who may write there, or leave out --write-migration",
            )
        })
}

/// The history table the scan reads (found again the same way), which
/// must be `tool`'s: a row goes nowhere else.
async fn history_table(req: &BaselineRequest, tool: Tool) -> Result<HistoryTable> {
    let url = DatabaseUrl::resolve(&req.target.url)?;
    let found = crate::history::read(&url, &req.target.locate).await?;
    if found.tool != tool {
        return Err(problem(
            url.redacted().to_string(),
            format!(
                "--record-history: the history table is {}'s ({}), but the migrations are written for {}",
                found.tool.as_str(),
                HistoryTable::of(&found).qualified(),
                tool.as_str()
            ),
            "set the target's history and format to the tool that migrates it; nothing was written",
        ));
    }
    Ok(HistoryTable::of(&found))
}

/// Writes what `prepared` describes, after checking that the live schema
/// is still the one shown.
pub async fn apply(
    req: &BaselineRequest,
    store: &TargetStore,
    prepared: Prepared,
) -> Result<Applied> {
    // The target changed between the diff the admin saw and now: nothing.
    let again = examine(&req.target, store).await?;
    if again.report.result == ScanResult::MigrationInProgress {
        return Err(problem(
            prepared.report.url.clone(),
            "a migration started since the differences were shown".into(),
            "run baseline when the deployment has finished; nothing was written",
        ));
    }
    let now = again.live.as_ref().map(|l| l.fingerprint.clone());
    if now.as_deref() != Some(prepared.live.fingerprint.as_str()) {
        return Err(problem(
            prepared.report.url.clone(),
            "the live schema changed since it was shown".into(),
            "run baseline again to see the current differences; nothing was written",
        ));
    }
    let _lock = store.lock()?;
    let mut written = Vec::new();
    let mut recorded = false;
    let mut applied_version = prepared.report.applied_version.clone();
    if let (Some(m), Some(dir)) = (&prepared.migration, &req.target.migrations) {
        let staging = tempfile::Builder::new()
            .prefix(".driftwatch-baseline-")
            .tempdir_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        for (rel, text) in &m.files {
            let path = staging.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            crate::util::write_atomic(&path, text.as_bytes())?;
        }
        // The row is inserted first and committed last: a failure before
        // the commit leaves neither the row nor the files.
        let pending = match &prepared.history {
            Some(table) => Some(insert_row(req, dir, staging.path(), m, table).await?),
            None => None,
        };
        let moved = match move_into_place(staging.path(), dir, &m.files) {
            Ok(moved) => moved,
            Err((moved, e)) => {
                remove_moved(&moved);
                if let Some(p) = pending {
                    p.rollback().await;
                }
                return Err(e);
            }
        };
        if let Some(p) = pending {
            if let Err(e) = p.commit().await {
                remove_moved(&moved);
                return Err(e);
            }
            recorded = true;
            applied_version = Some(m.version.clone());
        }
        written = m.files.iter().map(|(rel, _)| dir.join(rel)).collect();
    }
    let baseline = store.add_baseline(
        &prepared.report.time,
        &prepared.live,
        BaselineAudit {
            by: req.by.clone(),
            reason: req.reason.clone(),
            applied_version,
            replaced: prepared.expected.as_ref().map(|e| e.fingerprint.clone()),
            accepted: prepared.report.findings.iter().map(|f| f.id()).collect(),
            migration: written
                .first()
                .and_then(|p| p.file_name())
                .map(|f| f.to_string_lossy().to_string()),
            history_recorded: recorded,
        },
    )?;
    Ok(Applied {
        baseline,
        migration_files: written,
        history_recorded: recorded,
    })
}

/// Inserts (uncommitted) the history row of the staged migration, read
/// from its file as the tool will read it, into the table the scan reads
/// (found again: it must be the one shown).
async fn insert_row(
    req: &BaselineRequest,
    dir: &Path,
    staging: &Path,
    m: &PendingMigration,
    table: &HistoryTable,
) -> Result<record::PendingRow> {
    let staged = migrations::read(staging, Some(read_format(dir, req)?))?;
    let new = staged
        .migrations
        .iter()
        .find(|x| x.version.as_deref() == Some(m.version.as_str()))
        .ok_or_else(|| {
            problem(
                staging.display().to_string(),
                "the written migration does not read back as version ".to_string() + &m.version,
                "report this as a bug; nothing was recorded",
            )
        })?;
    if history_table(req, table.tool).await? != *table {
        return Err(problem(
            req.target.name.clone(),
            "the history table changed since it was shown".into(),
            "run baseline again; nothing was written",
        ));
    }
    let url = DatabaseUrl::resolve(&req.target.url)?;
    let timeouts = Timeouts {
        lock: req.target.capture.lock_timeout,
        statement: req.target.capture.statement_timeout,
    };
    record::insert(&url, table, new, timeouts).await
}

/// Moves the staged files into `dir` (folder layouts: the folder moves as
/// a whole). Returns what was moved, or what was moved before the error.
fn move_into_place(
    staging: &Path,
    dir: &Path,
    files: &[(PathBuf, String)],
) -> std::result::Result<Vec<PathBuf>, (Vec<PathBuf>, Error)> {
    let mut moved: Vec<PathBuf> = Vec::new();
    for (rel, _) in files {
        let Some(top) = rel
            .components()
            .next()
            .map(|c| PathBuf::from(c.as_os_str()))
        else {
            continue;
        };
        let to = dir.join(&top);
        if moved.contains(&to) {
            continue;
        }
        if to.exists() {
            let e = problem(
                to.display().to_string(),
                "appeared while the baseline was written".into(),
                "run baseline again; nothing was recorded",
            );
            return Err((moved, e));
        }
        if let Err(e) = std::fs::rename(staging.join(&top), &to) {
            return Err((moved, Error::io(&to, e)));
        }
        moved.push(to);
    }
    Ok(moved)
}

/// Removes files (or folders) [`move_into_place`] moved.
fn remove_moved(moved: &[PathBuf]) {
    for path in moved {
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
    }
}

fn read_format(dir: &Path, req: &BaselineRequest) -> Result<Format> {
    match req.target.format {
        Some(f) => Ok(f),
        None => Ok(migrations::read(dir, None)?.format),
    }
}
