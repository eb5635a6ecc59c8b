//! The generic keyed differ over flattened entries, renames, privilege and
//! column-order changes, and the severity of each change.

use super::entries::{flatten_pair, Entry};
use super::renames::{child_renames, given_renames, table_renames, Renames};
use super::{Change, ChangeCode, ObjectKind, ObjectRef, Severity};
use crate::model::{qualified, quote_ident, Snapshot};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Every difference from `from` to `to`, in report order; renames are
/// inferred only where proven (see [`Renames::Inferred`]).
pub fn diff(from: &Snapshot, to: &Snapshot) -> Vec<Change> {
    diff_with(from, to, Renames::Inferred)
}

/// Every difference from `from` to `to`, in report order, with renames
/// inferred or taken from the migration that made the change.
pub fn diff_with(from: &Snapshot, to: &Snapshot, renames: Renames<'_>) -> Vec<Change> {
    let (mut before, mut after) = flatten_pair(&from.objects, &to.objects);
    let mut changes = Vec::new();
    match renames {
        Renames::Inferred => table_renames(from, to, &mut before, &mut after, &mut changes),
        Renames::Given(list) => given_renames(list, &mut before, &after, &mut changes),
    }

    let removed: Vec<(ObjectKind, String)> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    let added: Vec<(ObjectKind, String)> = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    let renamed = match renames {
        Renames::Inferred => {
            child_renames(from, to, &before, &after, &removed, &added, &mut changes)
        }
        Renames::Given(_) => BTreeSet::new(),
    };
    // A table or view added or removed is one change, not one per column.
    let whole = |keys: &[(ObjectKind, String)]| -> BTreeSet<String> {
        keys.iter()
            .map(|(k, id)| format!("{}:{id}", k.as_str()))
            .collect()
    };
    let (removed_whole, added_whole) = (whole(&removed), whole(&added));
    let inside = |e: &Entry, set: &BTreeSet<String>| {
        e.object.parent.as_ref().is_some_and(|p| set.contains(p))
    };

    // An index attached to a parent index added or removed with it is part
    // of that one change (CREATE INDEX on a partitioned table).
    let index_names = |keys: &[(ObjectKind, String)], entries: &super::entries::Entries| {
        keys.iter()
            .filter(|k| k.0 == ObjectKind::Index)
            .map(|k| {
                let e = &entries[k];
                let schema = e.object.schema.clone().unwrap_or_default();
                format!("{}.{}", quote_ident(&schema), quote_ident(&e.name))
            })
            .collect::<BTreeSet<String>>()
    };
    let (removed_indexes, added_indexes) =
        (index_names(&removed, &before), index_names(&added, &after));
    let attached = |e: &Entry, set: &BTreeSet<String>| {
        e.object.kind == ObjectKind::Index
            && e.fields
                .get("partition_of")
                .and_then(Value::as_str)
                .is_some_and(|p| set.contains(p))
    };
    for key in &removed {
        if attached(&before[key], &removed_indexes) {
            continue;
        }
        if renamed.contains(key) || inside(&before[key], &removed_whole) {
            continue;
        }
        let e = &before[key];
        push(
            &mut changes,
            ChangeCode::Removed(key.0),
            &e.object,
            None,
            Value::Object(e.fields.clone()),
            Value::Null,
        );
    }
    for key in &added {
        if attached(&after[key], &added_indexes) {
            continue;
        }
        if renamed.contains(key) || inside(&after[key], &added_whole) {
            continue;
        }
        let e = &after[key];
        push(
            &mut changes,
            ChangeCode::Added(key.0),
            &e.object,
            None,
            Value::Null,
            Value::Object(e.fields.clone()),
        );
        // A new object's grants are part of what was added, but a grant
        // beyond what PostgreSQL gives a new object of its kind (the owner's
        // own, PUBLIC EXECUTE on functions, PUBLIC USAGE on types) still
        // widens access: report it. A default privilege is itself a grant:
        // its one finding is default-privilege-added.
        if key.0 != ObjectKind::DefaultPrivilege {
            let acl = e.fields.get("acl").or(e.fields.get("grants"));
            let defaults = default_acl(key.0, acl);
            grants(&mut changes, &e.object, Some(&defaults), acl, true);
        }
    }
    for (key, a) in &before {
        if let Some(b) = after.get(key) {
            attributes(&mut changes, a, b);
        }
    }
    let after_tables: std::collections::HashMap<(&str, &str), &crate::model::Table> = to
        .objects
        .tables
        .iter()
        .map(|u| ((u.schema.as_str(), u.name.as_str()), u))
        .collect();
    for t in &from.objects.tables {
        let Some(u) = after_tables.get(&(t.schema.as_str(), t.name.as_str())) else {
            continue;
        };
        // Identical tables (nearly all of them) cannot differ in order.
        if *u != t {
            let names =
                |cols: &[crate::model::Column], other: &[crate::model::Column]| -> Vec<String> {
                    let present: BTreeSet<&str> = other.iter().map(|o| o.name.as_str()).collect();
                    cols.iter()
                        .filter(|c| present.contains(c.name.as_str()))
                        .map(|c| c.name.clone())
                        .collect()
                };
            let (old, new) = (names(&t.columns, &u.columns), names(&u.columns, &t.columns));
            if old != new {
                let object = ObjectRef {
                    kind: ObjectKind::Table,
                    schema: Some(t.schema.clone()),
                    name: crate::model::qualified(&t.schema, &t.name),
                    parent: None,
                };
                push(
                    &mut changes,
                    ChangeCode::ColumnOrderChanged,
                    &object,
                    Some("columns"),
                    json!(old),
                    json!(new),
                );
            }
        }
    }
    fold_detached_partitions(from, to, &mut changes);
    changes.sort_by(|a, b| {
        let top = |c: &Change| {
            c.object
                .parent
                .clone()
                .unwrap_or_else(|| format!("{}:{}", c.object.kind.as_str(), c.object.name))
        };
        (top(a), a.object.kind, &a.object.name, a.code.to_string()).cmp(&(
            top(b),
            b.object.kind,
            &b.object.name,
            b.code.to_string(),
        ))
    });
    changes
}

