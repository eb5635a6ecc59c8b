//! Columns of a table that stays: added, dropped, re-typed (widenings that
//! keep every value run; casts that may lose values are held back), their
//! default, NOT NULL, identity, generation and per-column settings, and
//! the column order.

use super::support::drops;
use crate::ddl::plan::PlanOptions;

case!(nullable_column_added,
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint", "note text"]}]}
);

case!(not_null_column_without_default_may_fail,
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint",
        {"name": "total", "type": "numeric(12,2)", "not_null": true}]}]}
);

case!(not_null_column_with_default_added,
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint",
        {"name": "status", "type": "text", "not_null": true, "default": "'new'::text",
            "collation": "\"C\""}]}]}
);

case!(column_dropped_is_held_back,
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
);

case!(column_dropped_with_drops_allowed, drops(),
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
);

case!(varchar_widened_in_the_catalog_only,
    {"tables": [{"name": "users", "columns": ["id bigint", "email character varying(50)"]}]}
    => {"tables": [{"name": "users", "columns": ["id bigint", "email character varying(100)"]}]}
);

case!(integer_widened_to_bigint_rewrites,
    {"tables": [{"name": "users", "columns": ["id integer"]}]}
    => {"tables": [{"name": "users", "columns": ["id bigint"]}]}
);

case!(narrowing_is_held_back,
    {"tables": [{"name": "users", "columns": ["id bigint", "name text"]}]}
    => {"tables": [{"name": "users", "columns": ["id integer", "name character varying(20)"]}]}
);

case!(retype_with_a_default_drops_and_sets_it_again, drops(),
    {"tables": [{"name": "users", "columns": [{"name": "score", "type": "bigint", "default": "0"}]}]}
    => {"tables": [{"name": "users", "columns": [{"name": "score", "type": "integer", "default": "0"}]}]}
);

case!(retype_without_a_known_cast_goes_through_text, drops(),
    {"tables": [{"name": "events", "columns": ["at bigint", "tags text[]"]}]}
    => {"tables": [{"name": "events", "columns": ["at timestamp without time zone", "tags character varying(20)[]"]}]}
);

case!(collation_changed, drops(),
    {"tables": [{"name": "users", "columns": ["name text"]}]}
    => {"tables": [{"name": "users", "columns": [{"name": "name", "type": "text", "collation": "\"C\""}]}]}
);

case!(default_set_changed_and_dropped,
    {"tables": [{"name": "t", "columns": [
        "a integer",
        {"name": "b", "type": "integer", "default": "1"},
        {"name": "c", "type": "integer", "default": "2"}
    ]}]}
    => {"tables": [{"name": "t", "columns": [
        {"name": "a", "type": "integer", "default": "0"},
        {"name": "b", "type": "integer", "default": "10"},
        "c integer"
    ]}]}
);

case!(not_null_set_and_dropped,
    {"tables": [{"name": "t", "columns": ["a integer", {"name": "b", "type": "integer", "not_null": true}]}]}
    => {"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer", "not_null": true}, "b integer"]}]}
);

case!(identity_added_to_a_nullable_column,
    {"tables": [{"name": "t", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "t", "columns": [{"name": "id", "type": "bigint", "not_null": true,
        "identity": {"generation": "by-default", "sequence": {"data_type": "bigint",
            "start": 1, "increment": 1, "min": 1, "max": 9223372036854775807i64, "cache": 1, "cycle": false}}}]}]}
);

case!(identity_options_changed,
    {"tables": [{"name": "t", "columns": [{"name": "id", "type": "bigint", "not_null": true,
        "identity": {"generation": "by-default", "sequence": {"data_type": "bigint",
            "start": 1, "increment": 1, "min": 1, "max": 9223372036854775807i64, "cache": 1, "cycle": false}}}]}]}
    => {"tables": [{"name": "t", "columns": [{"name": "id", "type": "bigint", "not_null": true,
        "identity": {"generation": "always", "sequence": {"data_type": "bigint",
            "start": 100, "increment": 5, "min": 1, "max": 1000000, "cache": 10, "cycle": true}}}]}]}
);

case!(identity_dropped,
    {"tables": [{"name": "t", "columns": [{"name": "id", "type": "integer", "not_null": true,
        "identity": {"generation": "always", "sequence": {"data_type": "integer",
            "start": 1, "increment": 1, "min": 1, "max": 2147483647, "cache": 1, "cycle": false}}}]}]}
    => {"tables": [{"name": "t", "columns": [{"name": "id", "type": "integer", "not_null": true}]}]}
);

case!(generated_column_expression_dropped,
    {"tables": [{"name": "t", "columns": ["a integer", {"name": "b", "type": "integer", "generated": "(a * 2)"}]}]}
    => {"tables": [{"name": "t", "columns": ["a integer", "b integer"]}]}
);

case!(generated_column_expression_changed, drops(),
    {"tables": [{"name": "t", "columns": ["a integer", {"name": "b", "type": "integer", "generated": "(a * 2)"}]}]}
    => {"tables": [{"name": "t", "columns": ["a integer", {"name": "b", "type": "integer", "generated": "(a * 3)"}]}]}
);

case!(per_column_settings_changed,
    {"tables": [{"name": "t", "columns": [
        {"name": "body", "type": "text", "options": ["n_distinct=100"]},
        {"name": "doc", "type": "jsonb", "statistics_target": 500}
    ]}]}
    => {"tables": [{"name": "t", "columns": [
        {"name": "body", "type": "text", "storage": "external", "compression": "lz4",
            "options": ["n_distinct_inherited=50"]},
        {"name": "doc", "type": "jsonb"}
    ]}]}
);

case!(column_added_in_the_middle_leaves_the_order_with_a_note,
    {"tables": [{"name": "t", "columns": ["id bigint", "note text"]}]}
    => {"tables": [{"name": "t", "columns": ["id bigint", "total numeric", "note text"]}]}
);

case!(column_added_in_the_middle_is_moved_into_place,
    PlanOptions { reorder_columns: true, ..PlanOptions::default() },
    {"tables": [{"name": "t", "columns": ["id bigint",
        {"name": "note", "type": "text", "not_null": true, "default": "''::text"}]}]}
    => {"tables": [{"name": "t", "columns": ["id bigint", "total numeric",
        {"name": "note", "type": "text", "not_null": true, "default": "''::text"}]}]}
);
