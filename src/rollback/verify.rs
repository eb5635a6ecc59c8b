//! Verifying rollback SQL before it is shown: a shadow database of the
//! snapshot's major is built at the applied state (the lead's
//! [`crate::replay::seed`]), checked against the stored `after`, then each
//! step's SQL is applied as a migration is replayed and the schema compared
//! with the step's expected snapshot.

use super::Verification;
use crate::catalog::{self, CaptureOptions};
use crate::diff::{compare, IgnoreRules};
use crate::error::{Error, Result};
use crate::history::{HistoryTables, Tool};
use crate::migrations::{Migration, MigrationKind};
use crate::model::Snapshot;
use crate::replay::owners::aligned;
use crate::shadow::{ReplayDatabase, Shadow, ShadowOptions};
use crate::store::TargetStore;

/// One SQL script to apply, and the schema it must leave.
pub struct Step {
    /// The name shown in file:line messages.
    pub origin: String,
    /// The SQL (a migration file: no BEGIN/COMMIT of its own).
    pub sql: String,
    /// The stored snapshot the step must reach.
    pub expected: Expected,
}

/// The snapshot a step must reach: read already, or read from the store
/// when the step's turn comes (a long history's are not all held at once).
pub enum Expected {
    /// This snapshot.
    Given(Box<Snapshot>),
    /// The target's stored snapshot of this file name.
    Stored(String),
}

impl Expected {
    fn read(self, store: &TargetStore) -> Result<Snapshot> {
        match self {
            Expected::Given(s) => Ok(*s),
            Expected::Stored(name) => {
                let mut s = store.read_snapshot(&name)?;
                let stem = name.strip_suffix(".json").unwrap_or(&name);
                s.meta.source = format!("store:{}:{stem}", store.target());
                Ok(s)
            }
        }
    }
}

/// Applies `steps` in order on one shadow database seeded with `start`
/// (`start_name` in messages); a verdict per step. A step that fails or
/// differs ends the run: later steps start from a state they were not
/// written for, so they get the same verdict's consequence
/// (`Fails` naming the earlier step).
pub async fn run(
    opts: &ShadowOptions,
    tool: Option<Tool>,
    store: &TargetStore,
    start: &Snapshot,
    start_name: &str,
    steps: Vec<Step>,
) -> Result<Vec<Verification>> {
    let (shadow, warning) = Shadow::start(opts)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let db = shadow
        .replay_database("driftwatch_rollback", opts.superuser)
        .await?;
    let result = run_on(&db, tool, store, start, start_name, steps).await;
    let _ = shadow.discard(&db).await;
    result
}

async fn run_on(
    db: &ReplayDatabase,
    tool: Option<Tool>,
    store: &TargetStore,
    start: &Snapshot,
    start_name: &str,
    steps: Vec<Step>,
) -> Result<Vec<Verification>> {
    crate::replay::seed(db, start, start_name).await?;
    let capture = CaptureOptions {
        // The replayed snapshots leave the tool's history table out; the
        // shadow has none, but a migration could have created one.
        history_tables: match tool {
            Some(t) => HistoryTables::Tool(t, None),
            None => HistoryTables::Detect,
        },
        ..CaptureOptions::default()
    };
    // The rollback starts from the shadow: it must be the applied state,
    // or a verdict about it would be about something else.
    let seeded = capture_aligned(db, &capture, start).await?;
    let off = compare(start, &seeded, &IgnoreRules::default()).changes;
    if !off.is_empty() {
        return Err(Error::Shadow(format!(
            "the shadow rebuilt from {start_name} differs from it ({} difference{}, first: {}); the rollback cannot be verified (please report it)",
            off.len(),
            if off.len() == 1 { "" } else { "s" },
            crate::escape::terminal(&off[0].summary())
        )));
    }
    let mut conn = db.url.connect(&[]).await?;
    let mut verdicts = Vec::with_capacity(steps.len());
    let mut broken: Option<String> = None;
    for step in steps {
        if let Some(earlier) = &broken {
            verdicts.push(Verification::Fails {
                at: step.origin.clone(),
                message: format!("not run: {earlier} did not reach its before"),
            });
            continue;
        }
        let m = as_migration(&step);
        let expected = step.expected.read(store)?;
        // Roles are the cluster's, not the schema's: the target still has
        // the roles its earlier schema granted to, so the shadow gets them
        // too (the seed created those of the applied state).
        let roles: Vec<String> = crate::replay::roles_named(&expected.objects)
            .into_iter()
            .collect();
        crate::replay::create_roles(db, &roles, true).await?;
        if let Err(e) = crate::replay::apply_as(&mut conn, &m, Some(db)).await {
            let (at, message) = match e {
                Error::Input { path, message, .. } => (path, message),
                other => (step.origin.clone(), other.to_string()),
            };
            verdicts.push(Verification::Fails { at, message });
            broken = Some(step.origin);
            continue;
        }
        let mut got = capture_aligned(db, &capture, &expected).await?;
        // The DDL diffs name their sides: the shadow's URL says nothing
        // useful (and names a socket path).
        got.meta.source = format!("{} applied on a shadow", step.origin);
        let changes = compare(&expected, &got, &IgnoreRules::default()).changes;
        if changes.is_empty() {
            let major = crate::ddl::plan::snapshot_major(&got)
                .map_or_else(|| "?".to_string(), |m| m.to_string());
            verdicts.push(Verification::Converges {
                how: if verdicts.is_empty() {
                    format!("applied on a PostgreSQL {major} shadow rebuilt from {start_name}")
                } else {
                    format!(
                        "applied on the same PostgreSQL {major} shadow after the step before it"
                    )
                },
            });
        } else {
            let ddl = crate::report::ddl_diffs(&changes, &expected, &got);
            verdicts.push(Verification::Differs { changes, ddl });
            broken = Some(step.origin);
        }
    }
    let _ = sqlx::Connection::close(conn).await;
    Ok(verdicts)
}

/// The shadow's schema with the replay role read as `expected`'s owner.
async fn capture_aligned(
    db: &ReplayDatabase,
    capture: &CaptureOptions,
    expected: &Snapshot,
) -> Result<Snapshot> {
    let (got, _) = catalog::capture(&db.url, capture).await?;
    let (got, _) = aligned(got, expected.clone(), true, false);
    Ok(got)
}

/// A step as a migration, so it runs exactly as a replay runs a file
/// (one implicit transaction, or statement by statement when a statement
/// refuses a transaction block; extension statements as superuser).
fn as_migration(step: &Step) -> Migration {
    Migration {
        version: None,
        description: step.origin.clone(),
        kind: MigrationKind::Versioned,
        path: step.origin.clone().into(),
        sql: step.sql.clone(),
        first_line: 1,
        checksum: String::new(),
        no_transaction: false,
        down: None,
    }
}
