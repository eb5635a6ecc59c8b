//! Functions, procedures and aggregates: created, replaced in place while
//! the signature stays (CREATE OR REPLACE), dropped and created when it
//! changes, dropped; SQL-standard bodies placed after what they read.

use super::support::drops;

case!(function_added_with_every_attribute,
    {} => {"functions": [{
        "name": "secret", "returns": "integer", "body": "SELECT 42",
        "volatility": "stable", "strict": true, "leakproof": true, "parallel": "safe",
        "security_definer": true, "cost": 5.0, "config": ["search_path=app, pg_temp"],
        "comment": "the answer",
        "acl": [{"grantee": "reader", "privileges": ["EXECUTE"]}]
    }]}
);

case!(set_returning_plpgsql_function_added,
    {} => {"functions": [{
        "name": "numbers", "arguments": "n integer", "signature": "n integer DEFAULT 10",
        "returns": "SETOF integer", "language": "plpgsql", "rows": 10.0,
        "body": "\nBEGIN\n  RETURN QUERY SELECT generate_series(1, n);\nEND\n"
    }]}
);

case!(function_body_changed_is_replaced,
    {"functions": [{"name": "answer", "returns": "integer", "body": "SELECT 42"}]}
    => {"functions": [{"name": "answer", "returns": "integer", "body": "SELECT 43", "volatility": "immutable"}]}
);

case!(function_return_type_changed_is_dropped_and_created,
    {"functions": [{"name": "answer", "returns": "integer", "body": "SELECT 42"}]}
    => {"functions": [{"name": "answer", "returns": "bigint", "body": "SELECT 42::bigint"}]}
);

case!(function_dropped,
    {"functions": [{"name": "answer", "returns": "integer", "body": "SELECT 42"}]} => {}
);

case!(procedure_added,
    {} => {"functions": [{
        "name": "archive", "kind": "procedure", "arguments": "IN before date",
        "signature": "IN before date", "language": "plpgsql",
        "body": " BEGIN DELETE FROM app.orders WHERE placed_at < before; END "
    }]}
);

case!(aggregate_added,
    {} => {"functions": [{
        "name": "product", "kind": "aggregate", "arguments": "numeric", "signature": "numeric",
        "returns": "numeric", "language": "internal", "body": "aggregate_dummy",
        "volatility": "immutable", "parallel": "safe", "cost": 1.0,
        "aggregate": {"kind": "normal", "transition_function": "numeric_mul",
            "state_type": "numeric", "initial_condition": "1"}
    }]}
);

case!(standard_body_function_waits_for_the_table_it_reads,
    {} => {
        "tables": [{"name": "orders", "columns": ["customer_id bigint", "total numeric"]}],
        "functions": [{
            "name": "order_total", "arguments": "customer bigint", "signature": "customer bigint",
            "returns": "numeric", "volatility": "stable",
            "body": "RETURN (SELECT sum(orders.total) AS sum FROM app.orders WHERE (orders.customer_id = order_total.customer))"
        }]
    }
);

case!(function_called_by_a_standard_body_is_re_created_with_it, drops(),
    {"functions": [
        {"name": "base", "returns": "integer", "body": "SELECT 1"},
        {"name": "twice", "returns": "integer", "body": "RETURN (app.base() * 2)"}
    ]}
    => {"functions": [
        {"name": "base", "returns": "bigint", "body": "SELECT 1::bigint"},
        {"name": "twice", "returns": "integer", "body": "RETURN (app.base() * 2)"}
    ]}
);

case!(function_execute_revoked_from_public,
    {"functions": [{"name": "answer", "returns": "integer", "body": "SELECT 42"}]}
    => {"functions": [{"name": "answer", "returns": "integer", "body": "SELECT 42",
        "acl": [{"grantee": "reader", "privileges": ["EXECUTE"]}]}]}
);

case!(hostile_body_is_dollar_quoted,
    {} => {"functions": [{"name": "tricky", "returns": "text", "language": "plpgsql",
        "body": " BEGIN RETURN '$$; DROP TABLE x; $$' || $q$it's$q$; END "}]}
);

case!(overload_added_beside_an_existing_function,
    {"functions": [{"name": "area", "arguments": "r double precision", "signature": "r double precision",
        "returns": "double precision", "volatility": "immutable", "body": "SELECT pi() * r * r"}]}
    => {"functions": [
        {"name": "area", "arguments": "r double precision", "signature": "r double precision",
            "returns": "double precision", "volatility": "immutable", "body": "SELECT pi() * r * r"},
        {"name": "area", "arguments": "w double precision, h double precision",
            "signature": "w double precision, h double precision",
            "returns": "double precision", "volatility": "immutable", "body": "SELECT w * h"}
    ]}
);
