//! Row-level security: policies created, dropped and re-created when they
//! change (there is no ALTER POLICY for the command or kind); RLS enabled,
//! forced and disabled. Every one changes who may read what.

case!(rls_enabled_with_policies,
    {"tables": [{"name": "orders", "columns": ["customer_id bigint", "status text"]}]}
    => {"tables": [{"name": "orders", "row_security": true, "force_row_security": true,
        "columns": ["customer_id bigint", "status text"],
        "policies": [
            {"name": "orders_all", "permissive": false, "using": "true",
                "with_check": "(status <> 'shipped'::text)"},
            {"name": "orders_own", "command": "select", "roles": ["reader", "\"PUBLIC\""],
                "using": "(customer_id > 0)", "comment": "own rows"}
        ]}]}
);

case!(policy_changed_is_re_created,
    {"tables": [{"name": "orders", "row_security": true, "columns": ["customer_id bigint"],
        "policies": [{"name": "orders_own", "command": "select", "using": "(customer_id > 0)"}]}]}
    => {"tables": [{"name": "orders", "row_security": true, "columns": ["customer_id bigint"],
        "policies": [{"name": "orders_own", "command": "select", "roles": ["reader"],
            "using": "(customer_id > 10)"}]}]}
);

case!(rls_disabled_and_policy_dropped,
    {"tables": [{"name": "orders", "row_security": true, "force_row_security": true,
        "columns": ["customer_id bigint"],
        "policies": [{"name": "orders_own", "command": "select", "using": "(customer_id > 0)"}]}]}
    => {"tables": [{"name": "orders", "columns": ["customer_id bigint"]}]}
);
