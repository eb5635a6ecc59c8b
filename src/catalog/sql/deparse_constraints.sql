-- CHECK expressions that reference columns, and exclusion constraints.
SELECT k.conrelid::int8 AS relid, k.conname::text AS name,
       CASE k.contype WHEN 'c' THEN pg_get_expr(k.conbin, k.conrelid)
                      ELSE pg_get_constraintdef(k.oid) END AS text
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.conparentid = 0
  AND (k.contype = 'x' OR (k.contype = 'c' AND strpos(k.conbin::text, '{VAR ') > 0))
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
