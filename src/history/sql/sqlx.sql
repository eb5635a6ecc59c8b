-- sqlx: _sqlx_migrations; the checksum is the SHA-384 of the file (bytea).
SELECT version::text AS version, description::text AS description,
       encode(checksum, 'hex') AS checksum, to_char((installed_on)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       success, 'SQL' AS kind
FROM {table}
ORDER BY installed_on, version
