//! Renames: claimed only when proven. Between two arbitrary snapshots (a
//! live diff) a rename is inferred only when the pairing is unique and the
//! catalog supports it (a renamed column keeps its position, an added one
//! goes last); otherwise the change is a removal plus an addition, so a
//! dropped column is never hidden behind a rename. Between the snapshots
//! around one migration, the migration's own `ALTER … RENAME` statements
//! say what was renamed, and nothing else is.

use super::compare::{push, same_definition};
use super::entries::{Entries, Entry};
use super::{Change, ChangeCode, ObjectKind, ObjectRef};
use crate::model::{qualified, quote_ident, Snapshot, Table};
use crate::normalize::{Rename, RenameKind};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Where renames come from.
#[derive(Debug, Clone, Copy)]
pub enum Renames<'a> {
    /// Inferred from the two snapshots, only where proven.
    Inferred,
    /// Exactly these (a migration's parsed RENAME statements), in order.
    Given(&'a [Rename]),
}

/// Tables with another name but the same definition (children included),
/// when exactly one removed and one added table have that definition.
pub(super) fn table_renames<'a>(
    from: &'a Snapshot,
    to: &'a Snapshot,
    before: &mut Entries,
    after: &mut Entries,
    changes: &mut Vec<Change>,
) {
    let body = |t: &Table| {
        let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("name");
        }
        v
    };
    let names = |list: &'a [Table]| -> HashSet<(&'a str, &'a str)> {
        list.iter()
            .map(|t| (t.schema.as_str(), t.name.as_str()))
            .collect()
    };
    let (before_names, after_names) = (names(&from.objects.tables), names(&to.objects.tables));
    let gone: Vec<(&Table, Value)> = from
        .objects
        .tables
        .iter()
        .filter(|t| !after_names.contains(&(t.schema.as_str(), t.name.as_str())))
        .map(|t| (t, body(t)))
        .collect();
    let new: Vec<(&Table, Value)> = to
        .objects
        .tables
        .iter()
        .filter(|u| !before_names.contains(&(u.schema.as_str(), u.name.as_str())))
        .map(|u| (u, body(u)))
        .collect();
    for (t, shape) in &gone {
        let twins = gone.iter().filter(|(_, s)| s == shape).count();
        let matches: Vec<&Table> = new
            .iter()
            .filter(|(_, s)| s == shape)
            .map(|(u, _)| *u)
            .collect();
        let [u] = matches.as_slice() else { continue };
        if twins != 1 {
            continue;
        }
        let (old_id, new_id) = (qualified(&t.schema, &t.name), qualified(&u.schema, &u.name));
        let parent_old = format!("table:{old_id}");
        let parent_new = format!("table:{new_id}");
        before.retain(|k, e| {
            !(k.0 == ObjectKind::Table && k.1 == old_id)
                && e.object.parent.as_deref() != Some(&parent_old)
        });
        after.retain(|k, e| {
            !(k.0 == ObjectKind::Table && k.1 == new_id)
                && e.object.parent.as_deref() != Some(&parent_new)
        });
        let object = ObjectRef {
            kind: ObjectKind::Table,
            schema: Some(u.schema.clone()),
            name: new_id,
            parent: None,
        };
        push(
            changes,
            ChangeCode::Renamed(ObjectKind::Table),
            &object,
            Some("name"),
            json!(t.name),
            json!(u.name),
        );
    }
}

/// A snapshot's tables by identity.
fn tables_by_id(s: &Snapshot) -> HashMap<String, &Table> {
    s.objects
        .tables
        .iter()
        .map(|t| (qualified(&t.schema, &t.name), t))
        .collect()
}

/// The parent table of an entry (`table:schema.name`) in a snapshot.
fn parent_table<'a>(tables: &HashMap<String, &'a Table>, e: &Entry) -> Option<&'a Table> {
    let parent = e.object.parent.as_deref()?.strip_prefix("table:")?;
    tables.get(parent).copied()
}