/// ATTACH / DETACH PARTITION is one change (the table's `partition_of`):
/// what the partition had from its parent (cloned constraints, indexes and
/// triggers, its bound, inherited column flags) comes and goes with it.
fn fold_detached_partitions(from: &Snapshot, to: &Snapshot, changes: &mut Vec<Change>) {
    let parent_of = |s: &Snapshot| -> std::collections::HashMap<String, Option<String>> {
        s.objects
            .tables
            .iter()
            .map(|t| (qualified(&t.schema, &t.name), t.partition_of.clone()))
            .collect()
    };
    let (old, new) = (parent_of(from), parent_of(to));
    let moved: BTreeSet<String> = old
        .iter()
        .filter(|(id, p)| new.get(*id).is_some_and(|q| q.is_some() != p.is_some()))
        .map(|(id, _)| id.clone())
        .collect();
    if moved.is_empty() {
        return;
    }
    changes.retain(|c| {
        let table = match (&c.object.parent, c.object.kind) {
            (Some(p), _) => p.strip_prefix("table:").map(str::to_string),
            (None, ObjectKind::Table) => Some(c.object.name.clone()),
            _ => None,
        };
        if !table.is_some_and(|t| moved.contains(&t)) {
            return true;
        }
        matches!(
            c.code,
            ChangeCode::Changed(ObjectKind::Table, "partition_of")
                | ChangeCode::Added(ObjectKind::Column)
                | ChangeCode::Removed(ObjectKind::Column)
        ) || !matches!(
            c.code,
            ChangeCode::Added(_) | ChangeCode::Removed(_) | ChangeCode::Changed(..)
        )
    });
}

pub(super) fn push(
    changes: &mut Vec<Change>,
    code: ChangeCode,
    object: &ObjectRef,
    attribute: Option<&str>,
    before: Value,
    after: Value,
) {
    let severity = severity(code, &after);
    changes.push(Change {
        code,
        severity,
        object: object.clone(),
        attribute: attribute.map(str::to_string),
        before,
        after,
    });
}

