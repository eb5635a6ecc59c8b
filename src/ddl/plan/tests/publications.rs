//! Publications: created for all tables, for tables (column lists, row
//! filters) or for schemas; re-created when what they publish changes;
//! owner and comment altered in place.

case!(publication_for_tables_added,
    {"tables": [{"name": "orders", "columns": ["id bigint", "customer_id bigint", "note text"]},
        {"name": "customers", "columns": ["id bigint"]}]}
    => {
        "tables": [{"name": "orders", "columns": ["id bigint", "customer_id bigint", "note text"]},
            {"name": "customers", "columns": ["id bigint"]}],
        "publications": [{"name": "app_changes", "publish": ["insert", "update"], "tables": [
            {"table": "app.customers"},
            {"table": "app.orders", "columns": ["id", "customer_id"], "row_filter": "(customer_id > 0)"}
        ]}]
    }
);

case!(publication_for_all_tables_added,
    {} => {"publications": [{"name": "everything", "all_tables": true, "via_root": true}]}
);

case!(publication_for_a_schema_added,
    {} => {"publications": [{"name": "app_schema", "schemas": ["app"], "generated_columns": "stored"}]}
);

case!(publication_changed_is_re_created,
    {"publications": [{"name": "app_changes", "schemas": ["app"]}]}
    => {"publications": [{"name": "app_changes", "schemas": ["app"], "publish": ["insert"]}]}
);

case!(publication_owner_and_comment_altered_in_place,
    {"publications": [{"name": "app_changes", "schemas": ["app"]}]}
    => {"publications": [{"name": "app_changes", "schemas": ["app"], "owner": "replicator",
        "comment": "to the warehouse"}]}
);
