//! Event triggers: created with their tags, enabled or disabled in place,
//! re-created when their event, function or tags change, dropped.

case!(event_trigger_added,
    {} => {"event_triggers": [{"name": "audit_ddl", "event": "ddl_command_end",
        "function": "audit.on_ddl", "tags": ["ALTER TABLE", "CREATE TABLE"], "comment": "audit"}]}
);

case!(event_trigger_disabled_in_place,
    {"event_triggers": [{"name": "audit_ddl", "event": "ddl_command_end", "function": "audit.on_ddl"}]}
    => {"event_triggers": [{"name": "audit_ddl", "event": "ddl_command_end", "function": "audit.on_ddl",
        "enabled": "disabled"}]}
);

case!(event_trigger_changed_is_re_created,
    {"event_triggers": [{"name": "audit_ddl", "event": "ddl_command_end", "function": "audit.on_ddl",
        "enabled": "always"}]}
    => {"event_triggers": [{"name": "audit_ddl", "event": "sql_drop", "function": "audit.on_drop",
        "enabled": "always"}]}
);

case!(event_trigger_dropped,
    {"event_triggers": [{"name": "audit_ddl", "event": "ddl_command_end", "function": "audit.on_ddl"}]}
    => {}
);
