//! Flattens a snapshot into entries keyed by (kind, identity): top-level
//! objects and, as entries of their own, the columns, constraints, indexes,
//! triggers, policies and rules of relations.

use super::{ObjectKind, ObjectRef};
use crate::model::{qualified, quote_ident, Objects};
use crate::normalize::{
    canonical_expression, canonical_function_body, canonical_index_key, canonical_query,
    collapse_whitespace,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One object, with its attributes as shown and as compared.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// What and where.
    pub object: ObjectRef,
    /// Its own attributes as captured (no identity fields, no children).
    pub fields: Map<String, Value>,
    /// The same attributes with expressions in canonical form.
    pub compare: Map<String, Value>,
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

/// Flattens every object of a snapshot.
pub(crate) fn flatten(objects: &Objects) -> Entries {
    let mut out = Entries::new();
    let mut add = |kind: ObjectKind, list: Value| {
        let Value::Array(items) = list else { return };
        for item in items {
            let Value::Object(map) = item else { continue };
            add_top(&mut out, kind, map);
        }
    };
    add(ObjectKind::Schema, v(&objects.schemas));
    add(ObjectKind::Extension, v(&objects.extensions));
    add(ObjectKind::Collation, v(&objects.collations));
    add(ObjectKind::Type, v(&objects.types));
    add(ObjectKind::Sequence, v(&objects.sequences));
    add(ObjectKind::Table, v(&objects.tables));
    add(ObjectKind::View, v(&objects.views));
    add(ObjectKind::MaterializedView, v(&objects.materialized_views));
    add(ObjectKind::Function, v(&objects.functions));
    add(ObjectKind::Statistics, v(&objects.statistics));
    add(ObjectKind::EventTrigger, v(&objects.event_triggers));
    add(ObjectKind::Publication, v(&objects.publications));
    add(
        ObjectKind::ForeignDataWrapper,
        v(&objects.foreign_data_wrappers),
    );
    add(ObjectKind::ForeignServer, v(&objects.foreign_servers));
    add(ObjectKind::DefaultPrivilege, v(&objects.default_privileges));
    out
}

/// A list of model objects as JSON.
fn v<T: serde::Serialize>(list: &T) -> Value {
    serde_json::to_value(list).unwrap_or(Value::Null)
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn add_top(out: &mut Entries, kind: ObjectKind, mut map: Map<String, Value>) {
    let schema = map
        .get("schema")
        .and_then(Value::as_str)
        .map(str::to_string);
    let name = text(&map, "name");
    let identity = match kind {
        ObjectKind::Function => format!(
            "{}({})",
            qualified(schema.as_deref().unwrap_or_default(), &name),
            text(&map, "arguments")
        ),
        ObjectKind::DefaultPrivilege => {
            let mut id = format!("for role {}", quote_ident(&text(&map, "role")));
            if let Some(s) = map.get("schema").and_then(Value::as_str) {
                id.push_str(&format!(" in schema {}", quote_ident(s)));
            }
            id.push_str(&format!(" on {}", text(&map, "object_type")));
            id
        }
        ObjectKind::Extension => quote_ident(&name),
        _ => match &schema {
            Some(s) => qualified(s, &name),
            None => quote_ident(&name),
        },
    };
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
    let compare = canonical(kind, &map);
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
            compare,
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
    let compare = canonical(kind, &map);
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
            compare,
            name,
        },
    );
}

fn map_str(map: &mut Map<String, Value>, key: &str, f: impl Fn(&str) -> String) {
    if let Some(Value::String(s)) = map.get_mut(key) {
        *s = f(s);
    }
}

/// The attributes with every expression in canonical form.
fn canonical(kind: ObjectKind, fields: &Map<String, Value>) -> Map<String, Value> {
    let mut map = fields.clone();
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
