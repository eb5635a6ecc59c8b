-- Every operator class, with whether it is its type's default for its method.
SELECT o.oid::int8 AS oid,
       CASE WHEN n.nspname = 'pg_catalog' THEN quote_ident(o.opcname)
            ELSE quote_ident(n.nspname) || '.' || quote_ident(o.opcname) END AS name,
       o.opcdefault AS is_default
FROM pg_opclass o
JOIN pg_namespace n ON n.oid = o.opcnamespace
