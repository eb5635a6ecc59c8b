//! Indexes: built on an existing table (blocking writes, or CONCURRENTLY
//! after the transaction), created with a new table, dropped, changed
//! (dropped and built again) and commented in place.

use crate::ddl::plan::PlanOptions;

fn concurrently() -> PlanOptions {
    PlanOptions {
        concurrently: true,
        ..PlanOptions::default()
    }
}

case!(index_built_on_an_existing_table,
    {"tables": [{"name": "orders", "columns": ["placed_at timestamp with time zone", "status text"]}]}
    => {"tables": [{"name": "orders", "columns": ["placed_at timestamp with time zone", "status text"],
        "indexes": [{"name": "orders_placed_idx", "keys": ["placed_at DESC NULLS LAST"],
            "predicate": "(status <> 'new'::text)", "options": ["fillfactor=80"],
            "comment": "recent orders"}]}]}
);

case!(unique_index_may_fail,
    {"tables": [{"name": "users", "columns": ["email text", "name text"]}]}
    => {"tables": [{"name": "users", "columns": ["email text", "name text"],
        "indexes": [{"name": "users_email_idx", "unique": true, "keys": ["lower(email)"],
            "include": ["name"], "nulls_not_distinct": true}]}]}
);

case!(index_built_concurrently_after_the_transaction, concurrently(),
    {"tables": [{"name": "orders", "columns": ["customer_id bigint", "note text"]}]}
    => {"tables": [{"name": "orders", "columns": ["customer_id bigint", "note text"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id"]},
            {"name": "orders_note_trgm", "method": "gin", "keys": ["note public.gin_trgm_ops"]}]}]}
);

case!(index_on_a_new_table_is_not_a_hazard, concurrently(),
    {} => {"tables": [{"name": "orders", "columns": ["customer_id bigint"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id"]}]}]}
);

case!(index_dropped,
    {"tables": [{"name": "orders", "columns": ["customer_id bigint"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id"]}]}]}
    => {"tables": [{"name": "orders", "columns": ["customer_id bigint"]}]}
);

case!(index_changed_is_dropped_and_built_again,
    {"tables": [{"name": "orders", "columns": ["customer_id bigint", "placed_at date"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id"]}]}]}
    => {"tables": [{"name": "orders", "columns": ["customer_id bigint", "placed_at date"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id", "placed_at"]}]}]}
);

case!(index_comment_changed_in_place,
    {"tables": [{"name": "orders", "columns": ["customer_id bigint"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id"], "comment": "by customer"}]}]}
    => {"tables": [{"name": "orders", "columns": ["customer_id bigint"],
        "indexes": [{"name": "orders_customer_idx", "keys": ["customer_id"]}]}]}
);
