//! `driftwatch rollback`: the SQL that takes a target's applied schema back
//! to the state before its last migrations, planned from the store's
//! replayed snapshots (`after` of the applied migration → `before` of the
//! first one rolled back) and verified on a shadow before it is shown. It
//! never runs against a target.
//!
//! `--write` turns the same idea into the down files the directory's own
//! tool runs, one per migration (its `after` → its `before`), verified in
//! the order the tool would run them.

mod history;
mod render;
mod report;
mod verify;
mod write;

pub use render::{render_markdown, render_text};
pub use report::{
    HistoryEffect, MigrationName, RollbackReport, RolledBack, Verification, WrittenFile,
    ROLLBACK_FORMAT,
};

use crate::ddl::plan::{plan, snapshot_major, PlanOptions};
use crate::diff::{diff_with, ChangeCode, ObjectKind, Renames};
use crate::error::{Error, Result};
use crate::migrations::Format;
use crate::model::Snapshot;
use crate::normalize::MigrationClass;
use crate::shadow::ShadowOptions;
use crate::store::{MigrationIndex, StoredMigration, TargetStore};
use crate::util::Named;
use std::path::PathBuf;

/// How far back, and how.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// The applied version (default: the newest replayed migration).
    pub from: Option<String>,
    /// The version left applied (exclusive with `steps`).
    pub to: Option<String>,
    /// How many migrations to roll back (default 1).
    pub steps: Option<usize>,
    /// The planner's settings (`--allow-drops`, `--concurrently`, …).
    pub plan: PlanOptions,
    /// Where shadows run (the major is set to the snapshot's).
    pub shadow: ShadowOptions,
    /// Write the tool's down files into this migration directory.
    pub write: Option<PathBuf>,
}

/// The migrations a rollback covers, as positions in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Position of the applied migration.
    pub applied: usize,
    /// Position of the first migration rolled back (the state reached is
    /// its `before`).
    pub first: usize,
}

/// Which migrations `opts` rolls back in `index`; one clear line when a
/// version is unknown or there are fewer migrations than steps.
pub fn select(index: &MigrationIndex, opts: &RollbackOptions) -> Result<Selection> {
    let unknown = |v: &str, what: &str| {
        let known: Vec<String> = index
            .migrations
            .iter()
            .filter_map(|m| m.version.clone())
            .collect();
        Error::Usage(format!(
            "{what} {v} is not a replayed migration of target {} (its versions: {})",
            index.target,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    };
    if index.migrations.is_empty() {
        return Err(Error::Usage(format!(
            "target {} has no replayed migration to roll back",
            index.target
        )));
    }
    let applied = match &opts.from {
        Some(v) => position(index, v).ok_or_else(|| unknown(v, "--from"))?,
        None => index.migrations.len() - 1,
    };
    let first = match (&opts.to, opts.steps) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give --to VERSION or --steps N, not both".into(),
            ))
        }
        (Some(v), None) => {
            let kept = position(index, v).ok_or_else(|| unknown(v, "--to"))?;
            if kept >= applied {
                return Err(Error::Usage(format!(
                    "--to {v} is not before the applied migration {}: nothing to roll back",
                    label(&index.migrations[applied])
                )));
            }
            kept + 1
        }
        (None, steps) => {
            let steps = steps.unwrap_or(1);
            if steps == 0 {
                return Err(Error::Usage("--steps must be at least 1".into()));
            }
            if steps > applied + 1 {
                return Err(Error::Usage(format!(
                    "--steps {steps} is more than the {} migration{} applied up to {} in target {}",
                    applied + 1,
                    if applied == 0 { "" } else { "s" },
                    label(&index.migrations[applied]),
                    index.target
                )));
            }
            applied + 1 - steps
        }
    };
    Ok(Selection { applied, first })
}

fn position(index: &MigrationIndex, version: &str) -> Option<usize> {
    index.migrations.iter().position(|m| {
        m.version.as_deref().is_some_and(|v| {
            v == version || crate::migrations::compare_versions(v, version).is_eq()
        })
    })
}

fn label(m: &StoredMigration) -> String {
    name_of(m).label()
}

fn name_of(m: &StoredMigration) -> MigrationName {
    MigrationName {
        version: m.version.clone(),
        description: m.description.clone(),
    }
}

