//! User-defined types: enums (values added in place, committed before the
//! transaction; otherwise the type re-created and its columns converted),
//! domains, composite and range types.

case!(enum_added,
    {} => {"types": [{"name": "status", "kind": "enum", "labels": ["new", "paid", "it's shipped"],
        "comment": "order lifecycle"}]}
);

case!(enum_values_added_in_place_before_the_transaction,
    {"types": [{"name": "status", "kind": "enum", "labels": ["new", "shipped"]}]}
    => {"types": [{"name": "status", "kind": "enum",
        "labels": ["draft", "new", "paid", "packed", "shipped", "returned"]}]}
);

case!(enum_value_removed_re_creates_the_type_and_converts_columns,
    {
        "types": [{"name": "status", "kind": "enum", "labels": ["new", "paid", "shipped"]}],
        "tables": [{"name": "orders", "columns": [
            {"name": "status", "type": "app.status", "default": "'new'::app.status"},
            "history app.status[]"
        ]}]
    } => {
        "types": [{"name": "status", "kind": "enum", "labels": ["new", "shipped"]}],
        "tables": [{"name": "orders", "columns": [
            {"name": "status", "type": "app.status", "default": "'new'::app.status"},
            "history app.status[]"
        ]}]
    }
);

case!(enum_dropped,
    {"types": [{"name": "status", "kind": "enum", "labels": ["new"]}]} => {}
);

case!(domain_added,
    {} => {"types": [{"name": "positive_money", "kind": "domain", "base_type": "numeric(12,2)",
        "default": "0", "not_null": true,
        "constraints": [{"name": "positive_money_check", "check": "(VALUE >= (0)::numeric)", "validated": true}]}]}
);

case!(domain_altered,
    {"types": [{"name": "email", "kind": "domain", "base_type": "text", "default": "''::text",
        "constraints": [{"name": "email_has_at", "check": "(VALUE ~ '@'::text)", "validated": true}]}]}
    => {"types": [{"name": "email", "kind": "domain", "base_type": "text", "not_null": true,
        "constraints": [
            {"name": "email_has_at", "check": "(VALUE ~ '^[^@]+@'::text)", "validated": true},
            {"name": "email_short", "check": "(length(VALUE) < 200)", "validated": false}
        ]}]}
);

case!(domain_base_type_change_is_left_to_the_user,
    {"types": [{"name": "code", "kind": "domain", "base_type": "character varying(10)"}]}
    => {"types": [{"name": "code", "kind": "domain", "base_type": "character varying(20)"}]}
);

case!(composite_added,
    {} => {"types": [{"name": "address", "kind": "composite", "attributes": [
        {"name": "street", "type": "text"},
        {"name": "city", "type": "text", "collation": "\"C\""},
        {"name": "zip", "type": "character varying(10)"}
    ]}]}
);

case!(composite_attributes_added_dropped_and_retyped,
    {"types": [{"name": "address", "kind": "composite", "attributes": [
        {"name": "street", "type": "text"},
        {"name": "zip", "type": "character varying(5)"}
    ]}]}
    => {"types": [{"name": "address", "kind": "composite", "attributes": [
        {"name": "zip", "type": "character varying(10)"},
        {"name": "country", "type": "text"}
    ]}]}
);

case!(range_added,
    {} => {"types": [{"name": "float_range", "kind": "range", "subtype": "double precision",
        "subtype_diff": "float8mi", "multirange": "app.float_multirange"}]}
);

case!(range_change_is_left_to_the_user,
    {"types": [{"name": "float_range", "kind": "range", "subtype": "double precision"}]}
    => {"types": [{"name": "float_range", "kind": "range", "subtype": "double precision",
        "subtype_diff": "float8mi"}]}
);
