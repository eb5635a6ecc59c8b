//! Renames the differ proves (one removed and one added object with the
//! same definition, a column in the same place): written as RENAME, first,
//! and nothing else about the object is dropped or created.

case!(table_renamed,
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text"],
        "constraints": [{"name": "orders_note_check", "type": "check", "expression": "(note <> ''::text)"}]}]}
    => {"tables": [{"name": "purchases", "columns": ["id bigint", "note text"],
        "constraints": [{"name": "orders_note_check", "type": "check", "expression": "(note <> ''::text)"}]}]}
);

case!(table_renamed_under_a_view_that_follows_it,
    {
        "tables": [{"name": "orders", "columns": ["id bigint"]}],
        "views": [{"name": "v", "definition": " SELECT id\n   FROM app.orders;", "columns": ["id bigint"]}]
    } => {
        "tables": [{"name": "purchases", "columns": ["id bigint"]}],
        "views": [{"name": "v", "definition": " SELECT id\n   FROM app.purchases;", "columns": ["id bigint"]}]
    }
);

case!(table_with_an_identity_column_renamed,
    {"tables": [{"name": "orders", "columns": [{"name": "id", "type": "bigint", "not_null": true,
        "identity": {"generation": "always", "sequence": {"data_type": "bigint",
            "start": 1, "increment": 1, "min": 1, "max": 9223372036854775807i64, "cache": 1, "cycle": false}}}]}]}
    => {"tables": [{"name": "purchases", "columns": [{"name": "id", "type": "bigint", "not_null": true,
        "identity": {"generation": "always", "sequence": {"data_type": "bigint",
            "start": 1, "increment": 1, "min": 1, "max": 9223372036854775807i64, "cache": 1, "cycle": false}}}]}]}
);

case!(column_renamed_with_what_names_it,
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text", "total numeric"],
        "indexes": [{"name": "orders_note_idx", "keys": ["lower(note)"], "predicate": "(note IS NOT NULL)"}],
        "constraints": [{"name": "orders_note_key", "type": "unique", "columns": ["note"]}]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint", "remark text", "total numeric"],
        "indexes": [{"name": "orders_note_idx", "keys": ["lower(remark)"], "predicate": "(remark IS NOT NULL)"}],
        "constraints": [{"name": "orders_note_key", "type": "unique", "columns": ["remark"]}]}]}
);

case!(column_renamed_to_a_name_needing_quotes,
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text", "total numeric"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint",
        {"name": "Customer Note", "type": "text"}, "total numeric"]}]}
);

case!(index_renamed,
    {"tables": [{"name": "orders", "columns": ["id bigint"],
        "indexes": [{"name": "orders_id_idx", "keys": ["id"]}]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"],
        "indexes": [{"name": "orders_by_id", "keys": ["id"]}]}]}
);

case!(constraint_renamed,
    {"tables": [{"name": "orders", "columns": ["id bigint"],
        "constraints": [{"name": "orders_id_check", "type": "check", "expression": "(id > 0)"}]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"],
        "constraints": [{"name": "orders_id_positive", "type": "check", "expression": "(id > 0)"}]}]}
);

case!(serial_sequence_renamed,
    {
        "sequences": [{"name": "legacy_seq", "owned_by": "app.t.id"}],
        "tables": [{"name": "t", "columns": [{"name": "id", "type": "bigint", "not_null": true,
            "default": "nextval('app.legacy_seq'::regclass)"}]}]
    } => {
        "sequences": [{"name": "t_id_seq", "owned_by": "app.t.id"}],
        "tables": [{"name": "t", "columns": [{"name": "id", "type": "bigint", "not_null": true,
            "default": "nextval('app.t_id_seq'::regclass)"}]}]
    }
);

case!(column_renamed_to_a_name_needing_quotes_under_an_index_and_a_trigger,
    {"tables": [{"name": "orders", "columns": ["id bigint", "note text", "total numeric"],
        "indexes": [{"name": "orders_note_idx", "keys": ["lower(note)"]}],
        "triggers": [{"name": "orders_touch", "timing": "before", "events": ["update of note"]}]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint",
        {"name": "Customer Note", "type": "text"}, "total numeric"],
        "indexes": [{"name": "orders_note_idx", "keys": ["lower(\"Customer Note\")"]}],
        "triggers": [{"name": "orders_touch", "timing": "before", "events": ["update of \"Customer Note\""]}]}]}
);
