-- Definitions of views and materialized views. pg_get_viewdef locks the view
-- and the tables it reads: run as its own short statement.
SELECT c.oid::int8 AS relid, pg_get_viewdef(c.oid) AS text
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
