//! Owners of replayed objects. Migrations replay as
//! [`crate::shadow::REPLAY_ROLE`], so it owns what they create (and grants
//! what they grant) where the live database has the role that ran them.
//! When one side of a comparison is a replay and the other is not, the
//! replay role is read as the other side's migrating role (the one owning
//! most of its schema, as the migration planner presumes): an owner that
//! differs from that role is still reported.

use crate::model::{Objects, Snapshot};
use crate::shadow::REPLAY_ROLE;
use serde_json::Value;

/// Fields that name a role.
const ROLE_FIELDS: &[&str] = &["owner", "grantee", "grantor", "role"];

/// True when `objects` may name the replay role: its name as a whole JSON
/// string anywhere in the canonical JSON (streamed, on every core, never
/// held whole: a 10,000-table snapshot as a `serde_json::Value` cost half a
/// second and 100 MB). A table of that name also matches; reading the role
/// as another one then changes nothing, since only role fields are renamed.
pub fn mentions_replay_role(objects: &Objects) -> bool {
    let needle = format!("\"{REPLAY_ROLE}\"");
    let needle = needle.as_bytes();
    let mut tail: Vec<u8> = Vec::with_capacity(2 * needle.len());
    let mut found = false;
    crate::model::compact::write_objects(objects, &mut |bytes| {
        if found {
            return;
        }
        // The end of the previous piece and the start of this one: a name
        // split between two pieces.
        tail.extend_from_slice(&bytes[..bytes.len().min(needle.len())]);
        found = contains(&tail, needle) || contains(bytes, needle);
        let keep = bytes.len().min(needle.len() - 1);
        tail.clear();
        tail.extend_from_slice(&bytes[bytes.len() - keep..]);
    });
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `snapshot` with the replay role read as `role`.
pub fn as_role(snapshot: Snapshot, role: &str) -> Snapshot {
    let Ok(mut value) = serde_json::to_value(&snapshot.objects) else {
        return snapshot;
    };
    rename(&mut value, role);
    match serde_json::from_value::<Objects>(value) {
        Ok(objects) => Snapshot::new(snapshot.meta, objects),
        Err(_) => snapshot,
    }
}

fn rename(v: &mut Value, role: &str) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if ROLE_FIELDS.contains(&k.as_str()) && v.as_str() == Some(REPLAY_ROLE) {
                    *v = Value::String(role.to_string());
                } else {
                    rename(v, role);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename(i, role)),
        _ => {}
    }
}

/// The pair to compare: when exactly one side holds objects of the replay
/// role, that side with the role read as the other side's main owner.
/// `a_replayed` / `b_replayed` say which sides can hold them at all (a
/// live capture cannot): the others are not searched.
pub fn aligned(
    a: Snapshot,
    b: Snapshot,
    a_replayed: bool,
    b_replayed: bool,
) -> (Snapshot, Snapshot) {
    match (
        a_replayed && mentions_replay_role(&a.objects),
        b_replayed && mentions_replay_role(&b.objects),
    ) {
        (true, false) => match migrating_role(&b.objects) {
            Some(owner) => (as_role(a, &owner), b),
            None => (a, b),
        },
        (false, true) => match migrating_role(&a.objects) {
            Some(owner) => {
                let b = as_role(b, &owner);
                (a, b)
            }
            None => (a, b),
        },
        _ => (a, b),
    }
}

/// The role owning most of the relations, functions and types of
/// `objects` (ties: the first name), else most of its schemas;
/// `pg_database_owner` (which owns `public` from PostgreSQL 15 on, and
/// nothing a migration creates) never.
pub(crate) fn migrating_role(objects: &Objects) -> Option<String> {
    let most = |owners: &mut dyn Iterator<Item = &String>| {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for o in owners.filter(|o| !o.is_empty() && *o != "pg_database_owner") {
            *counts.entry(o.as_str()).or_default() += 1;
        }
        let best = counts.values().copied().max()?;
        counts
            .into_iter()
            .find(|(_, n)| *n == best)
            .map(|(o, _)| o.to_string())
    };
    most(
        &mut objects
            .tables
            .iter()
            .map(|x| &x.owner)
            .chain(objects.views.iter().map(|x| &x.owner))
            .chain(objects.functions.iter().map(|x| &x.owner))
            .chain(objects.sequences.iter().map(|x| &x.owner))
            .chain(objects.types.iter().map(|x| &x.owner)),
    )
    .or_else(|| most(&mut objects.schemas.iter().map(|x| &x.owner)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn table(i: usize, owner: &str) -> Table {
        serde_json::from_value(serde_json::json!({
            "schema": "s", "name": format!("t{i:05}"), "kind": "table", "owner": owner
        }))
        .expect("a minimal table")
    }

    /// Found wherever it stands, pieces of the streamed JSON included (the
    /// writer cuts lists of 2,000 and more into pieces of 250).
    #[test]
    fn the_replay_role_is_found_in_any_piece_and_only_as_a_whole_name() {
        for at in [0, 249, 250, 1_999, 2_999] {
            let objects = Objects {
                tables: (0..3_000)
                    .map(|i| table(i, if i == at { REPLAY_ROLE } else { "app" }))
                    .collect(),
                ..Objects::default()
            };
            assert!(mentions_replay_role(&objects), "at {at}");
        }
        let objects = Objects {
            tables: (0..3_000)
                .map(|i| table(i, &format!("{REPLAY_ROLE}_not")))
                .collect(),
            ..Objects::default()
        };
        assert!(!mentions_replay_role(&objects));
    }
}