/// Plans, verifies and (with `write`) writes the rollback of the target
/// in `store`.
pub async fn rollback(store: &TargetStore, opts: &RollbackOptions) -> Result<RollbackReport> {
    let index = store.read_index()?.ok_or_else(|| Error::Input {
        path: store.migrations_dir().display().to_string(),
        message: format!("holds no replayed migrations for target {}", store.target()),
        hint: "run driftwatch replay DIR --target NAME first".into(),
    })?;
    let sel = select(&index, opts)?;
    let format = Format::from_name(&index.migration_format);
    // Refuse before any work when the files cannot be written.
    if let Some(dir) = &opts.write {
        write::check_layout(format, dir)?;
    }
    let applied = &index.migrations[sel.applied];
    let first = &index.migrations[sel.first];
    let after = store.read_snapshot(&applied.after)?;
    let mut before = store.read_snapshot(&first.before)?;
    // Reports name the stored side as a `store:` source would.
    before.meta.source = format!("store:{}@{}:before", store.target(), applied_key(first));
    let rolled: Vec<&StoredMigration> = index.migrations[sel.first..=sel.applied]
        .iter()
        .rev()
        .collect();

    let options = PlanOptions {
        server_major: snapshot_major(&after),
        ..opts.plan.clone()
    };
    let the_plan = plan(&after, &before, &options);
    let mut warnings = the_plan.warnings.clone();
    let mut data_loss = Vec::new();
    // One pass over the rolled-back migrations, each snapshot pair read
    // once (a long history's snapshots are not all held at once): what
    // each dropped, and with --write its own down file.
    let mut downs = Vec::new();
    for m in &rolled {
        if matches!(m.class, MigrationClass::Data | MigrationClass::Mixed) {
            warnings.push(format!(
                "{} changed data ({}): the rollback restores the schema, not the data",
                label(m),
                if m.class == MigrationClass::Data {
                    "a data migration"
                } else {
                    "schema and data"
                }
            ));
        }
        let down = if m.before_fingerprint == m.after_fingerprint {
            crate::ddl::plan::Plan {
                settings: Vec::new(),
                statements: Vec::new(),
                warnings: Vec::new(),
            }
        } else {
            let (a, b) = (
                store.read_snapshot(&m.after)?,
                store.read_snapshot(&m.before)?,
            );
            data_loss.extend(dropped_by(m, &b, &a));
            if opts.write.is_none() {
                continue;
            }
            let options = PlanOptions {
                server_major: snapshot_major(&a),
                ..opts.plan.clone()
            };
            let down = plan(&a, &b, &options);
            warnings.extend(
                down.warnings
                    .iter()
                    .map(|w| format!("down file of {}: {w}", label(m))),
            );
            down
        };
        downs.push((name_of(m), down, m.before.clone()));
    }
    data_loss.extend(lost_by_plan(&the_plan));
    let tool = format.map(crate::history::Tool::for_format);
    let history = tool.and_then(|t| history::effect(t, &index, sel));
    // Refuse (an existing down file, a layout without one) before any
    // shadow work.
    let staged = match (&opts.write, format) {
        (Some(dir), Some(format)) => Some(write::stage(format, dir, &downs)?),
        _ => None,
    };

    let target = store.target();
    let shadow = ShadowOptions {
        major: snapshot_major(&after).or(opts.shadow.major),
        ..opts.shadow.clone()
    };
    let from_label = format!("store:{target}@{}:after", applied_key(applied));
    let verification = if applied.after_fingerprint == first.before_fingerprint {
        Verification::Converges {
            how: "the applied state equals the stored before: nothing to undo".into(),
        }
    } else {
        let steps = vec![verify::Step {
            origin: "rollback.sql".into(),
            sql: the_plan.to_migration_sql(),
            expected: verify::Expected::Given(Box::new(before)),
        }];
        verify::run(&shadow, tool, store, &after, &from_label, steps)
            .await?
            .remove(0)
    };

    let mut written = Vec::new();
    if let Some(staged) = staged {
        let steps = staged
            .iter()
            .zip(downs)
            .map(|(s, (_, p, before))| verify::Step {
                origin: s.path.display().to_string(),
                sql: p.to_migration_sql(),
                expected: verify::Expected::Stored(before),
            })
            .collect();
        let verdicts = verify::run(&shadow, tool, store, &after, &from_label, steps).await?;
        written = write::commit(staged, verdicts)?;
    }
    Ok(RollbackReport {
        format: ROLLBACK_FORMAT,
        target: target.to_string(),
        from: name_of(applied),
        to: sel
            .first
            .checked_sub(1)
            .map(|i| name_of(&index.migrations[i])),
        rolled_back: rolled
            .iter()
            .map(|m| RolledBack {
                name: name_of(m),
                class: m.class,
                file: m.file.clone(),
            })
            .collect(),
        plan: the_plan,
        verification,
        data_loss,
        warnings,
        history,
        written,
    })
}

fn applied_key(m: &StoredMigration) -> String {
    m.version
        .clone()
        .unwrap_or_else(|| format!("R:{}", m.description))
}