/// True when the columns' positions prove a rename of `old` to `new`: the
/// same place among the columns both sides keep, and not the last place
/// (where an added column would be too).
fn position_proves(t: &Table, u: &Table, old: &str, new: &str) -> bool {
    let keep_t: HashSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let keep_u: HashSet<&str> = u.columns.iter().map(|c| c.name.as_str()).collect();
    let common = |n: &str| keep_t.contains(n) && keep_u.contains(n);
    let seq = |table: &Table, name: &str| -> Vec<String> {
        table
            .columns
            .iter()
            .filter(|c| c.name == name || common(&c.name))
            .map(|c| c.name.clone())
            .collect()
    };
    let (old_seq, new_seq) = (seq(t, old), seq(u, new));
    let (Some(i), Some(j)) = (
        old_seq.iter().position(|n| n == old),
        new_seq.iter().position(|n| n == new),
    ) else {
        return false;
    };
    i == j && j + 1 < new_seq.len()
}

/// Columns, indexes and constraints removed and added under one parent
/// with the same definition, paired one to one (and, for columns, in the
/// same place): renames. Returns the keys they consumed.
pub(super) fn child_renames(
    from: &Snapshot,
    to: &Snapshot,
    before: &Entries,
    after: &Entries,
    removed: &[(ObjectKind, String)],
    added: &[(ObjectKind, String)],
    changes: &mut Vec<Change>,
) -> BTreeSet<(ObjectKind, String)> {
    let (from_tables, to_tables) = (tables_by_id(from), tables_by_id(to));
    let kinds = |k: ObjectKind| {
        matches!(
            k,
            ObjectKind::Column | ObjectKind::Index | ObjectKind::Constraint
        )
    };
    let pairs = |a: &Entry, b: &Entry| a.object.parent == b.object.parent && same_definition(a, b);
    let mut used = BTreeSet::new();
    // Proven column renames per parent: an index or constraint on a renamed
    // column is compared as if it named the new one. Columns sort first.
    let mut column_renames: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for r in removed.iter().filter(|r| kinds(r.0)) {
        let renamed_columns = before[r]
            .object
            .parent
            .as_ref()
            .and_then(|p| column_renames.get(p))
            .filter(|_| r.0 != ObjectKind::Column);
        let substituted;
        let old = match renamed_columns {
            Some(list) => {
                substituted = with_columns_renamed(&before[r], list);
                &substituted
            }
            None => &before[r],
        };
        let candidates: Vec<&(ObjectKind, String)> = added
            .iter()
            .filter(|a| a.0 == r.0 && pairs(old, &after[*a]))
            .collect();
        let [a] = candidates.as_slice() else { continue };
        let new = &after[*a];
        let rivals = removed
            .iter()
            .filter(|o| o.0 == r.0 && (*o == r || pairs(&before[*o], new)))
            .count();
        if rivals != 1 {
            continue;
        }
        if r.0 == ObjectKind::Column {
            let proven = match (
                parent_table(&from_tables, old),
                parent_table(&to_tables, new),
            ) {
                (Some(t), Some(u)) => position_proves(t, u, &old.name, &new.name),
                _ => false,
            };
            if !proven {
                continue;
            }
        }
        if r.0 == ObjectKind::Column {
            if let Some(parent) = &old.object.parent {
                column_renames
                    .entry(parent.clone())
                    .or_default()
                    .push((old.name.clone(), new.name.clone()));
            }
        }
        used.insert(r.clone());
        used.insert((*a).clone());
        push(
            changes,
            ChangeCode::Renamed(r.0),
            &new.object,
            Some("name"),
            json!(old.name),
            json!(new.name),
        );
    }
    used
}

/// An entry with every whole-word (or quoted) use of a renamed column in
/// its attributes replaced by the new name.
fn with_columns_renamed(e: &Entry, renames: &[(String, String)]) -> Entry {
    fn replace_words(text: &str, from: &str, to: &str) -> String {
        // A neighbour that is absent or not part of a word.
        let boundary =
            |c: Option<char>| c.map_or(true, |c| !(c.is_alphanumeric() || c == '_' || c == '$'));
        if from.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(from) {
            let before_ok = boundary(rest[..i].chars().next_back());
            let after_ok = boundary(rest[i + from.len()..].chars().next());
            out.push_str(&rest[..i]);
            out.push_str(if before_ok && after_ok { to } else { from });
            rest = &rest[i + from.len()..];
        }
        out.push_str(rest);
        out
    }
    fn walk(v: &mut Value, from: &str, to: &str) {
        match v {
            Value::String(s) => *s = replace_words(s, from, to),
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, from, to)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, from, to)),
            _ => {}
        }
    }
    let mut e = e.clone();
    for (from, to) in renames {
        for v in e.fields.values_mut() {
            walk(v, from, to);
        }
    }
    e
}

