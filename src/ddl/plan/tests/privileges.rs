//! Grants: on objects, on columns, with and without GRANT OPTION, to roles
//! and to PUBLIC (a role named "PUBLIC" stays that role); MAINTAIN only
//! for servers that know it; default privileges.

use crate::ddl::plan::PlanOptions;

fn table(acl: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"tables": [{"name": "orders", "columns": ["id bigint", "note text"], "acl": acl}]})
}

#[test]
fn grants_added_revoked_and_grant_options() {
    let from = table(serde_json::json!([
        {"grantee": "reader", "privileges": ["SELECT", "UPDATE"]},
        {"grantee": "writer", "privileges": ["INSERT", "SELECT"], "grantable": ["INSERT"]},
        {"grantee": "PUBLIC", "privileges": ["SELECT"]}
    ]));
    let to = table(serde_json::json!([
        {"grantee": "reader", "privileges": ["SELECT"]},
        {"grantee": "writer", "privileges": ["INSERT", "SELECT", "DELETE"], "grantable": ["SELECT"]},
        {"grantee": "\"PUBLIC\"", "privileges": ["SELECT"]},
        {"grantee": "Auditor \"x\"", "privileges": ["SELECT", "TRUNCATE"], "grantable": ["SELECT", "TRUNCATE"]}
    ]));
    assert_plan!(from, to, crate::ddl::plan::PlanOptions::default());
}

case!(column_grants,
    {"tables": [{"name": "orders", "columns": ["id bigint",
        {"name": "note", "type": "text", "acl": [{"grantee": "reader", "privileges": ["SELECT", "UPDATE"]}]}]}]}
    => {"tables": [{"name": "orders", "columns": [
        {"name": "id", "type": "bigint", "acl": [{"grantee": "reader", "privileges": ["SELECT"]}]},
        {"name": "note", "type": "text", "acl": [{"grantee": "reader", "privileges": ["SELECT"]}]}]}]}
);

case!(maintain_granted_on_17,
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"],
        "acl": [{"grantee": "ops", "privileges": ["SELECT", "MAINTAIN"]}]}]}
);

case!(maintain_left_out_before_17,
    PlanOptions { server_major: Some(16), ..PlanOptions::default() },
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"],
        "acl": [{"grantee": "ops", "privileges": ["SELECT", "MAINTAIN"]}]}]}
);

case!(sequence_and_type_grants,
    {"sequences": [{"name": "s"}], "types": [{"name": "mood", "kind": "enum", "labels": ["ok"]}]}
    => {
        "sequences": [{"name": "s", "acl": [{"grantee": "writer", "privileges": ["USAGE", "SELECT"]}]}],
        "types": [{"name": "mood", "kind": "enum", "labels": ["ok"], "acl": []}]
    }
);

case!(default_privileges_granted_and_revoked,
    {"default_privileges": [
        {"role": "app", "object_type": "sequences",
            "grants": [{"grantee": "reader", "privileges": ["USAGE"]}]},
        {"role": "app", "object_type": "functions",
            "grants": [{"grantee": "PUBLIC", "privileges": ["EXECUTE"]}]}
    ]}
    => {"default_privileges": [
        {"role": "app", "schema": "app", "object_type": "tables",
            "grants": [{"grantee": "reader", "privileges": ["SELECT"], "grantable": ["SELECT"]}]},
        {"role": "app", "object_type": "functions", "grants": []}
    ]}
);
