//! Extensions: created at their version in their schema, updated (a
//! hazard of its own), moved, dropped (held back: their objects go too).

case!(extension_added,
    {} => {"extensions": [{"name": "pg_trgm", "version": "1.6"}]}
);

case!(extension_updated_and_moved,
    {"extensions": [{"name": "hstore", "version": "1.7"}]}
    => {"extensions": [{"name": "hstore", "schema": "ext", "version": "1.8"}]}
);

case!(extension_dropped_is_held_back,
    {"extensions": [{"name": "citext", "version": "1.6"}]} => {}
);

case!(extension_before_the_column_that_uses_it,
    {} => {
        "extensions": [{"name": "citext", "version": "1.6"}],
        "tables": [{"name": "users", "columns": ["email public.citext"]}]
    }
);
