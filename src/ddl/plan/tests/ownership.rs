//! Owners: an existing object's owner changed; a new object owned by the
//! role that owns most of the target (taken to run the migration) needs no
//! ALTER … OWNER, one owned by another role does. A serial's sequence
//! follows its table.

case!(owners_changed_on_many_kinds,
    {
        "schemas": [{"name": "app"}],
        "types": [{"name": "mood", "kind": "enum", "labels": ["ok"]}],
        "sequences": [{"name": "s"}],
        "tables": [{"name": "orders", "columns": ["id bigint"]}],
        "functions": [{"name": "f", "returns": "integer", "body": "SELECT 1"}],
        "views": [{"name": "v", "definition": " SELECT id\n   FROM app.orders;", "columns": ["id bigint"]}]
    } => {
        "schemas": [{"name": "app", "owner": "admin"}],
        "types": [{"name": "mood", "kind": "enum", "labels": ["ok"], "owner": "admin"}],
        "sequences": [{"name": "s", "owner": "admin"}],
        "tables": [{"name": "orders", "columns": ["id bigint"], "owner": "admin"}],
        "functions": [{"name": "f", "returns": "integer", "body": "SELECT 1", "owner": "admin"}],
        "views": [{"name": "v", "definition": " SELECT id\n   FROM app.orders;", "columns": ["id bigint"]}]
    }
);

case!(new_objects_owned_by_another_role,
    {} => {"tables": [
        {"name": "a", "columns": ["id bigint"]},
        {"name": "b", "columns": ["id bigint"]},
        {"name": "audit_log", "owner": "auditor", "columns": ["id bigint"]}
    ]}
);

case!(owned_sequence_follows_its_table,
    {
        "sequences": [{"name": "t_id_seq", "owned_by": "app.t.id"}],
        "tables": [{"name": "t", "columns": [{"name": "id", "type": "bigint", "default": "nextval('app.t_id_seq'::regclass)"}]},
            {"name": "u", "columns": ["id bigint"]}]
    } => {
        "sequences": [{"name": "t_id_seq", "owned_by": "app.t.id", "owner": "other"}],
        "tables": [{"name": "t", "owner": "other", "columns": [{"name": "id", "type": "bigint", "default": "nextval('app.t_id_seq'::regclass)"}]},
            {"name": "u", "columns": ["id bigint"]}]
    }
);

case!(new_view_owned_by_another_role,
    {"tables": [{"name": "a", "columns": ["id bigint"]}, {"name": "b", "columns": ["id bigint"]}]}
    => {
        "tables": [{"name": "a", "columns": ["id bigint"]}, {"name": "b", "columns": ["id bigint"]}],
        "views": [{"name": "audit_view", "owner": "auditor", "definition": " SELECT id\n   FROM app.a;",
            "columns": ["id bigint"]}],
        "materialized_views": [{"name": "audit_counts", "owner": "auditor",
            "definition": " SELECT count(*) AS n\n   FROM app.a;", "columns": ["n bigint"]}]
    }
);
