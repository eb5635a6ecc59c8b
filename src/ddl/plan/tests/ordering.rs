//! The orderings that make a plan run: what a statement needs exists
//! before it, what depends on a thing goes before the thing goes.

use super::support::drops;

case!(foreign_key_after_both_tables,
    {} => {"tables": [
        {"name": "a_orders", "columns": ["customer_id bigint"],
            "constraints": [{"name": "a_orders_customer_fk", "type": "foreign-key", "columns": ["customer_id"],
                "references": {"table": "app.z_customers", "columns": ["id"]}}]},
        {"name": "z_customers", "columns": [{"name": "id", "type": "bigint", "not_null": true}],
            "constraints": [{"name": "z_customers_pkey", "type": "primary-key", "columns": ["id"]}]}
    ]}
);

case!(dropped_tables_that_reference_each_other, drops(),
    {"tables": [
        {"name": "a", "columns": ["id bigint", "b_id bigint"],
            "constraints": [{"name": "a_pkey", "type": "primary-key", "columns": ["id"]},
                {"name": "a_b_fk", "type": "foreign-key", "columns": ["b_id"],
                    "references": {"table": "app.b", "columns": ["id"]}}]},
        {"name": "b", "columns": ["id bigint", "a_id bigint"],
            "constraints": [{"name": "b_pkey", "type": "primary-key", "columns": ["id"]},
                {"name": "b_a_fk", "type": "foreign-key", "columns": ["a_id"],
                    "references": {"table": "app.a", "columns": ["id"]}}]}
    ]} => {}
);

case!(view_dropped_before_the_column_it_reads, drops(),
    {
        "tables": [{"name": "orders", "columns": ["id bigint", "note text"]}],
        "views": [{"name": "notes", "definition": " SELECT id,\n    note\n   FROM app.orders;",
            "columns": ["id bigint", "note text"]}]
    } => {
        "tables": [{"name": "orders", "columns": ["id bigint"]}],
        "views": [{"name": "notes", "definition": " SELECT id\n   FROM app.orders;",
            "columns": ["id bigint"]}]
    }
);

case!(view_re_created_around_a_type_change_of_what_it_reads,
    {
        "tables": [{"name": "orders", "columns": ["id integer", "note text"]}],
        "views": [{"name": "ids", "definition": " SELECT id\n   FROM app.orders;", "columns": ["id integer"]}]
    } => {
        "tables": [{"name": "orders", "columns": ["id bigint", "note text"]}],
        "views": [{"name": "ids", "definition": " SELECT id\n   FROM app.orders;", "columns": ["id bigint"]}]
    }
);

case!(view_re_created_when_a_function_it_calls_is,
    {
        "functions": [{"name": "double_it", "arguments": "integer", "signature": "integer",
            "returns": "integer", "body": "SELECT $1 * 2"}],
        "views": [{"name": "doubled", "definition": " SELECT app.double_it(2) AS double_it;",
            "columns": ["double_it integer"]}]
    } => {
        "functions": [{"name": "double_it", "arguments": "integer", "signature": "integer",
            "returns": "bigint", "body": "SELECT $1 * 2::bigint"}],
        "views": [{"name": "doubled", "definition": " SELECT app.double_it(2) AS double_it;",
            "columns": ["double_it bigint"]}]
    }
);

case!(enum_value_committed_before_a_table_uses_it,
    {"types": [{"name": "status", "kind": "enum", "labels": ["new"]}]}
    => {
        "types": [{"name": "status", "kind": "enum", "labels": ["new", "paid"]}],
        "tables": [{"name": "payments", "columns": [{"name": "status", "type": "app.status",
            "default": "'paid'::app.status"}]}]
    }
);

#[test]
fn enum_value_in_a_migration_file() {
    let from = super::support::snapshot(serde_json::json!(
        {"types": [{"name": "status", "kind": "enum", "labels": ["new"]}]}
    ));
    let to = super::support::snapshot(serde_json::json!(
        {"types": [{"name": "status", "kind": "enum", "labels": ["new", "paid"]}],
         "tables": [{"name": "t", "columns": ["id bigint"]}]}
    ));
    let p = crate::ddl::plan::plan(&from, &to, &Default::default());
    assert!(p.needs_no_transaction());
    insta::assert_snapshot!(p.to_migration_sql());
}

case!(trigger_function_before_its_trigger,
    {"tables": [{"name": "orders", "columns": ["placed_at timestamp with time zone"]}]}
    => {
        "tables": [{"name": "orders", "columns": ["placed_at timestamp with time zone"], "triggers": [
            {"name": "orders_touch", "timing": "before", "events": ["insert"], "function": "app.touch"}]}],
        "functions": [{"name": "touch", "returns": "trigger", "language": "plpgsql",
            "body": "\nBEGIN\n  NEW.placed_at := coalesce(NEW.placed_at, now());\n  RETURN NEW;\nEND "}]
    }
);

case!(trigger_function_dropped_after_its_table_even_held_back,
    {
        "tables": [{"name": "orders", "columns": ["placed_at timestamp with time zone"], "triggers": [
            {"name": "orders_touch", "timing": "before", "events": ["insert"], "function": "app.touch"}]}],
        "functions": [{"name": "touch", "returns": "trigger", "language": "plpgsql",
            "body": " BEGIN RETURN NEW; END "}]
    } => {}
);

case!(function_returning_a_new_table_row_waits_for_it,
    {} => {
        "tables": [{"name": "orders", "columns": ["id bigint"]}],
        "functions": [{"name": "recent_orders", "returns": "SETOF app.orders",
            "body": "SELECT * FROM app.orders"}]
    }
);

case!(schema_and_types_before_the_tables_in_them,
    {} => {
        "schemas": [{"name": "billing"}],
        "types": [{"schema": "billing", "name": "currency", "kind": "enum", "labels": ["EUR", "USD"]}],
        "sequences": [{"schema": "billing", "name": "invoice_seq"}],
        "tables": [{"schema": "billing", "name": "invoices", "columns": [
            {"name": "id", "type": "bigint", "default": "nextval('billing.invoice_seq'::regclass)"},
            "currency billing.currency"]}]
    }
);
