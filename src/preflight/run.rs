//! The pending migrations applied one by one to the shadow that holds the
//! live schema, as their tool would run them: what each changes, the
//! locks it takes (read from `pg_locks` while its transaction is still
//! open), the tables it rewrites (their storage file replaced), and the
//! statement that fails with the server's message.

use crate::catalog::{CaptureMode, CaptureSession};
use crate::error::{Error, Result};
use crate::migrations::Migration;
use crate::model::Snapshot;
use crate::replay::{apply_open, Held};
use crate::report::{PendingMigration, PendingOutcome, PreflightHazard, PreflightHazardCode};
use crate::shadow::ReplayDatabase;
use sqlx::postgres::PgConnection;
use std::collections::{BTreeMap, BTreeSet};

const STORAGE_SQL: &str = include_str!("sql/storage.sql");
const LOCKS_SQL: &str = include_str!("sql/locks.sql");

/// The pending migrations as run, and the schema after the last one that
/// applied.
pub struct Ran {
    /// One entry per pending migration, in run order.
    pub migrations: Vec<PendingMigration>,
    /// The shadow's schema at the end (after the last migration that ran).
    pub end: Snapshot,
    /// The raw failure of the migration that failed, if one did.
    pub failed: bool,
}

/// Tables of the shadow by oid: (schema.name, storage file).
type Storage = BTreeMap<i64, (String, i64)>;

async fn storage(conn: &mut PgConnection) -> Result<Storage> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(STORAGE_SQL)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::Shadow(format!("reading table storage on the shadow: {e}")))?;
    Ok(rows
        .into_iter()
        .map(|(oid, schema, name, node)| (oid, (format!("{schema}.{name}"), node)))
        .collect())
}

