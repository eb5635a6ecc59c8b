-- Incremental capture: every top-level object a snapshot lists, by oid,
-- with its identity, so that objects dropped or renamed since the previous
-- capture leave the merged snapshot.
SELECT c.oid::int8 AS oid,
       CASE c.relkind WHEN 'v' THEN 'views' WHEN 'm' THEN 'materialized_views'
                      WHEN 'S' THEN 'sequences' ELSE 'tables' END AS list,
       n.nspname::text AS schema, c.relname::text AS name, '' AS args
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
UNION ALL
SELECT p.oid::int8, 'functions', n.nspname::text, p.proname::text,
       /*if 13-13*/ regexp_replace(/*end*/ pg_get_function_identity_arguments(p.oid)
       /*if 13-13*/ , CASE WHEN p.prokind = 'p' THEN '(^|, )(?!(INOUT|OUT|VARIADIC) |$)' ELSE '^(?!)' END, '\1IN ', 'g') /*end*/
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid >= 16384
UNION ALL
SELECT t.oid::int8, 'types', n.nspname::text, t.typname::text, ''
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE t.oid >= 16384 AND t.typelem = 0 AND (t.typrelid = 0 OR c.relkind = 'c')
UNION ALL
SELECT s.oid::int8, 'statistics', n.nspname::text, s.stxname::text, ''
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
