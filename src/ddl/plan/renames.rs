//! Renames as renames: the tables, columns, indexes and constraints the
//! differ proves renamed (one removed and one added object with the same
//! definition, and for a column the same place: never a guess that could
//! hide a drop) become `RENAME` statements, run first; the planner then
//! works on a copy of the old schema with the new names, so nothing else
//! about them is dropped or created.

use super::reorder::mentions;
use super::{Out, Phase};
use crate::diff::{ChangeCode, ObjectKind};
use crate::model::{qualified, quote_ident, Objects, Snapshot, Table};

/// Replaces whole-word `old` with `new` in `text`.
fn rename_in(text: &mut String, old: &str, new: &str) {
    if !mentions(text, old) {
        return;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(old) {
        let before = rest[..i].chars().next_back().or(out.chars().next_back());
        let after = rest[i + old.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(old);
        } else {
            out.push_str(new);
        }
        rest = &rest[i + old.len()..];
    }
    out.push_str(rest);
    *text = out;
}

/// A column renamed in `t`: its name, and the parts of the table that
/// name it.
fn rename_column(t: &mut Table, old: &str, new: &str) {
    // Expressions, index keys and trigger events name the column as SQL
    // does, quoted when it must be.
    let (q_old, q_new) = (quote_ident(old), quote_ident(new));
    for c in &mut t.columns {
        if c.name == old {
            c.name = new.to_string();
        }
    }
    for c in &mut t.constraints {
        for col in c.columns.iter_mut().chain(c.include.iter_mut()) {
            if col == old {
                *col = new.to_string();
            }
        }
        if let Some(e) = &mut c.expression {
            rename_in(e, &q_old, &q_new);
        }
    }
    for i in &mut t.indexes {
        for k in i.keys.iter_mut().chain(i.include.iter_mut()) {
            rename_in(k, &q_old, &q_new);
        }
        if let Some(p) = &mut i.predicate {
            rename_in(p, &q_old, &q_new);
        }
    }
    for tr in &mut t.triggers {
        for e in &mut tr.events {
            rename_in(e, &q_old, &q_new);
        }
    }
    for p in &mut t.policies {
        for e in p.using.iter_mut().chain(p.with_check.iter_mut()) {
            rename_in(e, &q_old, &q_new);
        }
    }
}

/// `ALTER TABLE t RENAME <what> old TO new` (a column or a constraint).
fn rename_part(out: &mut Out, t: &Table, what: &str, old: &str, new: &str) {
    out.push(
        Phase::Renames,
        format!(
            "ALTER TABLE {} RENAME {what} {} TO {};",
            qualified(&t.schema, &t.name),
            quote_ident(old),
            quote_ident(new)
        ),
        &[],
    );
}

/// The RENAME statements `from` → `to` needs, and `from` with them done
/// (borrowed as it is when nothing is renamed: a 10,000-table copy costs).
pub(super) fn apply<'a>(
    from: &'a Snapshot,
    to: &Snapshot,
    out: &mut Out,
) -> std::borrow::Cow<'a, Objects> {
    let changes = crate::diff::diff(from, to);
    let mut renames: Vec<_> = changes
        .iter()
        .filter(|c| matches!(c.code, ChangeCode::Renamed(_)))
        .collect();
    let serials_move = from.objects.sequences.iter().any(|s| {
        s.owned_by.as_deref().is_some_and(|by| {
            to.objects
                .sequences
                .iter()
                .any(|t| t.owned_by.as_deref() == Some(by) && t.name != s.name)
        })
    });
    if renames.is_empty() && !serials_move {
        return std::borrow::Cow::Borrowed(&from.objects);
    }
    let to = &to.objects;
    let mut renamed = from.objects.clone();
    // Tables first: their parts are named under the new table.
    renames.sort_by_key(|c| !matches!(c.code, ChangeCode::Renamed(ObjectKind::Table)));
    for c in renames {
        let (Some(old), Some(new)) = (c.before.as_str(), c.after.as_str()) else {
            continue;
        };
        let schema = c.object.schema.clone().unwrap_or_default();
        let table_of = |parent: &Option<String>| {
            parent
                .as_deref()
                .and_then(|p| p.split_once(':'))
                .map(|(_, t)| t.to_string())
        };
        let find = |objects: &mut Objects, key: &str| -> Option<usize> {
            objects
                .tables
                .iter()
                .position(|t| format!("{}.{}", t.schema, t.name) == key)
        };
        match c.code {
            ChangeCode::Renamed(ObjectKind::Table) => {
                let (old_q, new_q) = (qualified(&schema, old), qualified(&schema, new));
                out.push(
                    Phase::Renames,
                    format!("ALTER TABLE {old_q} RENAME TO {};", quote_ident(new)),
                    &[],
                );
                for t in &mut renamed.tables {
                    if t.schema == schema && t.name == old {
                        t.name = new.to_string();
                    }
                    for link in t.inherits.iter_mut().chain(t.partition_of.iter_mut()) {
                        if *link == old_q {
                            *link = new_q.clone();
                        }
                    }
                    for k in &mut t.constraints {
                        if let Some(r) = &mut k.references {
                            if r.table == old_q {
                                r.table = new_q.clone();
                            }
                        }
                    }
                }
                for s in &mut renamed.sequences {
                    if let Some(by) = &mut s.owned_by {
                        if let Some(col) = by.strip_prefix(&format!("{old_q}.")) {
                            *by = format!("{new_q}.{col}");
                        }
                    }
                }
                // Views that read the table follow it (PostgreSQL keeps
                // them on the renamed table): written so, they compare as
                // changed when the target's views read something else by
                // the old name, and are re-created.
                let (old_k, new_k) = (format!("{schema}.{old}"), format!("{schema}.{new}"));
                for v in &mut renamed.views {
                    rename_in(&mut v.definition, &old_k, &new_k);
                }
                for v in &mut renamed.materialized_views {
                    rename_in(&mut v.definition, &old_k, &new_k);
                }
                // Identity sequences keep their name through a rename; a
                // table made afresh gets <table>_<column>_seq. A sequence
                // that already has that name (a table renamed back, as a
                // rollback does) is left: renaming it to itself fails.
                if let Some(t) = renamed
                    .tables
                    .iter()
                    .find(|t| t.schema == schema && t.name == new)
                {
                    for c in t.columns.iter().filter(|c| c.details().identity.is_some()) {
                        let (table, column, name) = (
                            super::privileges::literal(&new_q),
                            super::privileges::literal(&c.name),
                            super::privileges::literal(&format!("{new}_{}_seq", c.name)),
                        );
                        out.push(
                            Phase::Renames,
                            format!(
                                "DO $$ BEGIN IF (SELECT relname FROM pg_class WHERE oid = pg_get_serial_sequence({table}, {column})::regclass) <> {name} THEN EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', pg_get_serial_sequence({table}, {column}), {name}); END IF; END $$;"
                            ),
                            &[],
                        );
                    }
                }
            }
            ChangeCode::Renamed(ObjectKind::Column) => {
                let Some(i) = table_of(&c.object.parent).and_then(|t| find(&mut renamed, &t))
                else {
                    continue;
                };
                let t = &mut renamed.tables[i];
                rename_part(out, t, "COLUMN", old, new);
                rename_column(t, old, new);
            }
            ChangeCode::Renamed(ObjectKind::Index) => {
                let Some(i) = table_of(&c.object.parent).and_then(|t| find(&mut renamed, &t))
                else {
                    continue;
                };
                out.push(
                    Phase::Renames,
                    format!(
                        "ALTER INDEX {} RENAME TO {};",
                        qualified(&schema, old),
                        quote_ident(new)
                    ),
                    &[],
                );
                for x in &mut renamed.tables[i].indexes {
                    if x.name == old {
                        x.name = new.to_string();
                    }
                }
            }
            ChangeCode::Renamed(ObjectKind::Constraint) => {
                let Some(i) = table_of(&c.object.parent).and_then(|t| find(&mut renamed, &t))
                else {
                    continue;
                };
                let t = &mut renamed.tables[i];
                rename_part(out, t, "CONSTRAINT", old, new);
                for x in &mut t.constraints {
                    if x.name == old {
                        x.name = new.to_string();
                    }
                }
            }
            _ => {}
        }
    }
    // A serial's sequence keeps its name through a table or column rename;
    // the target's sequence for the same column is the same sequence.
    for i in 0..renamed.sequences.len() {
        let s = &renamed.sequences[i];
        let Some(by) = s.owned_by.clone() else {
            continue;
        };
        let Some(target) = to
            .sequences
            .iter()
            .find(|t| t.owned_by.as_deref() == Some(by.as_str()) && t.schema == s.schema)
        else {
            continue;
        };
        if target.name == s.name
            || renamed
                .sequences
                .iter()
                .any(|x| x.name == target.name && x.schema == target.schema)
        {
            continue;
        }
        let (old, new) = (s.name.clone(), target.name.clone());
        out.push(
            Phase::Renames,
            format!(
                "ALTER SEQUENCE {} RENAME TO {};",
                qualified(&s.schema, &old),
                quote_ident(&new)
            ),
            &[],
        );
        let schema = s.schema.clone();
        renamed.sequences[i].name = new.clone();
        // Defaults name the sequence: nextval('s.old'::regclass).
        for t in &mut renamed.tables {
            for c in &mut t.columns {
                if let Some(d) = &mut c.default {
                    rename_in(d, &format!("{schema}.{old}"), &format!("{schema}.{new}"));
                }
            }
        }
    }
    std::borrow::Cow::Owned(renamed)
}
