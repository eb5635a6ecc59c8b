-- Extended statistics objects; expressions come from deparse_statistics.sql.
SELECT s.oid::int8 AS oid, n.nspname::text AS schema, s.stxname::text AS name,
       s.stxrelid::int8 AS relid,
       (s.stxkeys::int4[])[0:] AS columns,
       s.stxkind::text[] AS kinds,
       /*if 14+*/ s.stxexprs IS NOT NULL /*else*/ false /*end*/ AS has_expressions,
       -- 17 made the column nullable (NULL: the default); before, -1 meant that
       nullif(s.stxstattarget, -1)::int4 AS target,
       pg_get_userbyid(s.stxowner)::text AS owner,
       d.description AS comment
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
LEFT JOIN pg_description d
       ON d.objoid = s.oid AND d.classoid = 'pg_statistic_ext'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_statistic_ext'::regclass AND e.objid = s.oid AND e.deptype = 'e')
