-- Django: django_migrations (id, app, name, applied); a migration is
-- app + name, e.g. accounts.0001_initial.
SELECT app::text || '.' || name::text AS version, name::text AS description, NULL::text AS checksum,
       to_char((applied)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at, true AS success, 'SQL' AS kind
FROM {table}
ORDER BY id
