-- A hand-written runner: schema_migrations (version, name, applied_at).
SELECT version::text AS version, coalesce(name::text, '') AS description, NULL::text AS checksum,
       to_char((applied_at)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY applied_at, version