/// Moves a before-entry (and, for a relation, its children) to the key it
/// has after a rename; returns every `(old id, new id)` moved.
fn rekey(
    before: &mut Entries,
    key: &(ObjectKind, String),
    new_id: String,
    new_name: &str,
) -> Vec<(String, String)> {
    let Some(mut entry) = before.remove(key) else {
        return Vec::new();
    };
    let mut moved = vec![(key.1.clone(), new_id.clone())];
    let old_parent = format!("{}:{}", key.0.as_str(), key.1);
    let new_parent = format!("{}:{new_id}", key.0.as_str());
    entry.object.name = new_id.clone();
    entry.name = new_name.to_string();
    before.insert((key.0, new_id.clone()), entry);
    let children: Vec<(ObjectKind, String)> = before
        .iter()
        .filter(|(_, e)| e.object.parent.as_deref() == Some(old_parent.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    for child in children {
        if let Some(mut e) = before.remove(&child) {
            let id = format!("{new_id}.{}", quote_ident(&e.name));
            e.object.name = id.clone();
            e.object.parent = Some(new_parent.clone());
            moved.push((child.1.clone(), id.clone()));
            before.insert((child.0, id), e);
        }
    }
    moved
}

/// The before-entry a rename statement names: the relation or index
/// `name` (in `schema` when written; otherwise the only one so named).
fn find(
    before: &Entries,
    kinds: &[ObjectKind],
    schema: Option<&str>,
    name: &str,
) -> Option<(ObjectKind, String)> {
    let found: Vec<&(ObjectKind, String)> = before
        .iter()
        .filter(|(k, e)| {
            kinds.contains(&k.0)
                && e.name == name
                && schema.map_or(true, |s| e.object.schema.as_deref() == Some(s))
        })
        .map(|(k, _)| k)
        .collect();
    match found.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

/// Applies a migration's renames to the before-entries, in order, and
/// reports each rename whose result the after-snapshot has.
pub(super) fn given_renames(
    renames: &[Rename],
    before: &mut Entries,
    after: &Entries,
    changes: &mut Vec<Change>,
) {
    const RELATIONS: &[ObjectKind] = &[
        ObjectKind::Table,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Sequence,
    ];
    // (kind, current id, old name, new name) of each rename done.
    let mut done: Vec<(ObjectKind, String, String, String)> = Vec::new();
    for r in renames {
        let schema = r.schema.as_deref();
        let target = match r.kind {
            RenameKind::Type => find(before, &[ObjectKind::Type], schema, &r.from).map(|key| {
                let e = &before[&key];
                let s = e.object.schema.clone().unwrap_or_default();
                (key, qualified(&s, &r.to))
            }),
            RenameKind::Relation => find(before, RELATIONS, schema, &r.from).map(|key| {
                let e = &before[&key];
                let s = e.object.schema.clone().unwrap_or_default();
                (key, qualified(&s, &r.to))
            }),
            RenameKind::Index => {
                find(before, &[ObjectKind::Index], schema, &r.from).and_then(|key| {
                    let parent = before[&key].object.parent.clone()?;
                    let (_, parent_id) = parent.split_once(':')?;
                    Some((key, format!("{parent_id}.{}", quote_ident(&r.to))))
                })
            }
            RenameKind::Column | RenameKind::Constraint => {
                let kind = if r.kind == RenameKind::Column {
                    ObjectKind::Column
                } else {
                    ObjectKind::Constraint
                };
                find(before, RELATIONS, schema, &r.relation).map(|(_, table_id)| {
                    (
                        (kind, format!("{table_id}.{}", quote_ident(&r.from))),
                        format!("{table_id}.{}", quote_ident(&r.to)),
                    )
                })
            }
        };
        let Some((key, new_id)) = target else {
            continue;
        };
        if !before.contains_key(&key) {
            continue;
        }
        let moved = rekey(before, &key, new_id.clone(), &r.to);
        // A later rename of its relation moves it again.
        for done in &mut done {
            if let Some((_, to)) = moved.iter().find(|(from, _)| *from == done.1) {
                done.1 = to.clone();
            }
        }
        done.push((key.0, new_id, r.from.clone(), r.to.clone()));
    }
    for (kind, id, from, to) in done {
        if let Some(new) = after.get(&(kind, id)) {
            push(
                changes,
                ChangeCode::Renamed(kind),
                &new.object,
                Some("name"),
                json!(from),
                json!(to),
            );
        }
    }
}
