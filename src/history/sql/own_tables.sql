-- Tables that look like a hand-made migration history, for the message when
-- no known tool's table is found: a name with migration, schema version,
-- changelog, deploy or history in it, and a column a history keeps (a
-- version, a name or file, a checksum, when it ran). Copies and backups
-- (`…_backup_…`, `…_bak`, `…_old`, `…_archive`) are data, not a history.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND c.relname ~* '(migration|schema_?version|changelog|deploy|history|_versions?$)'
  AND c.relname !~* '(backup|_bak(_|$)|_old(_|$)|archive|_copy(_|$))'
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attname ~* '^(version|version_num|revision|migration|migration_name|name|filename|file|script|checksum|applied|applied_at|applied_on|installed_on|run_on|executed_at)$')
ORDER BY n.nspname = ANY (current_schemas(false)) DESC, 1
LIMIT 10
