-- Every collation, as a column or index clause would name it.
SELECT c.oid::int8 AS oid,
       CASE WHEN n.nspname = 'pg_catalog' THEN quote_ident(c.collname)
            ELSE quote_ident(n.nspname) || '.' || quote_ident(c.collname) END AS name
FROM pg_collation c
JOIN pg_namespace n ON n.oid = c.collnamespace
