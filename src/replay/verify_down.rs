//! `replay --verify-down`: right after a migration is applied and its
//! `after` captured, its down file runs on the same shadow, the schema is
//! captured (incrementally: only what the down file touched is read
//! again) and compared with the `before`; the migration then runs again
//! and the schema is compared with the `after`. Whatever the down file did,
//! the shadow is left in the `after` state for the next migration: when
//! the down file or the second run of the migration leaves it elsewhere,
//! the planner's SQL from where it is to the `after` brings it back.

use crate::catalog::{CaptureMode, CaptureSession};
use crate::ddl::plan::{plan, PlanOptions};
use crate::diff::{compare, IgnoreRules};
use crate::error::{Error, Result};
use crate::migrations::{DownCheck, DownVerdict, Migration, MigrationKind};
use crate::model::Snapshot;
use crate::shadow::ReplayDatabase;
use crate::store::TargetStore;
use sqlx::postgres::PgConnection;
use std::sync::Arc;

/// The shadow, its capture session and what the replay knows of the
/// migration being verified.
pub(super) struct Verifier<'a> {
    /// The session that applies migrations.
    pub conn: &'a mut PgConnection,
    /// The replay database (routing of extension statements).
    pub shadow: &'a ReplayDatabase,
    /// The replay's capture session: its last capture is `after`.
    pub session: &'a mut CaptureSession,
    /// Capture everything every time (`--full-capture`).
    pub full_capture: bool,
    /// Where the `before` snapshot is read from when the replay does not
    /// hold it in memory (the first migration after reused ones).
    pub store: &'a TargetStore,
}

/// The state before the migration: in memory, or its stored file and
/// fingerprint.
pub(super) struct Before<'a> {
    /// The snapshot, when the replay holds it.
    pub snapshot: Option<&'a Snapshot>,
    /// Its file in the store.
    pub file: &'a str,
    /// Its fingerprint.
    pub fingerprint: &'a str,
}

