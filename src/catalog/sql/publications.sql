-- Publications with their tables (column lists as attnums, row filters from
-- deparse_publications.sql) and schemas.
SELECT p.oid::int8 AS oid, p.pubname::text AS name, p.puballtables AS all_tables,
       p.pubinsert AS ins, p.pubupdate AS upd, p.pubdelete AS del, p.pubtruncate AS trunc,
       p.pubviaroot AS via_root,
       /*if 18+*/ CASE p.pubgencols WHEN 's' THEN 'stored' END /*else*/ NULL /*end*/::text AS generated_columns,
       pg_get_userbyid(p.pubowner)::text AS owner,
       d.description AS comment,
       coalesce((SELECT json_agg(json_build_object(
                    'oid', r.oid::int8, 'relid', r.prrelid::int8,
                    'columns', /*if 15+*/ coalesce((r.prattrs::int4[])[0:], '{}') /*else*/ '{}'::int4[] /*end*/,
                    'has_filter', /*if 15+*/ r.prqual IS NOT NULL /*else*/ false /*end*/))
                 FROM pg_publication_rel r WHERE r.prpubid = p.oid), '[]') AS tables,
       /*if 15+*/ ARRAY(SELECT pn.nspname::text FROM pg_publication_namespace pns
             JOIN pg_namespace pn ON pn.oid = pns.pnnspid WHERE pns.pnpubid = p.oid)
       /*else*/ '{}'::text[] /*end*/ AS schemas
FROM pg_publication p
LEFT JOIN pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_publication'::regclass AND d.objsubid = 0
