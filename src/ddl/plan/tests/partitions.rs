//! Partitioned tables and their partitions: parents before partitions,
//! partitions re-created when their bound changes, indexes the target
//! leaves invalid created ON ONLY the parent with partitions' indexes
//! attached one by one.

use super::support::drops;

fn partition(name: &str, bound: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "partition_of": "app.events", "partition_bound": bound,
    "columns": [
        {"name": "id", "type": "bigint", "not_null": true, "inherited": true},
        {"name": "happened", "type": "date", "not_null": true, "inherited": true}
    ]})
}

fn parent() -> serde_json::Value {
    serde_json::json!({"name": "events", "kind": "partitioned-table", "partition_by": "RANGE (happened)",
        "columns": [{"name": "id", "type": "bigint", "not_null": true},
            {"name": "happened", "type": "date", "not_null": true}]})
}

case!(partitioned_table_added_with_partitions,
    {} => {"tables": [
        parent(),
        partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"),
        partition("events_default", "DEFAULT")
    ]}
);

case!(partition_added_to_an_existing_parent,
    {"tables": [parent()]}
    => {"tables": [parent(), partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")]}
);

case!(partition_bound_changed_re_creates_it, drops(),
    {"tables": [parent(), partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")]}
    => {"tables": [parent(), partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')")]}
);

case!(partition_default_and_not_null_of_its_own,
    {"tables": [parent(), partition("events_default", "DEFAULT")]}
    => {"tables": [parent(), {"name": "events_default", "partition_of": "app.events", "partition_bound": "DEFAULT",
        "columns": [
            {"name": "id", "type": "bigint", "not_null": true, "inherited": true, "default": "0"},
            {"name": "happened", "type": "date", "not_null": true, "inherited": true}
        ]}]}
);

// Invalid in the target because the 2027 partition has no index attached.
case!(invalid_parent_index_created_on_only_with_attached_partition_indexes,
    {"tables": [parent(), partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"),
        partition("events_2027", "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")]}
    => {"tables": [
        {"name": "events", "kind": "partitioned-table", "partition_by": "RANGE (happened)",
            "columns": [{"name": "id", "type": "bigint", "not_null": true},
                {"name": "happened", "type": "date", "not_null": true}],
            "indexes": [{"name": "events_happened_idx", "keys": ["happened"], "valid": false}]},
        {"name": "events_2026", "partition_of": "app.events",
            "partition_bound": "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
            "columns": [
                {"name": "id", "type": "bigint", "not_null": true, "inherited": true},
                {"name": "happened", "type": "date", "not_null": true, "inherited": true}
            ],
            "indexes": [{"name": "events_2026_happened_idx", "keys": ["happened"],
                "partition_of": "app.events_happened_idx"}]},
        partition("events_2027", "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
    ]}
);

case!(partition_bound_change_without_drops_allowed,
    {"tables": [parent(), partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")]}
    => {"tables": [parent(), partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')")]}
);