/// Attribute-by-attribute comparison of one object present on both sides.
fn attributes(changes: &mut Vec<Change>, a: &Entry, b: &Entry) {
    let keys: BTreeSet<&String> = a.fields.keys().chain(b.fields.keys()).collect();
    for key in keys {
        if key == "acl" || key == "grants" {
            let (old, new) = (owner_relative(a, b, key), owner_relative(b, a, key));
            grants(changes, &a.object, old.as_ref(), new.as_ref(), false);
            continue;
        }
        if a.same(b, key) {
            continue;
        }
        let (va, vb) = (
            a.fields.get(key).cloned().unwrap_or(Value::Null),
            b.fields.get(key).cloned().unwrap_or(Value::Null),
        );
        let code = match key.as_str() {
            "owner" => ChangeCode::OwnerChanged,
            "comment" => ChangeCode::CommentChanged,
            other => ChangeCode::Changed(a.object.kind, attribute_name(other)),
        };
        push(changes, code, &a.object, Some(key), va, vb);
    }
}

/// The grantee text standing for an object's owner in an owner-relative ACL.
const OWNER: &str = "OWNER";

/// The ACL of `e` with the owner's own entry named `OWNER`: an owner change
/// moves the owner's grants to the new owner, which is the owner change
/// itself (reported once as owner-changed), not a grant and a revoke. When
/// the owner changed, plain grants to the other side's owner are dropped
/// too: that role's access now comes (or came) from owning the object.
fn owner_relative(e: &Entry, other: &Entry, key: &str) -> Option<Value> {
    let owner_of = |x: &Entry| {
        x.fields
            .get("owner")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    // Grantees are snapshot text (`Grantee::key`): a role named PUBLIC is
    // `"PUBLIC"` there, never the pseudo-role's `PUBLIC`.
    let as_grantee = |role: String| crate::model::Grantee::Role(role).key();
    let (owner, other_owner) = (as_grantee(owner_of(e)), as_grantee(owner_of(other)));
    let mut acl = e.fields.get(key)?.clone();
    if let Value::Array(items) = &mut acl {
        items.retain(|item| {
            owner == other_owner
                || item.get("grantee").and_then(Value::as_str) != Some(other_owner.as_str())
        });
        for item in items {
            match item.get("grantee").and_then(Value::as_str) {
                Some(g) if g == owner => item["grantee"] = json!(OWNER),
                // A role literally named OWNER: quoted, as `Grantee::key`
                // quotes a role named PUBLIC (a name that itself looks
                // quoted is already quoted again, so this text is free).
                Some(OWNER) => item["grantee"] = json!(format!("\"{OWNER}\"")),
                _ => {}
            }
        }
    }
    Some(acl)
}

/// (grantee, privilege, grantable) triples of an ACL value.
fn grant_set(acl: Option<&Value>) -> BTreeSet<(String, String, bool)> {
    let mut out = BTreeSet::new();
    let Some(Value::Array(items)) = acl else {
        return out;
    };
    for item in items {
        let grantee = item
            .get("grantee")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let grantable: Vec<&str> = item
            .get("grantable")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for p in item
            .get("privileges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let p = p.as_str().unwrap_or_default();
            out.insert((grantee.to_string(), p.to_string(), grantable.contains(&p)));
        }
    }
    out
}

/// The privilege PostgreSQL gives PUBLIC on a new object of `kind`:
/// EXECUTE on functions and procedures, USAGE on types and domains.
pub(crate) fn public_default_privilege(kind: ObjectKind) -> Option<&'static str> {
    match kind {
        ObjectKind::Function => Some("EXECUTE"),
        ObjectKind::Type => Some("USAGE"),
        _ => None,
    }
}

/// What PostgreSQL grants a new object of `kind` by itself, as an ACL
/// value beside `acl`: every grant the owners (the grantors in `acl`) hold,
/// PUBLIC EXECUTE on functions and PUBLIC USAGE on types. An added object
/// is compared with this, by the same rule as an object on both sides.
fn default_acl(kind: ObjectKind, acl: Option<&Value>) -> Value {
    let mut items: Vec<Value> = Vec::new();
    let owners: BTreeSet<String> = acl
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("grantor").and_then(Value::as_str))
        .map(|role| crate::model::Grantee::role(role).key())
        .collect();
    for item in acl.and_then(Value::as_array).into_iter().flatten() {
        let grantee = item
            .get("grantee")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if owners.contains(grantee) {
            items.push(item.clone());
        }
    }
    if let Some(p) = public_default_privilege(kind) {
        items.push(json!({"grantee": "PUBLIC", "privileges": [p]}));
    }
    Value::Array(items)
}