/// Applies `pending` in order on `db` (which holds the live schema, captured
/// as `start`), stopping at the first failure.
pub async fn run_pending(
    db: &ReplayDatabase,
    session: &mut CaptureSession,
    start: Snapshot,
    pending: &[Migration],
) -> Result<Ran> {
    let mut conn = db.url.connect(&[]).await?;
    let mut before = start;
    let mut out = Vec::new();
    let mut failed = false;
    for m in pending {
        let version = m.key();
        let file = m.path.display().to_string();
        if failed {
            out.push(PendingMigration {
                version,
                file,
                outcome: PendingOutcome::NotRun,
                changes: Vec::new(),
                hazards: Vec::new(),
                locks_unmeasured: false,
            });
            continue;
        }
        let tables_before = storage(&mut conn).await?;
        let (locks, unmeasured, hides) = match apply_open(&mut conn, m, Some(db)).await {
            Ok(Held::Open(applied)) => {
                let locks: Vec<(i64, String)> = sqlx::query_as(LOCKS_SQL)
                    .fetch_all(&mut conn)
                    .await
                    .map_err(|e| Error::Shadow(format!("reading locks on the shadow: {e}")))?;
                sqlx::Executor::execute(&mut conn, sqlx::raw_sql("COMMIT"))
                    .await
                    .map_err(|e| Error::Shadow(format!("{file}: COMMIT failed: {e}")))?;
                (locks, false, applied.hides_changes)
            }
            Ok(Held::Done(applied)) => (Vec::new(), true, applied.hides_changes),
            Err(Error::Input { path, message, .. }) => {
                failed = true;
                let touches = touched_at(m, &path);
                out.push(PendingMigration {
                    version,
                    file,
                    outcome: PendingOutcome::Fails {
                        at: path,
                        message: message
                            .strip_prefix("statement failed: ")
                            .unwrap_or(&message)
                            .to_string(),
                        explained_by: Vec::new(),
                        touches,
                    },
                    changes: Vec::new(),
                    hazards: Vec::new(),
                    locks_unmeasured: false,
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let tables_after = storage(&mut conn).await?;
        let mode = if hides {
            CaptureMode::Full
        } else {
            CaptureMode::Incremental
        };
        let after = session.capture(mode, Some(&before.objects)).await?;
        let changes = crate::diff::diff(&before, &after)
            .iter()
            .map(crate::diff::Change::summary)
            .collect();
        let mut hazards = hazards_of(&tables_before, &tables_after, &locks);
        hazards.extend(validations(m, &tables_before));
        hazards.sort_by(|a, b| (a.code, &a.table).cmp(&(b.code, &b.table)));
        hazards.dedup();
        out.push(PendingMigration {
            version,
            file,
            outcome: PendingOutcome::Applies,
            changes,
            hazards,
            locks_unmeasured: unmeasured,
        });
        before = after;
    }
    let _ = sqlx::Connection::close(conn).await;
    Ok(Ran {
        migrations: out,
        end: before,
        failed,
    })
}

/// What the statement of `m` at `at` (`file:line`) touches.
fn touched_at(m: &Migration, at: &str) -> Vec<String> {
    let Some(line) = at.rsplit(':').next().and_then(|n| n.parse::<usize>().ok()) else {
        return Vec::new();
    };
    crate::replay::analyze(m)
        .ok()
        .and_then(|infos| {
            infos
                .into_iter()
                .find(|i| i.line + m.first_line - 1 == line)
        })
        .map(|i| i.touches)
        .unwrap_or_default()
}

/// Rewrites and locks on tables that existed before the migration (a
/// table it creates is locked by nobody else).
fn hazards_of(before: &Storage, after: &Storage, locks: &[(i64, String)]) -> Vec<PreflightHazard> {
    let mut hazards = Vec::new();
    for (oid, (name, node)) in before {
        if after.get(oid).is_some_and(|(_, n)| n != node) {
            hazards.push(hazard(PreflightHazardCode::RewritesTable, name));
        }
    }
    let exclusive: BTreeSet<i64> = locks
        .iter()
        .filter(|(_, mode)| mode == "AccessExclusiveLock")
        .map(|(oid, _)| *oid)
        .collect();
    for (oid, mode) in locks {
        let Some((name, _)) = before.get(oid) else {
            continue;
        };
        // ACCESS EXCLUSIVE says it all: a weaker lock on the same table
        // is no second hazard.
        if mode != "AccessExclusiveLock" && exclusive.contains(oid) {
            continue;
        }
        let code = match mode.as_str() {
            "AccessExclusiveLock" => PreflightHazardCode::AccessExclusiveLock,
            // CREATE INDEX without CONCURRENTLY takes SHARE; the others
            // (triggers, foreign keys) block writes as well.
            _ => PreflightHazardCode::BlocksWrites,
        };
        hazards.push(hazard(code, name));
    }
    hazards
}

fn hazard(code: PreflightHazardCode, table: &str) -> PreflightHazard {
    PreflightHazard {
        code,
        table: table.to_string(),
        size: None,
    }
}

/// Constraints checked against every existing row: `VALIDATE CONSTRAINT`,
/// or a CHECK or FOREIGN KEY added to an existing table without NOT VALID.
fn validations(m: &Migration, before: &Storage) -> Vec<PreflightHazard> {
    let existing: BTreeSet<&str> = before.values().map(|(n, _)| n.as_str()).collect();
    let Ok(statements) = crate::normalize::split_statements(&m.sql) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in statements {
        let upper = s.text.to_ascii_uppercase();
        if !upper.trim_start().starts_with("ALTER TABLE") {
            continue;
        }
        let validates = upper.contains("VALIDATE CONSTRAINT")
            || (upper.contains("ADD CONSTRAINT")
                && (upper.contains("CHECK") || upper.contains("FOREIGN KEY"))
                && !upper.contains("NOT VALID"));
        if !validates {
            continue;
        }
        let touched = crate::normalize::analyze(s.text)
            .ok()
            .and_then(|infos| infos.into_iter().next())
            .map(|i| i.touches)
            .unwrap_or_default();
        for t in touched {
            let qualified = if t.contains('.') {
                t.clone()
            } else {
                format!("public.{t}")
            };
            if existing.contains(qualified.as_str()) {
                out.push(hazard(PreflightHazardCode::ValidatesConstraint, &qualified));
            }
        }
    }
    out
}
