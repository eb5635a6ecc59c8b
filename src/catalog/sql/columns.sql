-- Live columns of every user relation, as raw catalog values: type names,
-- defaults and comments come from their own queries (column_types.sql,
-- column_defaults.sql, column_comments.sql), which run in parallel on the
-- same snapshot and are joined in Rust. Mostly-empty fields come back NULL
-- rather than as empty arrays or strings: 100,000 rows make that count.
SELECT a.attrelid::int8 AS relid, a.attnum::int4 AS attnum, a.attname::text AS name,
       a.atttypid::int8 AS type_oid, a.atttypmod AS typmod,
       a.attcollation::int8 AS attcollation,
       a.attnotnull AS not_null,
       nullif(a.attidentity, '')::text AS identity,
       nullif(a.attgenerated, '')::text AS generated,
       a.attislocal AND a.attinhcount = 0 AS is_local,
       nullif(a.attstattarget, -1)::int4 AS statistics_target,
       a.attstorage::text AS storage,
       /*if 14+*/ nullif(a.attcompression, '')::text /*else*/ NULL::text /*end*/ AS compression,
       a.attoptions::text[] AS options,
       a.attfdwoptions::text[] AS server_options,
       a.attacl::text[] AS acl
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
