-- PARTITION BY clauses of partitioned tables.
SELECT c.oid::int8 AS relid, pg_get_partkeydef(c.oid) AS text
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'p' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