/// What migration `m` dropped with its data: the rollback re-creates those
/// objects empty. The migration's own renames are renames, and an object
/// that reappears under the same name in another schema moved (SET
/// SCHEMA, a renamed schema): neither lost data going forward.
fn dropped_by(m: &StoredMigration, before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let renames = match &m.renames {
        Some(list) => Renames::Given(list),
        None => Renames::Inferred,
    };
    let changes = diff_with(before, after, renames);
    // The name without its schema: `events`, `events.id`.
    let last = |name: &str| name.split_once('.').map_or(name, |(_, n)| n).to_string();
    let added: std::collections::BTreeSet<(ObjectKind, String)> = changes
        .iter()
        .filter(|c| matches!(c.code, ChangeCode::Added(_)))
        .map(|c| (c.object.kind, last(&c.object.name)))
        .collect();
    changes
        .iter()
        .filter_map(|c| match c.code {
            // A view's columns hold no data; a table's do.
            ChangeCode::Removed(kind @ (ObjectKind::Table | ObjectKind::Column))
                if (kind == ObjectKind::Table
                    || c.object
                        .parent
                        .as_deref()
                        .is_some_and(|p| p.starts_with("table:")))
                    && !added.contains(&(kind, last(&c.object.name))) =>
            {
                Some(format!(
                    "{} dropped {} {} with its data: the rollback re-creates it empty",
                    label(m),
                    kind.as_str(),
                    c.object.name
                ))
            }
            _ => None,
        })
        .collect()
}

/// The statements of the rollback itself that lose data (dropping what the
/// rolled-back migrations created, narrowing types).
fn lost_by_plan(p: &crate::ddl::plan::Plan) -> Vec<String> {
    p.statements
        .iter()
        .filter(|s| s.hazards.iter().any(|h| h.loses_data()))
        .map(|s| {
            let codes: Vec<&str> = s
                .hazards
                .iter()
                .filter(|h| h.loses_data())
                .map(|h| h.as_str())
                .collect();
            let first_line = s.sql.lines().next().unwrap_or_default();
            format!(
                "{}: {first_line}{}",
                codes.join(", "),
                if s.enabled {
                    ""
                } else {
                    " (held back: written commented out; --allow-drops runs it)"
                }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(versions: &[Option<&str>]) -> MigrationIndex {
        MigrationIndex {
            format: crate::store::INDEX_FORMAT.into(),
            target: "t".into(),
            source: "dir".into(),
            migration_format: "golang-migrate".into(),
            migrations: versions
                .iter()
                .map(|v| StoredMigration {
                    version: v.map(str::to_string),
                    description: format!("m{}", v.unwrap_or("r")),
                    kind: crate::migrations::MigrationKind::Versioned,
                    class: MigrationClass::Schema,
                    checksum: String::new(),
                    file: String::new(),
                    before: String::new(),
                    after: String::new(),
                    before_fingerprint: String::new(),
                    after_fingerprint: String::new(),
                    statements: 1,
                    renames: None,
                    down: None,
                })
                .collect(),
        }
    }

    fn opts(from: Option<&str>, to: Option<&str>, steps: Option<usize>) -> RollbackOptions {
        RollbackOptions {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            steps,
            plan: PlanOptions::default(),
            shadow: ShadowOptions::default(),
            write: None,
        }
    }

    #[test]
    fn selections_count_back_from_the_applied_migration() {
        let ix = index(&[Some("001"), Some("002"), Some("003"), None]);
        let sel = |o| select(&ix, &o).map(|s| (s.first, s.applied));
        assert_eq!(sel(opts(None, None, None)).unwrap(), (3, 3));
        assert_eq!(sel(opts(None, None, Some(4))).unwrap(), (0, 3));
        assert_eq!(sel(opts(Some("2"), None, Some(2))).unwrap(), (0, 1));
        assert_eq!(sel(opts(None, Some("001"), None)).unwrap(), (1, 3));
        assert_eq!(sel(opts(Some("003"), Some("002"), None)).unwrap(), (2, 2));
        for (o, needle) in [
            (
                opts(None, None, Some(5)),
                "--steps 5 is more than the 4 migrations",
            ),
            (opts(None, None, Some(0)), "--steps must be at least 1"),
            (
                opts(Some("9"), None, None),
                "--from 9 is not a replayed migration",
            ),
            (opts(None, Some("003"), Some(1)), "not both"),
            (
                opts(Some("002"), Some("003"), None),
                "is not before the applied",
            ),
        ] {
            let e = sel(o).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn history_effects_name_the_rows_each_tool_removes() {
        let ix = index(&[Some("001"), Some("002"), Some("003")]);
        let sel = Selection {
            first: 1,
            applied: 2,
        };
        let generic = history::effect(crate::history::Tool::Generic, &ix, sel).unwrap();
        assert_eq!(generic.rows_removed, ["003", "002"]);
        assert_eq!(generic.afterwards, "the newest row left is version 001");
        let golang = history::effect(crate::history::Tool::GolangMigrate, &ix, sel).unwrap();
        assert_eq!(golang.rows_removed, ["3 (dirty false)"]);
        assert_eq!(golang.afterwards, "one row: version 1, dirty false");
        let all = Selection {
            first: 0,
            applied: 2,
        };
        let golang = history::effect(crate::history::Tool::GolangMigrate, &ix, all).unwrap();
        assert_eq!(golang.afterwards, "no row (migrate down to nothing)");
        assert!(history::effect(crate::history::Tool::Prisma, &ix, sel).is_none());
    }
}
