//! Collations: created with their provider and locale, dropped once no
//! column uses them, and re-created when their definition changes (no
//! ALTER COLLATION changes one).

use super::support::drops;

case!(icu_collation_added,
    {} => {"collations": [{"name": "german_ci", "provider": "icu", "deterministic": false,
        "icu_locale": "de-u-ks-level2", "comment": "case-insensitive"}]}
);

case!(libc_collation_added_before_the_column_using_it,
    {} => {
        "collations": [{"name": "posix_c", "lc_collate": "C", "lc_ctype": "C"}],
        "tables": [{"name": "t", "columns": [{"name": "k", "type": "text", "collation": "app.posix_c"}]}]
    }
);

case!(collation_dropped_after_the_column_using_it, drops(),
    {
        "collations": [{"name": "posix_c", "lc_collate": "C", "lc_ctype": "C"}],
        "tables": [{"name": "t", "columns": ["id bigint", {"name": "k", "type": "text", "collation": "app.posix_c"}]}]
    } => {"tables": [{"name": "t", "columns": ["id bigint"]}]}
);

case!(collation_changed_is_re_created,
    {"collations": [{"name": "german", "provider": "icu", "icu_locale": "de"}]}
    => {"collations": [{"name": "german", "provider": "icu", "icu_locale": "de-AT",
        "icu_rules": "&a < b"}]}
);

case!(collation_dropped_while_the_column_drop_is_held_back,
    {
        "collations": [{"name": "posix_c", "lc_collate": "C", "lc_ctype": "C"}],
        "tables": [{"name": "t", "columns": ["id bigint", {"name": "k", "type": "text", "collation": "app.posix_c"}]}]
    } => {"tables": [{"name": "t", "columns": ["id bigint"]}]}
);

case!(collation_comment_and_owner_changed,
    {"collations": [{"name": "posix_c", "lc_collate": "C", "lc_ctype": "C"}],
        "tables": [{"name": "t", "columns": [{"name": "k", "type": "text", "collation": "app.posix_c"}]}]}
    => {"collations": [{"name": "posix_c", "lc_collate": "C", "lc_ctype": "C", "comment": "bytes",
            "owner": "admin"}],
        "tables": [{"name": "t", "columns": [{"name": "k", "type": "text", "collation": "app.posix_c"}]}]}
);