impl Verifier<'_> {
    /// Verifies `m`'s down file; the verdict, and the snapshot of the
    /// shadow's state (equal to `after`) that the session's next
    /// incremental capture builds on.
    pub async fn verify(
        &mut self,
        m: &Migration,
        before: Before<'_>,
        after: Arc<Snapshot>,
    ) -> Result<(DownCheck, Arc<Snapshot>)> {
        let Some(down) = &m.down else {
            let check = DownCheck {
                verdict: DownVerdict::NoDownFile,
                file: None,
                checksum: None,
                differences: Vec::new(),
                failure: None,
            };
            return Ok((check, after));
        };
        let mut check = DownCheck {
            verdict: DownVerdict::Restores,
            file: Some(down.path.display().to_string()),
            checksum: Some(down.checksum.clone()),
            differences: Vec::new(),
            failure: None,
        };
        let script = down.as_migration(m);
        let mut state = match self.run(&script).await? {
            Err(failure) => {
                check.verdict = DownVerdict::Fails;
                check.failure = Some(failure);
                // Usually rolled back whole; a file run outside a
                // transaction may have stopped half way.
                let now = self.capture(true, &after).await?;
                return Ok((check, self.back_to(m, now, after).await?));
            }
            // Whole objects dropped are seen by the incremental capture's
            // inventory (unless a publication may list a dropped table).
            Ok(hides) => {
                let seen = after.objects.publications.is_empty()
                    && crate::normalize::hidden_only_by_whole_drops(&down.sql);
                self.capture(hides && !seen, &after).await?
            }
        };
        if state.fingerprint != before.fingerprint {
            check.verdict = DownVerdict::LeavesDifferences;
            let loaded;
            let before_snapshot = match before.snapshot {
                Some(s) => s,
                None => {
                    loaded = self.store.read_snapshot(before.file)?;
                    &loaded
                }
            };
            check.differences = differences(before_snapshot, &state);
        }
        // The migration again, on what the down file left. One that writes
        // data (or runs DO blocks, which may) runs in a transaction that is
        // rolled back: committed twice, its rows would be there twice and a
        // later migration that counts on them would fail on the shadow
        // (Harbor's 0050 after its 0041). Whether it fails is the verdict;
        // the planner's SQL then brings the schema back to the `after`.
        let schema_only = super::analyze(m).is_ok_and(|infos| {
            crate::normalize::migration_class(&infos) == crate::normalize::MigrationClass::Schema
        });
        if !schema_only {
            // Rolled back whole (or failed whole in its transaction):
            // nothing changed since `state`; otherwise capture it all.
            let unchanged = match super::apply_open(self.conn, m, Some(self.shadow)).await {
                Ok(super::Held::Open(_)) => {
                    sqlx::Executor::execute(&mut *self.conn, sqlx::raw_sql("ROLLBACK"))
                        .await
                        .map_err(|e| {
                            Error::Shadow(format!("{}: ROLLBACK: {e}", m.path.display()))
                        })?;
                    true
                }
                Ok(super::Held::Done(_)) => false,
                Err(Error::Input { path, message, .. }) => {
                    if check.verdict == DownVerdict::Restores {
                        check.verdict = DownVerdict::UpAgainDiffers;
                        check.failure = Some(format!("{path}: {message}"));
                    }
                    false
                }
                Err(other) => return Err(other),
            };
            let now = if unchanged {
                state
            } else {
                self.capture(true, &state).await?
            };
            return Ok((check, self.back_to(m, now, after).await?));
        }
        match self.run(m).await? {
            Err(failure) => {
                if check.verdict == DownVerdict::Restores {
                    check.verdict = DownVerdict::UpAgainDiffers;
                    check.failure = Some(failure);
                }
                state = self.capture(true, &state).await?;
            }
            Ok(hides) => {
                state = self.capture(hides, &state).await?;
                if state.fingerprint != after.fingerprint && check.verdict == DownVerdict::Restores
                {
                    check.verdict = DownVerdict::UpAgainDiffers;
                    check.differences = differences(&after, &state);
                }
            }
        }
        Ok((check, self.back_to(m, state, after).await?))
    }

    /// Applies `m`; a failure of its SQL as one line (file:line, the
    /// statement, the server's message), or whether a statement hides its
    /// effect from the incremental capture.
    async fn run(&mut self, m: &Migration) -> Result<std::result::Result<bool, String>> {
        match super::apply_as(self.conn, m, Some(self.shadow)).await {
            Ok(applied) => Ok(Ok(applied.hides_changes)),
            Err(Error::Input { path, message, .. }) => Ok(Err(format!("{path}: {message}"))),
            Err(other) => Err(other),
        }
    }

    /// The shadow's schema now; `previous` is the session's last capture.
    async fn capture(&mut self, full: bool, previous: &Snapshot) -> Result<Arc<Snapshot>> {
        let mode = if full || self.full_capture {
            CaptureMode::Full
        } else {
            CaptureMode::Incremental
        };
        let mut snapshot = self.session.capture(mode, Some(&previous.objects)).await?;
        snapshot.meta = previous.meta.clone();
        Ok(Arc::new(snapshot))
    }

    /// Brings the shadow from `now` back to `after` with the planner's SQL
    /// when they differ: later migrations must run on the state the store
    /// records. Returns the session's last capture.
    async fn back_to(
        &mut self,
        m: &Migration,
        now: Arc<Snapshot>,
        after: Arc<Snapshot>,
    ) -> Result<Arc<Snapshot>> {
        if now.fingerprint == after.fingerprint {
            return Ok(now);
        }
        // The shadow only: its column order must come back too (a down
        // file that drops and re-adds a column leaves it last).
        let opts = PlanOptions {
            allow_drops: true,
            reorder_columns: true,
            ..PlanOptions::default()
        };
        let sql = plan(&now, &after, &opts).to_migration_sql();
        let repair = Migration {
            version: m.version.clone(),
            description: m.description.clone(),
            kind: MigrationKind::Down,
            path: format!("{} (the state after it, restored)", m.path.display()).into(),
            sql,
            first_line: 1,
            checksum: String::new(),
            no_transaction: false,
            down: None,
        };
        let stuck = |why: String| {
            Error::Shadow(format!(
                "{}: after its down file ran, the shadow could not be brought back to the state after the migration ({why}); the later migrations cannot be verified",
                m.path.display()
            ))
        };
        if let Err(failure) = self.run(&repair).await? {
            return Err(stuck(failure));
        }
        let state = self.capture(true, &now).await?;
        if state.fingerprint != after.fingerprint {
            let left = differences(&after, &state);
            return Err(stuck(format!(
                "{} difference(s) left, first: {}",
                left.len(),
                left.first().map_or("", String::as_str)
            )));
        }
        Ok(state)
    }
}

/// The changes from `expected` to `got`, one line each as `diff`
/// summarizes them. Both sides are replays on the same shadow, by the same
/// role: owners compare as they are.
fn differences(expected: &Snapshot, got: &Snapshot) -> Vec<String> {
    compare(expected, got, &IgnoreRules::default())
        .changes
        .iter()
        .map(|c| c.summary())
        .collect()
}
