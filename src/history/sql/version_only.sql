-- dbmate, Rails: schema_migrations (version varchar), one row per applied
-- migration and nothing else.
SELECT version::text AS version, ''::text AS description, NULL::text AS checksum,
       NULL::text AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY version
