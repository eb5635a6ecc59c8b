//! Extended statistics: created after their table, re-created when they
//! change, their target set, dropped.

case!(statistics_added,
    {"tables": [{"name": "orders", "columns": ["customer_id bigint", "status text", "note text"]}]}
    => {
        "tables": [{"name": "orders", "columns": ["customer_id bigint", "status text", "note text"]}],
        "statistics": [
            {"name": "orders_stats", "table": "app.orders", "kinds": ["dependencies", "ndistinct"],
                "keys": ["customer_id", "status"], "target": 500, "comment": "planner hints"},
            {"name": "orders_expr_stats", "table": "app.orders", "kinds": ["expressions"],
                "keys": ["(lower(note))"]}
        ]
    }
);

case!(statistics_changed_is_re_created,
    {
        "tables": [{"name": "orders", "columns": ["customer_id bigint", "status text"]}],
        "statistics": [{"name": "orders_stats", "table": "app.orders", "kinds": ["ndistinct"],
            "keys": ["customer_id", "status"]}]
    } => {
        "tables": [{"name": "orders", "columns": ["customer_id bigint", "status text"]}],
        "statistics": [{"name": "orders_stats", "table": "app.orders", "kinds": ["mcv", "ndistinct"],
            "keys": ["customer_id", "status"]}]
    }
);

case!(statistics_dropped,
    {
        "tables": [{"name": "orders", "columns": ["customer_id bigint", "status text"]}],
        "statistics": [{"name": "orders_stats", "table": "app.orders", "kinds": ["ndistinct"],
            "keys": ["customer_id", "status"]}]
    } => {"tables": [{"name": "orders", "columns": ["customer_id bigint", "status text"]}]}
);
