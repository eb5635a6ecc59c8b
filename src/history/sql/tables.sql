-- Candidate history tables: every table with a known history-table name
-- ($1), and every other table whose columns include one of the column sets
-- ($2, each comma-separated) that a tool's table has under any name; with
-- its columns and whether Rails' ar_internal_metadata sits beside it.
-- Ordered so that tables on the search path come first.
--
-- Every table's column list comes from one aggregated pass over
-- pg_attribute, and the sets are split once: a list built per table by
-- index lookups read 86,000 buffers on 10,000 tables at every scan (most
-- of an incremental scan's server work), the pass 31,000.
WITH rels AS (
    SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relnamespace,
           n.nspname = ANY (current_schemas(false)) AS on_path
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v')
      AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
),
tables AS (
    SELECT r.schema, r.name, r.relnamespace, r.on_path,
           coalesce(a.columns, '{}'::text[]) AS columns
    FROM rels r
    LEFT JOIN (SELECT a.attrelid, array_agg(a.attname::text ORDER BY a.attnum) AS columns
               FROM pg_attribute a
               WHERE a.attnum > 0 AND NOT a.attisdropped
               GROUP BY a.attrelid) a ON a.attrelid = r.oid
),
sets AS (
    SELECT string_to_array(s.set, ',') AS columns FROM unnest($2::text[]) AS s(set)
)
SELECT t.schema, t.name, t.columns,
       EXISTS (SELECT 1 FROM pg_class m
               WHERE m.relnamespace = t.relnamespace AND m.relname = 'ar_internal_metadata') AS beside_rails,
       t.on_path
FROM tables t
WHERE t.name = ANY ($1)
   OR EXISTS (SELECT 1 FROM sets s WHERE s.columns <@ t.columns)
ORDER BY t.on_path DESC, t.schema, t.name
