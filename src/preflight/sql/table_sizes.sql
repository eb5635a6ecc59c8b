-- The size of tables as the target's statistics estimate them: readable
-- by any role that may connect ($1 schemas, $2 names, pairwise).
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       c.reltuples::bigint AS rows,
       c.relpages::bigint AS pages
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN unnest($1::text[], $2::text[]) AS want(schema, name)
  ON want.schema = n.nspname AND want.name = c.relname
