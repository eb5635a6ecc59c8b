-- refinery: refinery_schema_history (version, name, applied_on text, checksum text).
SELECT version::text AS version, name::text AS description, checksum::text AS checksum,
       applied_on::text AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY version
