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

/// True when a role field of `objects` names the replay role.
pub fn mentions_replay_role(objects: &Objects) -> bool {
    serde_json::to_value(objects).is_ok_and(|v| mentions(&v))
}

fn mentions(v: &Value) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (ROLE_FIELDS.contains(&k.as_str()) && v.as_str() == Some(REPLAY_ROLE)) || mentions(v)
        }),
        Value::Array(items) => items.iter().any(mentions),
        _ => false,
    }
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
pub fn aligned(a: Snapshot, b: Snapshot) -> (Snapshot, Snapshot) {
    match (
        mentions_replay_role(&a.objects),
        mentions_replay_role(&b.objects),
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
fn migrating_role(objects: &Objects) -> Option<String> {
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
