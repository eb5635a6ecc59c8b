-- Enums, domains, free-standing composite types and range types.
-- Domain defaults and checks reference no column, so pg_get_expr(expr, 0)
-- deparses them without taking a lock.
SELECT n.nspname::text AS schema, t.typname::text AS name, t.typtype::text AS typtype,
       pg_get_userbyid(t.typowner)::text AS owner,
       d.description AS comment,
       coalesce(t.typacl, acldefault('T', t.typowner))::text[] AS acl,
       CASE WHEN t.typtype = 'e' THEN
         ARRAY(SELECT l.enumlabel::text FROM pg_enum l WHERE l.enumtypid = t.oid ORDER BY l.enumsortorder)
       END AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation THEN t.typcollation::int8 END AS collation_oid,
       t.typnotnull AS not_null,
       /*if 17+*/ (SELECT k.conname::text FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'n')
       /*else*/ NULL::text /*end*/ AS not_null_name,
       CASE WHEN t.typdefaultbin IS NOT NULL THEN pg_get_expr(t.typdefaultbin, 0) END AS default_expr,
       CASE WHEN t.typtype = 'd' THEN (
         SELECT json_agg(json_build_object(
                  'name', k.conname::text,
                  'check', pg_get_expr(k.conbin, 0),
                  'validated', k.convalidated,
                  'comment', kd.description) ORDER BY k.conname)
         FROM pg_constraint k
         LEFT JOIN pg_description kd
                ON kd.objoid = k.oid AND kd.classoid = 'pg_constraint'::regclass AND kd.objsubid = 0
         WHERE k.contypid = t.oid AND k.contype = 'c')
       END AS domain_constraints,
       CASE WHEN t.typtype = 'c' THEN (
         SELECT json_agg(json_build_object(
                  'name', a.attname::text,
                  'type', format_type(a.atttypid, a.atttypmod),
                  'collation', CASE WHEN a.attcollation <> at.typcollation THEN a.attcollation::int8 END)
                ORDER BY a.attnum)
         FROM pg_attribute a
         JOIN pg_type at ON at.oid = a.atttypid
         WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
       END AS attributes,
       CASE WHEN t.typtype = 'r' THEN format_type(r.rngsubtype, NULL) END AS subtype,
       r.rngsubopc::int8 AS subtype_opclass_oid,
       CASE WHEN r.rngcollation <> 0 THEN r.rngcollation::int8 END AS range_collation_oid,
       CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
       /*if 14+*/ CASE WHEN r.rngmultitypid <> 0 THEN format_type(r.rngmultitypid, NULL) END /*else*/ NULL::text /*end*/ AS multirange
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_description d
       ON d.objoid = t.oid AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class tc WHERE tc.oid = t.typrelid AND tc.relkind = 'c')))
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
