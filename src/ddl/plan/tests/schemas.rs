//! Schemas: created with their owner, comment and grants, dropped once
//! everything in them is gone (held back: what is left in one goes too),
//! and their attributes altered in place.

case!(schema_added,
    {} => {"schemas": [{"name": "billing", "comment": "money",
        "acl": [{"grantee": "reader", "privileges": ["USAGE"]}]}]}
);

case!(schema_dropped_is_held_back,
    {"schemas": [{"name": "billing"}]} => {}
);

case!(schema_dropped_after_its_tables, super::support::drops(),
    {"schemas": [{"name": "billing"}], "tables": [{"schema": "billing", "name": "invoices", "columns": ["id bigint"]}]}
    => {}
);

case!(schema_attributes_altered,
    {"schemas": [{"name": "billing", "comment": "money",
        "acl": [{"grantee": "reader", "privileges": ["USAGE"]}]}]}
    => {"schemas": [{"name": "billing", "owner": "finance",
        "acl": [{"grantee": "reader", "privileges": ["USAGE", "CREATE"], "grantor": "finance"}]}]}
);
