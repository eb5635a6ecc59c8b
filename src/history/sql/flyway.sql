-- Flyway: flyway_schema_history, in installed_rank order. version is NULL
-- for repeatables; type tells SQL/JDBC, BASELINE, UNDO_SQL, DELETE, SCHEMA.
SELECT version::text AS version, description::text AS description,
       checksum::text AS checksum, to_char((installed_on)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       success, upper(type::text) AS kind
FROM {table}
ORDER BY installed_rank
