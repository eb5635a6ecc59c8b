//! Tables: created with their inline constraints and extras, dropped
//! (held back unless drops are allowed), re-created when what ALTER cannot
//! change differs, and their table-level settings altered in place.

use super::support::{drops, no_change};
use serde_json::json;

case!(table_added,
    {} => {"tables": [{
        "name": "orders",
        "comment": "one row per order",
        "columns": [
            {"name": "id", "type": "bigint", "not_null": true},
            {"name": "placed_at", "type": "timestamp with time zone", "not_null": true, "default": "now()"},
            "note text"
        ],
        "constraints": [
            {"name": "orders_pkey", "type": "primary-key", "columns": ["id"]},
            {"name": "orders_note_short", "type": "check", "expression": "(length(note) < 500)"}
        ]
    }]}
);

case!(table_dropped_is_held_back,
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text"]}]} => {}
);

case!(table_dropped_with_drops_allowed, drops(),
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text"]}]} => {}
);

case!(unlogged_table_added,
    {} => {"tables": [{"name": "scratch", "unlogged": true, "options": ["fillfactor=70"],
        "columns": ["k text", "v text"]}]}
);

case!(table_made_logged,
    {"tables": [{"name": "scratch", "unlogged": true, "columns": ["k text"]}]}
    => {"tables": [{"name": "scratch", "columns": ["k text"]}]}
);

case!(storage_parameters_changed,
    {"tables": [{"name": "orders", "options": ["autovacuum_enabled=false", "fillfactor=90"],
        "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "options": ["fillfactor=70"], "columns": ["id bigint"]}]}
);

case!(replica_identity_and_cluster_set,
    {"tables": [{"name": "orders", "columns": [{"name": "id", "type": "bigint", "not_null": true}],
        "constraints": [{"name": "orders_pkey", "type": "primary-key", "columns": ["id"]}]}]}
    => {"tables": [{"name": "orders", "replica_identity": "using index orders_pkey",
        "cluster_on": "orders_pkey",
        "columns": [{"name": "id", "type": "bigint", "not_null": true}],
        "constraints": [{"name": "orders_pkey", "type": "primary-key", "columns": ["id"]}]}]}
);

case!(replica_identity_and_cluster_reset,
    {"tables": [{"name": "scratch", "replica_identity": "full", "cluster_on": "scratch_k_idx",
        "columns": ["k text"], "indexes": [{"name": "scratch_k_idx", "keys": ["k"]}]}]}
    => {"tables": [{"name": "scratch", "columns": ["k text"],
        "indexes": [{"name": "scratch_k_idx", "keys": ["k"]}]}]}
);

case!(tablespace_change_is_left_to_the_user,
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "tablespace": "fast", "columns": ["id bigint"]}]}
);

case!(child_table_created_after_its_parent,
    {} => {"tables": [
        {"name": "a_child", "inherits": ["app.z_parent"], "columns": [
            {"name": "id", "type": "integer", "inherited": true},
            "extra integer"
        ]},
        {"name": "z_parent", "columns": ["id integer"]}
    ]}
);

case!(inheritance_change_recreates_the_table, drops(),
    {"tables": [
        {"name": "items", "columns": ["id integer"]},
        {"name": "special", "columns": ["id integer"]}
    ]}
    => {"tables": [
        {"name": "items", "columns": ["id integer"]},
        {"name": "special", "inherits": ["app.items"],
            "columns": [{"name": "id", "type": "integer", "inherited": true}]}
    ]}
);

case!(rule_added_and_dropped,
    {"tables": [{"name": "scratch", "columns": ["k text"], "rules": [
        {"name": "scratch_no_update", "definition": "CREATE RULE scratch_no_update AS\n    ON UPDATE TO app.scratch DO INSTEAD NOTHING;"}
    ]}]}
    => {"tables": [{"name": "scratch", "columns": ["k text"], "rules": [
        {"name": "scratch_no_delete", "definition": "CREATE RULE scratch_no_delete AS\n    ON DELETE TO app.scratch DO INSTEAD NOTHING;"}
    ]}]}
);

case!(hostile_names_are_quoted,
    {} => {"schemas": [{"name": "Sales Team"}], "tables": [{
        "schema": "Sales Team", "name": "order\"s; DROP TABLE x",
        "columns": [{"name": "Select", "type": "integer"}, "user text"]
    }]}
);

#[test]
fn the_same_tables_plan_nothing() {
    let t = json!({"tables": [{"name": "orders", "columns": ["id bigint"],
        "options": ["fillfactor=90"], "comment": "kept"}]});
    assert!(no_change(t.clone(), t));
}

case!(custom_timeouts_are_written_as_literals,
    crate::ddl::plan::PlanOptions {
        lock_timeout: "5s'; DROP TABLE x; --".into(),
        statement_timeout: "1h".into(),
        ..crate::ddl::plan::PlanOptions::default()
    },
    {} => {"tables": [{"name": "t", "columns": ["id bigint"]}]}
);
