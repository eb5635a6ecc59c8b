-- node-pg-migrate: pgmigrations (id, name, run_on); name is the file name
-- without extension, <timestamp>_<description>.
SELECT substring(name from '^[0-9]+') AS version,
       regexp_replace(name, '^[0-9]+[_-]?', '') AS description, NULL::text AS checksum,
       to_char((run_on)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY run_on, id
