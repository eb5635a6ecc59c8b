//! Foreign-data wrappers, foreign servers with their user mappings, and
//! foreign tables.

case!(wrapper_server_mapping_and_foreign_table_added,
    {} => {
        "foreign_data_wrappers": [{"name": "dummy", "options": ["debug=true"]}],
        "foreign_servers": [{"name": "archive", "wrapper": "dummy", "server_type": "pg",
            "version": "16", "options": ["dbname=old", "host=archive"], "user_mappings": ["reader", "public"]}],
        "tables": [{"name": "old_orders", "kind": "foreign-table", "server": "archive",
            "server_options": ["table_name=orders"],
            "columns": [{"name": "id", "type": "integer", "server_options": ["column_name=order_id"]},
                "total numeric"]}]
    }
);

case!(server_version_and_user_mappings_altered,
    {"foreign_servers": [{"name": "archive", "wrapper": "postgres_fdw", "version": "15",
        "user_mappings": ["old_reader"]}]}
    => {"foreign_servers": [{"name": "archive", "wrapper": "postgres_fdw", "version": "16",
        "user_mappings": ["new_reader"], "comment": "cold storage",
        "acl": [{"grantee": "new_reader", "privileges": ["USAGE"]}]}]}
);

case!(server_options_changed_re_creates_the_server,
    {"foreign_servers": [{"name": "archive", "wrapper": "postgres_fdw", "options": ["host=a"],
        "user_mappings": ["reader"]}]}
    => {"foreign_servers": [{"name": "archive", "wrapper": "postgres_fdw", "options": ["host=b"],
        "user_mappings": ["reader"]}]}
);

case!(wrapper_and_server_dropped, super::support::drops(),
    {
        "foreign_data_wrappers": [{"name": "dummy"}],
        "foreign_servers": [{"name": "archive", "wrapper": "dummy", "user_mappings": ["reader"]}]
    } => {}
);

case!(foreign_table_options_change_is_left_to_the_user,
    {"tables": [{"name": "old_orders", "kind": "foreign-table", "server": "archive",
        "server_options": ["table_name=orders"], "columns": ["id integer"]}]}
    => {"tables": [{"name": "old_orders", "kind": "foreign-table", "server": "archive",
        "server_options": ["table_name=orders_2020"], "columns": ["id integer"]}]}
);
