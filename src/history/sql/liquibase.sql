-- Liquibase: databasechangelog, one row per changeset (id, author, file),
-- in orderexecuted; md5sum is Liquibase's own checksum ("9:…").
SELECT id::text AS version,
       coalesce(nullif(description::text, ''), filename::text) AS description,
       md5sum::text AS checksum, to_char((dateexecuted)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       exectype::text <> 'FAILED' AS success, upper(exectype::text) AS kind
FROM {table}
ORDER BY orderexecuted, dateexecuted
