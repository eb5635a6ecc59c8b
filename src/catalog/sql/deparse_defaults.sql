-- Defaults and generation expressions that reference columns: they need the
-- table as deparse context, which locks it.
SELECT ad.adrelid::int8 AS relid, ad.adnum::int4 AS attnum, pg_get_expr(ad.adbin, ad.adrelid) AS text
FROM pg_attrdef ad
JOIN pg_class c ON c.oid = ad.adrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE strpos(ad.adbin::text, '{VAR ') > 0 AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
