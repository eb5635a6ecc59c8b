-- Rewrite rules other than views' own _RETURN rules; their definitions come
-- from deparse_rules.sql.
SELECT r.ev_class::int8 AS relid, r.rulename::text AS name, r.ev_enabled::text AS enabled,
       d.description AS comment
FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d
       ON d.objoid = r.oid AND d.classoid = 'pg_rewrite'::regclass AND d.objsubid = 0
WHERE r.rulename <> '_RETURN'
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
