-- Exclusion constraints: their definition has no raw form to render from.
SELECT k.conrelid::int8 AS relid, k.conname::text AS name, pg_get_constraintdef(k.oid) AS text
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.conparentid = 0 AND k.contype = 'x'
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
