-- Live columns of every user relation. format_type runs once per distinct
-- (type, typmod) pair, not once per column; defaults that reference no
-- column deparse lock-free with pg_get_expr(expr, 0); the others (generated
-- columns) are left to deparse_defaults.sql.
WITH cols AS (
  SELECT a.*
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE a.attnum > 0 AND NOT a.attisdropped
    AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
    AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
), type_names AS (
  SELECT t.atttypid, t.atttypmod, format_type(t.atttypid, t.atttypmod) AS type_name
  FROM (SELECT DISTINCT atttypid, atttypmod FROM cols) t
)
SELECT a.attrelid::int8 AS relid, a.attnum::int4 AS attnum, a.attname::text AS name,
       tn.type_name,
       CASE WHEN a.attcollation <> ty.typcollation THEN a.attcollation::int8 END AS collation_oid,
       a.attcollation::int8 AS attcollation,
       a.attnotnull AS not_null,
       CASE WHEN ad.adbin IS NOT NULL AND strpos(ad.adbin::text, '{VAR ') = 0
            THEN pg_get_expr(ad.adbin, 0) END AS default_expr,
       ad.adbin IS NOT NULL AND strpos(ad.adbin::text, '{VAR ') > 0 AS default_needs_context,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       a.attislocal AS is_local,
       a.attinhcount::int4 AS inherit_count,
       a.attstattarget::int4 AS statistics_target,
       a.attstorage::text AS storage,
       ty.typstorage::text AS type_storage,
       a.attcompression::text AS compression,
       coalesce(a.attoptions, '{}')::text[] AS options,
       coalesce(a.attfdwoptions, '{}')::text[] AS server_options,
       d.description AS comment,
       coalesce(a.attacl, '{}')::text[] AS acl
FROM cols a
JOIN type_names tn ON tn.atttypid = a.atttypid AND tn.atttypmod = a.atttypmod
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
