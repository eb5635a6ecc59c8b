-- format_type once per distinct (type, typmod) pair of the user columns,
-- with the type's default collation and storage, which a column only
-- reports where it differs from them.
SELECT t.atttypid::int8 AS type_oid, t.atttypmod AS typmod,
       format_type(t.atttypid, t.atttypmod) AS type_name,
       ty.typcollation::int8 AS type_collation,
       ty.typstorage::text AS type_storage
FROM (SELECT DISTINCT a.atttypid, a.atttypmod
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      WHERE a.attnum > 0 AND c.relkind IN ('r', 'p', 'f', 'v', 'm') /*scope*/) t
JOIN pg_type ty ON ty.oid = t.atttypid
