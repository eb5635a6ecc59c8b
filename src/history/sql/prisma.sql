-- Prisma: _prisma_migrations; a migration is finished when finished_at is
-- set and it was not rolled back. checksum is the SHA-256 of migration.sql.
SELECT substring(migration_name from '^[0-9]+') AS version,
       regexp_replace(migration_name, '^[0-9]+_?', '') AS description,
       checksum::text AS checksum, to_char((coalesce(finished_at, started_at))::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       finished_at IS NOT NULL AND rolled_back_at IS NULL AS success,
       CASE WHEN rolled_back_at IS NOT NULL THEN 'ROLLED_BACK' ELSE 'SQL' END AS kind
FROM {table}
ORDER BY started_at, migration_name
