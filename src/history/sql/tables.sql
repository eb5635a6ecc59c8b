-- Candidate history tables: every table with a known history-table name,
-- its columns, and whether Rails' ar_internal_metadata sits beside it.
-- Ordered so that tables on the search path come first.
SELECT n.nspname::text AS schema, c.relname::text AS name,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS columns,
       EXISTS (SELECT 1 FROM pg_class m
               WHERE m.relnamespace = c.relnamespace AND m.relname = 'ar_internal_metadata') AS beside_rails,
       n.nspname = ANY (current_schemas(false)) AS on_path
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v')
  AND c.relname = ANY ($1)
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY on_path DESC, n.nspname, c.relname
