-- Alembic: alembic_version (version_num) holds the current head revision(s) only.
SELECT version_num::text AS version, ''::text AS description, NULL::text AS checksum,
       NULL::text AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY version_num
