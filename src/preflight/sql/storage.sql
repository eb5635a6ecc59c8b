-- Every ordinary, partitioned and materialized table of the session's
-- database with its storage file: a file that changes across a migration
-- means the table was rewritten.
SELECT c.oid::bigint AS oid,
       n.nspname::text AS schema,
       c.relname::text AS name,
       c.relfilenode::bigint AS filenode
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%'
