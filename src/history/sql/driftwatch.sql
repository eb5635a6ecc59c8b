-- driftwatch's own history table (see driftwatch_history.ddl.sql).
SELECT version, description, checksum, to_char((applied_at)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       success, upper(kind) AS kind
FROM {table}
ORDER BY installed_rank
