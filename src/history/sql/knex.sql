-- knex: knex_migrations (id, name, batch, migration_time); name is the file
-- name, <timestamp>_<description>.js.
SELECT substring(name from '^[0-9]+') AS version,
       regexp_replace(regexp_replace(name, '\.[a-z]+$', ''), '^[0-9]+[_-]?', '') AS description,
       NULL::text AS checksum, to_char((migration_time)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY id
