//! Table constraints: added (a new key or CHECK may fail on existing rows;
//! NOT VALID ones do not check them), dropped, changed (dropped and added
//! again), commented in place; foreign keys added after every table and
//! re-added around a key they lean on.

use super::support::drops;

case!(primary_key_and_unique_added,
    {"tables": [{"name": "users", "columns": [{"name": "id", "type": "bigint", "not_null": true},
        "email text", "name text"]}]}
    => {"tables": [{"name": "users", "columns": [{"name": "id", "type": "bigint", "not_null": true},
        "email text", "name text"],
        "constraints": [
            {"name": "users_pkey", "type": "primary-key", "columns": ["id"]},
            {"name": "users_email_key", "type": "unique", "columns": ["email"], "include": ["name"],
                "nulls_not_distinct": true}
        ]}]}
);

case!(check_added_not_valid_does_not_check_rows,
    {"tables": [{"name": "orders", "columns": ["note text"]}]}
    => {"tables": [{"name": "orders", "columns": ["note text"], "constraints": [
        {"name": "orders_note_short", "type": "check", "expression": "(length(note) < 500)",
            "validated": false}
    ]}]}
);

case!(check_changed_is_dropped_and_added,
    {"tables": [{"name": "orders", "columns": ["total numeric"], "constraints": [
        {"name": "orders_total_check", "type": "check", "expression": "(total > (0)::numeric)"}
    ]}]}
    => {"tables": [{"name": "orders", "columns": ["total numeric"], "constraints": [
        {"name": "orders_total_check", "type": "check", "expression": "(total >= (0)::numeric)"}
    ]}]}
);

case!(constraint_dropped,
    {"tables": [{"name": "orders", "columns": ["total numeric"], "constraints": [
        {"name": "orders_total_check", "type": "check", "expression": "(total > (0)::numeric)"}
    ]}]}
    => {"tables": [{"name": "orders", "columns": ["total numeric"]}]}
);

case!(constraint_comment_changed_in_place,
    {"tables": [{"name": "orders", "columns": ["total numeric"], "constraints": [
        {"name": "orders_total_check", "type": "check", "expression": "(total > (0)::numeric)",
            "comment": "old"}
    ]}]}
    => {"tables": [{"name": "orders", "columns": ["total numeric"], "constraints": [
        {"name": "orders_total_check", "type": "check", "expression": "(total > (0)::numeric)",
            "comment": "positive, it's money"}
    ]}]}
);

case!(foreign_key_added_between_new_tables,
    {} => {"tables": [
        {"name": "customers", "columns": [{"name": "id", "type": "bigint", "not_null": true}],
            "constraints": [{"name": "customers_pkey", "type": "primary-key", "columns": ["id"]}]},
        {"name": "orders", "columns": ["id bigint", "customer_id bigint"],
            "constraints": [{"name": "orders_customer_fk", "type": "foreign-key",
                "columns": ["customer_id"], "deferrable": true, "initially_deferred": true,
                "references": {"table": "app.customers", "columns": ["id"], "on_delete": "cascade"}}]}
    ]}
);

case!(foreign_key_with_set_null_columns_added,
    {"tables": [
        {"name": "a", "columns": [{"name": "id", "type": "bigint", "not_null": true}, "tenant bigint"],
            "constraints": [{"name": "a_pkey", "type": "unique", "columns": ["tenant", "id"]}]},
        {"name": "b", "columns": ["tenant bigint", "a_id bigint"]}
    ]}
    => {"tables": [
        {"name": "a", "columns": [{"name": "id", "type": "bigint", "not_null": true}, "tenant bigint"],
            "constraints": [{"name": "a_pkey", "type": "unique", "columns": ["tenant", "id"]}]},
        {"name": "b", "columns": ["tenant bigint", "a_id bigint"],
            "constraints": [{"name": "b_a_fk", "type": "foreign-key", "columns": ["tenant", "a_id"],
                "validated": false, "references": {"table": "app.a", "columns": ["tenant", "id"],
                    "on_delete": "set-null", "on_delete_columns": ["a_id"], "match": "full"}}]}
    ]}
);

case!(foreign_keys_leaning_on_a_changed_key_are_added_again, drops(),
    {"tables": [
        {"name": "customers", "columns": [{"name": "id", "type": "bigint", "not_null": true}, "code text"],
            "constraints": [{"name": "customers_pkey", "type": "primary-key", "columns": ["id"]}]},
        {"name": "orders", "columns": ["customer_id bigint"],
            "constraints": [{"name": "orders_customer_fk", "type": "foreign-key",
                "columns": ["customer_id"], "references": {"table": "app.customers", "columns": ["id"]}}]}
    ]}
    => {"tables": [
        {"name": "customers", "columns": [{"name": "id", "type": "bigint", "not_null": true}, "code text"],
            "constraints": [{"name": "customers_pkey", "type": "primary-key", "columns": ["id"],
                "include": ["code"]}]},
        {"name": "orders", "columns": ["customer_id bigint"],
            "constraints": [{"name": "orders_customer_fk", "type": "foreign-key",
                "columns": ["customer_id"], "references": {"table": "app.customers", "columns": ["id"]}}]}
    ]}
);

case!(exclusion_constraint_added,
    {"tables": [{"name": "rooms", "columns": ["id integer", "during tsrange"]}]}
    => {"tables": [{"name": "rooms", "columns": ["id integer", "during tsrange"], "constraints": [
        {"name": "rooms_no_overlap", "type": "exclusion", "columns": ["id", "during"],
            "expression": "EXCLUDE USING gist (id WITH =, during WITH &&)"}
    ]}]}
);

case!(foreign_key_with_disabled_triggers_is_left_to_the_user,
    {"tables": [
        {"name": "p", "columns": [{"name": "id", "type": "bigint", "not_null": true}],
            "constraints": [{"name": "p_pkey", "type": "primary-key", "columns": ["id"]}]},
        {"name": "c", "columns": ["p_id bigint"]}
    ]}
    => {"tables": [
        {"name": "p", "columns": [{"name": "id", "type": "bigint", "not_null": true}],
            "constraints": [{"name": "p_pkey", "type": "primary-key", "columns": ["id"]}]},
        {"name": "c", "columns": ["p_id bigint"],
            "constraints": [{"name": "c_p_fk", "type": "foreign-key", "columns": ["p_id"],
                "triggers_disabled": true, "references": {"table": "app.p", "columns": ["id"]}}]}
    ]}
);

case!(temporal_keys_added,
    {} => {"tables": [
        {"name": "rooms", "columns": [{"name": "id", "type": "integer", "not_null": true},
            {"name": "valid_at", "type": "tstzrange", "not_null": true}],
            "constraints": [{"name": "rooms_pkey", "type": "primary-key", "columns": ["id", "valid_at"],
                "without_overlaps": true}]},
        {"name": "stays", "columns": ["room_id integer", "valid_at tstzrange"],
            "constraints": [{"name": "stays_room_fk", "type": "foreign-key", "columns": ["room_id", "valid_at"],
                "references": {"table": "app.rooms", "columns": ["id", "valid_at"], "period": true}}]}
    ]}
);

// PostgreSQL 18 marks a NOT ENFORCED constraint not validated too.
case!(not_enforced_check_added,
    {"tables": [{"name": "orders", "columns": ["total numeric"]}]}
    => {"tables": [{"name": "orders", "columns": ["total numeric"], "constraints": [
        {"name": "orders_total_check", "type": "check", "expression": "(total > (0)::numeric)",
            "not_enforced": true, "validated": false}
    ]}]}
);