/// privilege-granted / privilege-revoked, one change per grantee. The
/// grantor is left out: it follows the owner, reported on its own.
fn grants(
    changes: &mut Vec<Change>,
    object: &ObjectRef,
    a: Option<&Value>,
    b: Option<&Value>,
    added: bool,
) {
    let (old, new) = (grant_set(a), grant_set(b));
    let group = |set: Vec<&(String, String, bool)>| -> BTreeMap<String, Vec<String>> {
        let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (grantee, p, grantable) in set {
            let label = if *grantable {
                format!("{p} WITH GRANT OPTION")
            } else {
                p.clone()
            };
            by.entry(grantee.clone()).or_default().push(label);
        }
        by
    };
    let gained = group(new.difference(&old).collect());
    // An added object granting less than the defaults (REVOKE … FROM PUBLIC
    // right after CREATE) narrowed nothing that existed.
    let lost = if added {
        BTreeMap::new()
    } else {
        group(old.difference(&new).collect())
    };
    for (grantee, privileges) in gained {
        let after = json!({"grantee": grantee, "privileges": privileges});
        push(
            changes,
            ChangeCode::PrivilegeGranted,
            object,
            Some("acl"),
            Value::Null,
            after,
        );
    }
    for (grantee, privileges) in lost {
        let before = json!({"grantee": grantee, "privileges": privileges});
        push(
            changes,
            ChangeCode::PrivilegeRevoked,
            object,
            Some("acl"),
            before,
            Value::Null,
        );
    }
}

/// All attributes of two entries mean the same.
pub(super) fn same_definition(a: &Entry, b: &Entry) -> bool {
    a.fields.len() == b.fields.len() && a.fields.keys().all(|k| a.same(b, k))
}

/// A model attribute name as the `'static` string a change code holds.
/// Entries are flattened from the typed model, so the names are the model's
/// field names (a bounded set): every attribute, new ones included, gets a
/// code of its own without being listed anywhere.
fn attribute_name(field: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(name) = names.get(field) {
        return name;
    }
    let name: &'static str = Box::leak(field.to_string().into_boxed_str());
    names.insert(name);
    name
}

/// Severity rules: access widened is critical, cosmetics are info, the
/// rest of structure is a warning.
fn severity(code: ChangeCode, after: &Value) -> Severity {
    use ObjectKind as K;
    match code {
        ChangeCode::PrivilegeGranted => Severity::Critical,
        ChangeCode::Added(K::DefaultPrivilege) => Severity::Critical,
        ChangeCode::Removed(K::Policy) => Severity::Critical,
        ChangeCode::Changed(K::Table, "row_security" | "force_row_security")
            if after == &json!(false) || after.is_null() =>
        {
            Severity::Critical
        }
        ChangeCode::Changed(K::Function, "security_definer") if after == &json!(true) => {
            Severity::Critical
        }
        ChangeCode::Changed(K::Policy, "roles")
            if after
                .as_array()
                .is_some_and(|r| r.contains(&json!("PUBLIC"))) =>
        {
            Severity::Critical
        }
        ChangeCode::Changed(K::Policy, "permissive") if after == &json!(true) => Severity::Critical,
        // A key no longer enforced lets rows in that break it.
        ChangeCode::Changed(K::Constraint, "triggers_disabled") if after == &json!(true) => {
            Severity::Critical
        }
        ChangeCode::CommentChanged | ChangeCode::ColumnOrderChanged => Severity::Info,
        ChangeCode::Added(K::Statistics) | ChangeCode::Removed(K::Statistics) => Severity::Info,
        ChangeCode::Changed(
            _,
            "statistics_target" | "cost" | "rows" | "storage" | "compression" | "target",
        ) => Severity::Info,
        _ => Severity::Warning,
    }
}
