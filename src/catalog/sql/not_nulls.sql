-- NOT NULL constraints (18 stores them in pg_constraint, with a name and the
-- NOT VALID and NO INHERIT flags). Inherited ones (partitions, INHERITS,
-- LIKE … INHERITS) carry their parent's name: only the parent's says something.
SELECT k.conrelid::int8 AS relid, k.conkey[1]::int4 AS attnum, k.conname::text AS name,
       k.convalidated AS validated, k.connoinherit AS no_inherit
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype = 'n' AND k.coninhcount = 0
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
