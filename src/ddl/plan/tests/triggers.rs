//! Triggers on tables: created (with their enabled state and comment),
//! dropped, re-created when their definition changes, enabled, disabled
//! and commented in place.

fn orders(triggers: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"tables": [{"name": "orders",
        "columns": ["status text", "total numeric", "placed_at timestamp with time zone"],
        "triggers": triggers}]})
}

case!(row_trigger_added,
    {"tables": [{"name": "orders", "columns": ["status text", "total numeric"]}]}
    => {"tables": [{"name": "orders", "columns": ["status text", "total numeric"], "triggers": [
        {"name": "orders_touch", "timing": "before", "events": ["insert", "update of status"],
            "when": "(new.total IS NOT NULL)", "arguments": ["stamp", "it's"], "comment": "stamp"}
    ]}]}
);

#[test]
fn statement_trigger_with_a_transition_table_added_disabled() {
    let from = orders(serde_json::json!([]));
    let to = orders(serde_json::json!([
        {"name": "orders_audit", "timing": "after", "events": ["delete"], "level": "statement",
            "function": "audit.log", "old_table": "gone", "enabled": "disabled"}
    ]));
    assert_plan!(from, to, crate::ddl::plan::PlanOptions::default());
}

#[test]
fn constraint_trigger_added_deferred() {
    let from = orders(serde_json::json!([]));
    let to = orders(serde_json::json!([
        {"name": "orders_check", "timing": "after", "events": ["insert", "update"],
            "constraint": true, "deferrable": true, "initially_deferred": true,
            "function": "app.check_order"}
    ]));
    assert_plan!(from, to, crate::ddl::plan::PlanOptions::default());
}

case!(trigger_enabled_state_and_comment_altered_in_place,
    {"tables": [{"name": "orders", "columns": ["status text"], "triggers": [
        {"name": "a", "timing": "before", "events": ["insert"]},
        {"name": "b", "timing": "before", "events": ["insert"], "enabled": "disabled", "comment": "old"}
    ]}]}
    => {"tables": [{"name": "orders", "columns": ["status text"], "triggers": [
        {"name": "a", "timing": "before", "events": ["insert"], "enabled": "replica"},
        {"name": "b", "timing": "before", "events": ["insert"]}
    ]}]}
);

case!(trigger_changed_is_re_created,
    {"tables": [{"name": "orders", "columns": ["status text"], "triggers": [
        {"name": "orders_touch", "timing": "before", "events": ["insert"]}
    ]}]}
    => {"tables": [{"name": "orders", "columns": ["status text"], "triggers": [
        {"name": "orders_touch", "timing": "before", "events": ["insert", "update"]}
    ]}]}
);

case!(trigger_dropped,
    {"tables": [{"name": "orders", "columns": ["status text"], "triggers": [
        {"name": "orders_touch", "timing": "before", "events": ["insert"]}
    ]}]}
    => {"tables": [{"name": "orders", "columns": ["status text"]}]}
);

case!(update_of_a_column_needing_quotes_keeps_its_case,
    {"tables": [{"name": "orders", "columns": [{"name": "Status", "type": "text"}, "placed date"]}]}
    => {"tables": [{"name": "orders", "columns": [{"name": "Status", "type": "text"}, "placed date"],
        "triggers": [{"name": "orders_touch", "timing": "before",
            "events": ["update of \"Status\", placed"]}]}]}
);
