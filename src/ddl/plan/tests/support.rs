//! What the per-kind planner tests share: a snapshot from a short JSON
//! literal (every field a test does not care about filled with a plain
//! default), and the plan of a (from, to) pair rendered as the text its
//! insta snapshot keeps.
//!
//! Only the planner's public entry points are used (`plan`, `Plan`'s
//! fields, `to_sql`, `to_migration_sql`): the planner's insides may be
//! reorganised while these snapshots stay byte for byte.

use crate::ddl::plan::{plan, PlanOptions};
use crate::model::{Meta, Objects, Snapshot};
use serde_json::{json, Map, Value};

/// The role that owns every object unless a case says otherwise (and so
/// the role the planner takes to run the migration).
pub(super) const OWNER: &str = "app";

/// Asserts the plan `from` → `to` (JSON values in [`snapshot`]'s short
/// form) against the insta snapshot named after the calling test, in
/// `tests/snapshots/`: the two inputs as the case wrote them, so that a
/// reviewer reads what was planned beside the SQL, then the rendered plan
/// ([`render`]).
macro_rules! assert_plan {
    ($from:expr, $to:expr, $opts:expr) => {{
        let (from, to): (serde_json::Value, serde_json::Value) = ($from, $to);
        let mut text = format!("from: {from}\nto:   {to}\n");
        text.push_str(&$crate::ddl::plan::tests::support::render(
            &$crate::ddl::plan::tests::support::snapshot(from),
            &$crate::ddl::plan::tests::support::snapshot(to),
            &$opts,
        ));
        insta::with_settings!({omit_expression => true}, {
            insta::assert_snapshot!(text);
        });
    }};
}

/// One test per case, named `$name`: [`assert_plan!`] on two JSON
/// literals, with the default options or `$opts`.
macro_rules! case {
    ($name:ident, $from:tt => $to:tt) => {
        case!($name, $crate::ddl::plan::PlanOptions::default(), $from => $to);
    };
    ($name:ident, $opts:expr, $from:tt => $to:tt) => {
        #[test]
        fn $name() {
            assert_plan!(serde_json::json!($from), serde_json::json!($to), $opts);
        }
    };
}

/// Options that let statements losing data run.
pub(super) fn drops() -> PlanOptions {
    PlanOptions {
        allow_drops: true,
        ..PlanOptions::default()
    }
}

/// Fields every object of a list gets unless the literal gives them.
fn defaults(list: &str) -> Value {
    match list {
        "schemas" => json!({"owner": OWNER, "acl": []}),
        "extensions" => json!({"schema": "public"}),
        "collations" => json!({
            "schema": "app", "provider": "libc", "deterministic": true, "owner": OWNER
        }),
        "types" => json!({
            "schema": "app", "owner": OWNER,
            "acl": [{"grantee": "PUBLIC", "privileges": ["USAGE"]}]
        }),
        "sequences" => json!({
            "schema": "app", "owner": OWNER, "data_type": "bigint", "start": 1,
            "increment": 1, "min": 1, "max": i64::MAX, "cache": 1, "cycle": false
        }),
        "tables" => json!({"schema": "app", "kind": "table", "owner": OWNER}),
        "views" | "materialized_views" => json!({"schema": "app", "owner": OWNER}),
        "functions" => json!({
            "schema": "app", "arguments": "", "kind": "function", "signature": "",
            "language": "sql", "volatility": "volatile", "parallel": "unsafe",
            "cost": 100.0, "owner": OWNER,
            "acl": [{"grantee": "PUBLIC", "privileges": ["EXECUTE"]}]
        }),
        "statistics" => json!({"schema": "app", "owner": OWNER}),
        "event_triggers" => json!({"enabled": "origin", "owner": OWNER}),
        "publications" => json!({
            "all_tables": false, "publish": ["insert", "update", "delete", "truncate"],
            "via_root": false, "owner": OWNER
        }),
        "foreign_data_wrappers" | "foreign_servers" => json!({"owner": OWNER}),
        "columns" => json!({}),
        "constraints" => json!({"validated": true}),
        "references" => {
            json!({"on_update": "no-action", "on_delete": "no-action", "match": "simple"})
        }
        "indexes" => json!({"method": "btree"}),
        "triggers" => json!({"level": "row", "enabled": "origin", "function": "app.touch"}),
        "policies" => json!({"command": "all", "permissive": true, "roles": ["PUBLIC"]}),
        "rules" => json!({"enabled": "origin"}),
        "acl" | "grants" => json!({"grantor": OWNER}),
        _ => json!({}),
    }
}

