//! Flattens a snapshot into entries keyed by (kind, identity): top-level
//! objects and, as entries of their own, the columns, constraints, indexes,
//! triggers, policies and rules of relations.

use super::{ObjectKind, ObjectRef};
use crate::model::{quote_ident, Keyed, Objects};
use crate::normalize::{
    canonical_expression, canonical_function_body, canonical_index_key, canonical_query,
    collapse_whitespace,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One object with its attributes as captured. Their canonical form (for
/// comparison) is computed only where two raw values differ: on a 10,000
/// table schema almost every attribute is byte-identical, and parsing every
/// expression of both sides would cost seconds.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// What and where.
    pub object: ObjectRef,
    /// Its own attributes as captured (no identity fields, no children).
    pub fields: Map<String, Value>,
    /// Its name alone (for renames).
    pub name: String,
}

/// Entries by (kind, identity).
pub(crate) type Entries = BTreeMap<(ObjectKind, String), Entry>;

/// Child lists of relations that become entries of their own.
const CHILDREN: [(&str, ObjectKind); 6] = [
    ("columns", ObjectKind::Column),
    ("constraints", ObjectKind::Constraint),
    ("indexes", ObjectKind::Index),
    ("triggers", ObjectKind::Trigger),
    ("policies", ObjectKind::Policy),
    ("rules", ObjectKind::Rule),
];

/// Flattens the objects of both snapshots, leaving out every top-level
/// object that is identical on both sides (compared as typed values, which
/// allocates nothing): on a large schema with little drift, almost all.
pub(crate) fn flatten_pair(a: &Objects, b: &Objects) -> (Entries, Entries) {
    let (mut ea, mut eb) = (Entries::new(), Entries::new());
    macro_rules! flatten {
        ($list:ident, $kind:ident) => {
            pair(ObjectKind::$kind, &a.$list, &b.$list, &mut ea, &mut eb);
        };
    }
    crate::each_kind!(flatten);
    (ea, eb)
}

/// Walks two lists sorted by `sort_key` side by side: objects equal on both
/// sides are skipped without formatting anything; the rest are flattened.
fn pair<T: Keyed + PartialEq + serde::Serialize>(
    kind: ObjectKind,
    a: &[T],
    b: &[T],
    ea: &mut Entries,
    eb: &mut Entries,
) {
    let add = |out: &mut Entries, x: &T| {
        if let Ok(Value::Object(map)) = serde_json::to_value(x) {
            add_top(out, kind, x.key(), map);
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].sort_key().cmp(&b[j].sort_key()) {
            std::cmp::Ordering::Equal => {
                if a[i] != b[j] {
                    add(ea, &a[i]);
                    add(eb, &b[j]);
                }
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                add(ea, &a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                add(eb, &b[j]);
                j += 1;
            }
        }
    }
    a[i..].iter().for_each(|x| add(ea, x));
    b[j..].iter().for_each(|x| add(eb, x));
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn add_top(out: &mut Entries, kind: ObjectKind, identity: String, mut map: Map<String, Value>) {
    let schema = map
        .get("schema")
        .and_then(Value::as_str)
        .map(str::to_string);
    let name = text(&map, "name");
    let schema_bound = !matches!(
        kind,
        ObjectKind::Extension | ObjectKind::DefaultPrivilege | ObjectKind::Schema
    );
    let relation = matches!(
        kind,
        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView
    );
    if relation {
        for (list, child_kind) in CHILDREN {
            if let Some(Value::Array(children)) = map.remove(list) {
                for child in children {
                    let Value::Object(child) = child else {
                        continue;
                    };
                    add_child(out, child_kind, child, kind, &identity, schema.clone());
                }
            }
        }
    }
    for key in ["schema", "name", "arguments", "role", "object_type"] {
        if key == "schema" && kind == ObjectKind::Extension {
            continue; // an extension's schema is an attribute, not its identity
        }
        map.remove(key);
    }
    out.insert(
        (kind, identity.clone()),
        Entry {
            object: ObjectRef {
                kind,
                schema: if schema_bound {
                    schema
                } else if kind == ObjectKind::Schema {
                    Some(name.clone())
                } else {
                    None
                },
                name: identity,
                parent: None,
            },
            fields: map,
            name,
        },
    );
}

fn add_child(
    out: &mut Entries,
    kind: ObjectKind,
    mut map: Map<String, Value>,
    parent_kind: ObjectKind,
    parent: &str,
    schema: Option<String>,
) {
    let name = text(&map, "name");
    let identity = format!("{parent}.{}", quote_ident(&name));
    map.remove("name");
    map.remove("position");
    out.insert(
        (kind, identity.clone()),
        Entry {
            object: ObjectRef {
                kind,
                schema,
                name: identity,
                parent: Some(format!("{}:{parent}", parent_kind.as_str())),
            },
            fields: map,
            name,
        },
    );
}

fn map_str(map: &mut Map<String, Value>, key: &str, f: impl Fn(&str) -> String) {
    if let Some(Value::String(s)) = map.get_mut(key) {
        *s = f(s);
    }
}

impl Entry {
    /// Attribute `key` in canonical form (expressions parsed and printed
    /// back), for comparison.
    pub fn canonical(&self, key: &str) -> Option<Value> {
        let value = self.fields.get(key)?;
        let mut single = Map::new();
        for context in ["type", "language"] {
            if let Some(v) = self.fields.get(context) {
                single.insert(context.to_string(), v.clone());
            }
        }
        single.insert(key.to_string(), value.clone());
        canonical(self.object.kind, single).remove(key)
    }

    /// Whether attribute `key` means the same on both entries: equal raw
    /// values, or equal canonical forms.
    pub fn same(&self, other: &Entry, key: &str) -> bool {
        let (a, b) = (self.fields.get(key), other.fields.get(key));
        a == b || (a.is_some() && b.is_some() && self.canonical(key) == other.canonical(key))
    }
}

/// The attributes with every expression in canonical form.
fn canonical(kind: ObjectKind, fields: Map<String, Value>) -> Map<String, Value> {
    let mut map = fields;
    match kind {
        ObjectKind::Column => {
            map_str(&mut map, "default", canonical_expression);
            map_str(&mut map, "generated", canonical_expression);
        }
        ObjectKind::Constraint => {
            let is_check = map.get("type").and_then(Value::as_str) == Some("check");
            map_str(&mut map, "expression", |e| {
                if is_check {
                    canonical_expression(e)
                } else {
                    collapse_whitespace(e)
                }
            });
        }
        ObjectKind::Index => {
            if let Some(Value::Array(keys)) = map.get_mut("keys") {
                for key in keys.iter_mut() {
                    if let Value::String(s) = key {
                        *s = canonical_index_key(s);
                    }
                }
            }
            map_str(&mut map, "predicate", canonical_expression);
        }
        ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Rule => {
            map_str(&mut map, "definition", canonical_query);
        }
        ObjectKind::Policy => {
            map_str(&mut map, "using", canonical_expression);
            map_str(&mut map, "with_check", canonical_expression);
        }
        ObjectKind::Trigger => map_str(&mut map, "when", canonical_expression),
        ObjectKind::Function => {
            let language = text(&map, "language");
            map_str(&mut map, "body", |b| canonical_function_body(&language, b));
        }
        ObjectKind::Type => {
            map_str(&mut map, "default", canonical_expression);
            if let Some(Value::Array(list)) = map.get_mut("constraints") {
                for c in list.iter_mut() {
                    if let Value::Object(c) = c {
                        map_str(c, "check", canonical_expression);
                    }
                }
            }
        }
        ObjectKind::Publication => {
            if let Some(Value::Array(list)) = map.get_mut("tables") {
                for t in list.iter_mut() {
                    if let Value::Object(t) = t {
                        map_str(t, "row_filter", canonical_expression);
                    }
                }
            }
        }
        _ => {}
    }
    map
}
