//! Sequences: created with every option, altered option by option,
//! dropped, and OWNED BY set once the owning column exists (a serial's
//! sequence goes with its column, and lets go of a column that goes).

use super::support::drops;

case!(sequence_added,
    {} => {"sequences": [{"name": "invoice_numbers", "start": 1000, "increment": 10, "cache": 5,
        "comment": "invoice numbering", "acl": [{"grantee": "writer", "privileges": ["USAGE"]}]}]}
);

case!(unlogged_cycling_sequence_added,
    {} => {"sequences": [{"name": "ring", "data_type": "smallint", "max": 100, "cycle": true,
        "unlogged": true}]}
);

case!(sequence_options_altered,
    {"sequences": [{"name": "invoice_numbers"}]}
    => {"sequences": [{"name": "invoice_numbers", "data_type": "integer", "increment": 2,
        "min": 10, "max": 2147483647, "start": 10, "cache": 20, "cycle": true}]}
);

case!(sequence_dropped,
    {"sequences": [{"name": "invoice_numbers"}]} => {}
);

case!(serial_column_added_with_its_sequence,
    {"tables": [{"name": "orders", "columns": ["note text"]}]}
    => {
        "sequences": [{"name": "orders_id_seq", "data_type": "integer", "max": 2147483647,
            "owned_by": "app.orders.id"}],
        "tables": [{"name": "orders", "columns": ["note text",
            {"name": "id", "type": "integer", "not_null": true,
                "default": "nextval('app.orders_id_seq'::regclass)"}]}]
    }
);

case!(serial_sequence_goes_with_its_column, drops(),
    {
        "sequences": [{"name": "orders_id_seq", "data_type": "integer", "max": 2147483647,
            "owned_by": "app.orders.id"}],
        "tables": [{"name": "orders", "columns": ["note text",
            {"name": "id", "type": "integer", "not_null": true,
                "default": "nextval('app.orders_id_seq'::regclass)"}]}]
    }
    => {"tables": [{"name": "orders", "columns": ["note text"]}]}
);

case!(sequence_that_stays_lets_go_of_a_dropped_column, drops(),
    {
        "sequences": [{"name": "shared_seq", "owned_by": "app.orders.id"}],
        "tables": [{"name": "orders", "columns": ["note text",
            {"name": "id", "type": "bigint", "default": "nextval('app.shared_seq'::regclass)"}]}]
    }
    => {
        "sequences": [{"name": "shared_seq"}],
        "tables": [{"name": "orders", "columns": ["note text"]}]
    }
);

case!(sequence_bounds_tightened,
    {"sequences": [{"name": "ticket"}]}
    => {"sequences": [{"name": "ticket", "min": 100, "start": 100, "max": 999999}]}
);
