-- format_type once per distinct (type, typmod) pair of the captured
-- columns, which the client collected from columns.sql ($1: type oids,
-- $2: typmods, pairwise), with the type's default collation and storage,
-- which a column only reports where it differs from them. A type dropped
-- meanwhile has no row: assembly then reports the capture as moved.
SELECT t.type_oid AS type_oid, t.typmod AS typmod,
       format_type(t.type_oid::oid, t.typmod) AS type_name,
       ty.typcollation::int8 AS type_collation,
       ty.typstorage::text AS type_storage
FROM unnest($1::int8[], $2::int4[]) AS t(type_oid, typmod)
JOIN pg_type ty ON ty.oid = t.type_oid::oid
