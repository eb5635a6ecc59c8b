-- golang-migrate: schema_migrations (version bigint, dirty boolean) holds
-- one row, the current version; dirty means it failed halfway.
SELECT version::text AS version, ''::text AS description, NULL::text AS checksum,
       NULL::text AS applied_at, NOT dirty AS success, 'SQL' AS kind
FROM {table}
ORDER BY version
