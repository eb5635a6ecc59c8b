//! Attribution and "since when": who last touched a drifted object (from
//! the changelog of the replayed migrations) and since which scan a finding
//! has been seen (from `scans.jsonl`).

use crate::diff::{diff_with, ChangeCode, Renames};
use crate::error::Result;
use crate::report::{Attribution, Finding, FindingCode, MigrationName};
use crate::store::{ScanRecord, StoredMigration, TargetStore};
use std::collections::HashSet;

/// The keys a change is about: `kind:name`, and its top-level object; an
/// added top-level object also as `created:kind:name` (what it had when
/// created, its columns and indexes, came with it: the diff folds them).
fn keys_of(change: &crate::diff::Change) -> Vec<String> {
    let key = format!("{}:{}", change.object.kind.as_str(), change.object.name);
    let mut keys = Vec::with_capacity(3);
    if change.object.parent.is_none() && matches!(change.code, ChangeCode::Added(_)) {
        keys.push(format!("created:{key}"));
    }
    keys.push(key);
    if let Some(parent) = &change.object.parent {
        keys.push(parent.clone());
    }
    keys
}

/// Names, for each schema finding, the newest of `applied` (the replayed
/// migrations up to the applied version, in run order) whose changes touch
/// its object; `out-of-band` when none did. Reads the migrations' stored
/// snapshots newest first and stops when every finding is attributed.
pub fn attribute(
    findings: &mut [Finding],
    store: &TargetStore,
    applied: &[StoredMigration],
) -> Result<()> {
    let mut open: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].object.is_some())
        .collect();
    for m in applied.iter().rev() {
        if open.is_empty() {
            break;
        }
        if m.before_fingerprint == m.after_fingerprint {
            continue;
        }
        let before = store.read_snapshot(&m.before)?;
        let after = store.read_snapshot(&m.after)?;
        let renames = match &m.renames {
            Some(list) => Renames::Given(list),
            None => Renames::Inferred,
        };
        let touched: HashSet<String> = diff_with(&before, &after, renames)
            .iter()
            .flat_map(keys_of)
            .collect();
        open.retain(|&i| {
            let Some(o) = &findings[i].object else {
                return false;
            };
            let key = format!("{}:{}", o.kind.as_str(), o.name);
            // A part the expected state has (the finding is not its
            // addition) came with its object's creation when no later
            // migration touched it.
            let expected_part =
                !matches!(findings[i].code, FindingCode::Schema(ChangeCode::Added(_)));
            let created_with_parent = expected_part
                && o.parent
                    .as_ref()
                    .is_some_and(|p| touched.contains(&format!("created:{p}")));
            if touched.contains(&key) || created_with_parent {
                findings[i].attribution = Some(Attribution::Migration {
                    migration: MigrationName {
                        version: m.version.clone(),
                        description: m.description.clone(),
                        file: Some(m.file.clone()),
                    },
                });
                false
            } else {
                true
            }
        });
    }
    for i in open {
        findings[i].attribution = Some(Attribution::OutOfBand);
    }
    Ok(())
}

/// Sets each finding's `since`: the time of the first scan of the unbroken
/// run of comparing scans, ending with this one, that had it. Scans that
/// compared nothing (failed, migration in progress) neither start nor
/// break a run.
pub fn since(findings: &mut [Finding], scans: &[ScanRecord]) {
    let compared: Vec<&ScanRecord> = scans.iter().filter(|s| s.result.compared()).collect();
    for f in findings.iter_mut() {
        if let Some(since) = crate::store::first_seen(&compared, &f.id()) {
            f.since = since;
        }
    }
}
