//! Materialized views: created with their indexes, dropped (their rows go:
//! held back), re-created when their query changes, indexes and extras
//! altered in place.

const COUNTS: &str =
    " SELECT customer_id,\n    count(*) AS n\n   FROM app.orders\n  GROUP BY customer_id;";

case!(materialized_view_added_with_its_index,
    {"tables": [{"name": "orders", "columns": ["customer_id bigint"]}]}
    => {
        "tables": [{"name": "orders", "columns": ["customer_id bigint"]}],
        "materialized_views": [{"name": "order_counts", "definition": COUNTS,
            "options": ["fillfactor=50"], "comment": "nightly",
            "columns": ["customer_id bigint", {"name": "n", "type": "bigint", "comment": "orders"}],
            "indexes": [{"name": "order_counts_customer_idx", "unique": true, "keys": ["customer_id"]}]}]
    }
);

case!(materialized_view_dropped_is_held_back,
    {
        "tables": [{"name": "orders", "columns": ["customer_id bigint"]}],
        "materialized_views": [{"name": "order_counts", "definition": COUNTS,
            "columns": ["customer_id bigint", "n bigint"]}]
    } => {"tables": [{"name": "orders", "columns": ["customer_id bigint"]}]}
);

case!(materialized_view_query_changed_is_re_created,
    {
        "tables": [{"name": "orders", "columns": ["customer_id bigint"]}],
        "materialized_views": [{"name": "order_counts", "definition": COUNTS,
            "columns": ["customer_id bigint", "n bigint"],
            "indexes": [{"name": "order_counts_customer_idx", "keys": ["customer_id"]}]}]
    } => {
        "tables": [{"name": "orders", "columns": ["customer_id bigint"]}],
        "materialized_views": [{"name": "order_counts",
            "definition": " SELECT customer_id,\n    count(*) AS n\n   FROM app.orders\n  WHERE (customer_id > 0)\n  GROUP BY customer_id;",
            "columns": ["customer_id bigint", "n bigint"],
            "indexes": [{"name": "order_counts_customer_idx", "keys": ["customer_id"]}]}]
    }
);

case!(materialized_view_index_and_extras_altered_in_place,
    {
        "tables": [{"name": "orders", "columns": ["customer_id bigint"]}],
        "materialized_views": [{"name": "order_counts", "definition": COUNTS,
            "columns": ["customer_id bigint", "n bigint"],
            "indexes": [{"name": "order_counts_n_idx", "keys": ["n"]}]}]
    } => {
        "tables": [{"name": "orders", "columns": ["customer_id bigint"]}],
        "materialized_views": [{"name": "order_counts", "definition": COUNTS, "owner": "reporting",
            "comment": "nightly",
            "acl": [{"grantee": "reporter", "privileges": ["SELECT"], "grantor": "reporting"}],
            "columns": ["customer_id bigint", "n bigint"],
            "indexes": [{"name": "order_counts_customer_idx", "unique": true, "keys": ["customer_id"]}]}]
    }
);
