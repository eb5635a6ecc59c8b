-- Tables that look like a hand-made migration history (names with
-- migration, schema version, changelog, deploy or history in them), for the
-- message when no known tool's table is found.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND c.relname ~* '(migration|schema_?version|changelog|deploy|history|_versions?$)'
ORDER BY n.nspname = ANY (current_schemas(false)) DESC, 1
LIMIT 10
