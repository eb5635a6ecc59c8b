//! Comments on every kind: set, changed and removed (IS NULL); text from a
//! database is a literal whatever it holds.

case!(comments_set_on_many_kinds,
    {
        "schemas": [{"name": "app"}],
        "sequences": [{"name": "s"}],
        "types": [{"name": "email", "kind": "domain", "base_type": "text"}],
        "tables": [{"name": "orders", "columns": ["id bigint"]}],
        "views": [{"name": "v", "definition": " SELECT id\n   FROM app.orders;", "columns": ["id bigint"]}],
        "functions": [{"name": "f", "returns": "integer", "body": "SELECT 1"}],
        "collations": [{"name": "c", "lc_collate": "C", "lc_ctype": "C"}]
    } => {
        "schemas": [{"name": "app", "comment": "the app"}],
        "sequences": [{"name": "s", "comment": "numbers"}],
        "types": [{"name": "email", "kind": "domain", "base_type": "text", "comment": "an address"}],
        "tables": [{"name": "orders", "comment": "orders", "columns": [
            {"name": "id", "type": "bigint", "comment": "key"}]}],
        "views": [{"name": "v", "definition": " SELECT id\n   FROM app.orders;", "comment": "a view",
            "columns": ["id bigint"]}],
        "functions": [{"name": "f", "returns": "integer", "body": "SELECT 1", "comment": "one"}],
        "collations": [{"name": "c", "lc_collate": "C", "lc_ctype": "C", "comment": "bytes"}]
    }
);

case!(comments_removed,
    {"tables": [{"name": "orders", "comment": "orders", "columns": [
        {"name": "id", "type": "bigint", "comment": "key"}]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
);

case!(hostile_comment_text_stays_a_literal,
    {"tables": [{"name": "orders", "columns": ["id bigint"]}]}
    => {"tables": [{"name": "orders", "columns": ["id bigint"],
        "comment": "it's a 'test'; DROP TABLE x; --\nsecond line \\ backslash\r\nthird\u{1b}[31m red"}]}
);