/// Adds `defaults` to `item` where it has no value.
fn fill(item: &mut Map<String, Value>, defaults: Value) {
    if let Value::Object(d) = defaults {
        for (k, v) in d {
            item.entry(k).or_insert(v);
        }
    }
}

/// Completes one object of list `list`, and the lists inside it.
fn complete(list: &str, value: &mut Value) {
    // A column may be written "name type": the type is everything after
    // the first space.
    if let (true, Value::String(text)) = (list == "columns", &*value) {
        let (name, data_type) = text.split_once(' ').expect("a column as \"name type\"");
        *value = json!({"name": name, "type": data_type});
    }
    let Value::Object(item) = value else {
        return;
    };
    fill(item, defaults(list));
    if let Some(references) = item.get_mut("references") {
        complete("references", references);
    }
    // Lists of names (the columns of a constraint, an index or a foreign
    // key's referenced side) stay as they are.
    if matches!(list, "constraints" | "indexes" | "references") {
        return;
    }
    for (key, inner) in item.iter_mut() {
        let nested = [
            "columns",
            "constraints",
            "indexes",
            "triggers",
            "policies",
            "rules",
            "acl",
            "grants",
        ];
        match inner {
            Value::Array(items) if nested.contains(&key.as_str()) => {
                for (i, x) in items.iter_mut().enumerate() {
                    complete(key, x);
                    // Columns are numbered in the order the literal lists them.
                    if let (true, Value::Object(c)) = (key == "columns", x) {
                        c.entry("position").or_insert(json!(i + 1));
                    }
                }
            }
            _ => {}
        }
    }
}

/// A snapshot of the objects in `objects` (the JSON of [`Objects`] with
/// every field a case leaves out given its plain default: schema `app`,
/// owner [`OWNER`], PostgreSQL's default grants to PUBLIC on functions and
/// types, plain sequences; columns may be `"name type"` and are numbered
/// in order).
pub(crate) fn snapshot(mut objects: Value) -> Snapshot {
    if let Value::Object(lists) = &mut objects {
        for (list, items) in lists.iter_mut() {
            for item in items.as_array_mut().into_iter().flatten() {
                complete(list, item);
            }
        }
    }
    let objects: Objects = serde_json::from_value(objects).expect("a snapshot's objects");
    Snapshot::new(Meta::default(), objects)
}

/// The plan `from` → `to` as its snapshot keeps it: whether it needs to run
/// outside one transaction, its warnings, and the SQL script a user runs.
///
/// Before rendering, it checks what holds for every plan: the script and
/// each statement parse as PostgreSQL SQL, the same pair plans the same
/// way twice, and the target compared with itself needs nothing (so the
/// case's JSON is a consistent schema).
pub(crate) fn render(from: &Snapshot, to: &Snapshot, opts: &PlanOptions) -> String {
    let p = plan(from, to, opts);
    assert!(
        !p.is_empty(),
        "a case whose plan is empty tests nothing: use no_change"
    );
    let sql = p.to_sql();
    for s in &p.statements {
        pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT)
            .unwrap_or_else(|e| panic!("does not parse: {}: {e}", s.sql));
    }
    pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT)
        .unwrap_or_else(|e| panic!("the script does not parse: {e}\n{sql}"));
    assert_eq!(plan(from, to, opts).to_sql(), sql, "the same plan twice");
    let itself = plan(to, to, opts);
    assert!(
        itself.is_empty(),
        "the target differs from itself:\n{}",
        itself.to_sql()
    );
    let mut text = format!("needs_no_transaction: {}\n", p.needs_no_transaction());
    if p.warnings.is_empty() {
        text.push_str("warnings: none\n");
    } else {
        text.push_str("warnings:\n");
        for w in &p.warnings {
            text.push_str(&format!("- {w}\n"));
        }
    }
    text.push_str("---\n");
    text.push_str(&sql);
    text
}

/// True when the two snapshots plan to nothing at all.
pub(crate) fn no_change(from: Value, to: Value) -> bool {
    plan(&snapshot(from), &snapshot(to), &PlanOptions::default()).is_empty()
}
