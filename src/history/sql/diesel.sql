-- diesel: __diesel_schema_migrations (version varchar(50), run_on timestamp).
SELECT version::text AS version, ''::text AS description, NULL::text AS checksum,
       to_char((run_on)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY run_on, version
