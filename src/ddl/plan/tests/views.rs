//! Views: created after what they read, dropped before it, re-created
//! when their query, options or columns change or when something they
//! read is dropped, re-created or re-typed; altered in place otherwise.

const ORDERS: &str = " SELECT id,\n    total\n   FROM app.orders;";

case!(view_added_after_its_table,
    {} => {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS,
            "options": ["security_invoker=true"], "comment": "for reports",
            "acl": [{"grantee": "reporter", "privileges": ["SELECT"]}],
            "columns": ["id bigint", {"name": "total", "type": "numeric", "comment": "gross"}]}]
    }
);

case!(view_dropped,
    {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS, "columns": ["id bigint", "total numeric"]}]
    } => {"tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}]}
);

case!(view_query_changed_is_re_created_with_its_extras,
    {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS, "comment": "for reports",
            "acl": [{"grantee": "reporter", "privileges": ["SELECT"]}],
            "columns": ["id bigint", "total numeric"]}]
    } => {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals",
            "definition": " SELECT id,\n    total\n   FROM app.orders\n  WHERE (total > (0)::numeric);",
            "comment": "for reports",
            "acl": [{"grantee": "reporter", "privileges": ["SELECT"]}],
            "columns": ["id bigint", "total numeric"]}]
    }
);

case!(views_reading_views_are_dropped_and_created_in_order,
    {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [
            {"name": "a_big", "definition": " SELECT id\n   FROM app.z_totals\n  WHERE (total > (100)::numeric);",
                "columns": ["id bigint"]},
            {"name": "z_totals", "definition": ORDERS, "columns": ["id bigint", "total numeric"]}
        ]
    } => {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [
            {"name": "a_big", "definition": " SELECT id\n   FROM app.z_totals\n  WHERE (total > (100)::numeric);",
                "columns": ["id bigint"]},
            {"name": "z_totals", "definition": " SELECT id,\n    total\n   FROM app.orders\n  WHERE (id > 0);",
                "columns": ["id bigint", "total numeric"]}
        ]
    }
);

case!(view_extras_altered_in_place,
    {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS, "comment": "old",
            "columns": ["id bigint", "total numeric"]}]
    } => {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS, "owner": "reporting",
            "acl": [{"grantee": "reporter", "privileges": ["SELECT"], "grantor": "reporting"}],
            "columns": [{"name": "id", "type": "bigint", "default": "0"},
                {"name": "total", "type": "numeric", "comment": "gross"}]}]
    }
);

case!(view_instead_of_trigger_added,
    {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS, "columns": ["id bigint", "total numeric"]}]
    } => {
        "tables": [{"name": "orders", "columns": ["id bigint", "total numeric"]}],
        "views": [{"name": "order_totals", "definition": ORDERS, "columns": ["id bigint", "total numeric"],
            "triggers": [{"name": "order_totals_insert", "timing": "instead-of", "events": ["insert"],
                "function": "app.order_totals_insert"}]}]
    }
);
