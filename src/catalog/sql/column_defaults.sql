-- Column defaults. Those that reference no column deparse lock-free with
-- pg_get_expr(expr, 0); the others (generated columns) come from
-- deparse_defaults.sql.
SELECT ad.adrelid::int8 AS relid, ad.adnum::int4 AS attnum,
       CASE WHEN strpos(ad.adbin::text, '{VAR ') = 0 THEN pg_get_expr(ad.adbin, 0) END AS default_expr
FROM pg_attrdef ad
JOIN pg_class c ON c.oid = ad.adrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
