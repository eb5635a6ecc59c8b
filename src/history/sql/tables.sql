-- Candidate history tables: every table with a known history-table name
-- ($1), and every other table whose columns include one of the column sets
-- ($2, each comma-separated) that a tool's table has under any name; with
-- its columns and whether Rails' ar_internal_metadata sits beside it.
-- Ordered so that tables on the search path come first.
WITH tables AS (
    SELECT n.nspname::text AS schema, c.relname::text AS name, c.relnamespace,
           ARRAY(SELECT a.attname::text FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum) AS columns,
           n.nspname = ANY (current_schemas(false)) AS on_path
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v')
      AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
)
SELECT t.schema, t.name, t.columns,
       EXISTS (SELECT 1 FROM pg_class m
               WHERE m.relnamespace = t.relnamespace AND m.relname = 'ar_internal_metadata') AS beside_rails,
       t.on_path
FROM tables t
WHERE t.name = ANY ($1)
   OR EXISTS (SELECT 1 FROM unnest($2::text[]) AS s(set)
              WHERE string_to_array(s.set, ',') <@ t.columns)
ORDER BY t.on_path DESC, t.schema, t.name
