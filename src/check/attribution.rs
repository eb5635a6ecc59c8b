//! Attribution and "since when": who last touched a drifted object (from
//! the changelog of the replayed migrations) and since which scan a finding
//! has been seen (from `scans.jsonl`).

use crate::diff::{diff_with, Renames};
use crate::error::Result;
use crate::report::{Attribution, Finding, MigrationName};
use crate::store::{ScanRecord, StoredMigration, TargetStore};
use std::collections::HashSet;

/// The keys a change is about: `kind:name`, and its top-level object.
fn keys_of(change: &crate::diff::Change) -> Vec<String> {
    let mut keys = vec![format!(
        "{}:{}",
        change.object.kind.as_str(),
        change.object.name
    )];
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
            if touched.contains(&key) {
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
        let id = f.id();
        for s in compared.iter().rev() {
            if s.findings.contains(&id) {
                f.since = s.time.clone();
            } else {
                break;
            }
        }
    }
}
