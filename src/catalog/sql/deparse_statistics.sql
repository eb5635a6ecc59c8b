-- Expressions of extended statistics objects.
SELECT s.oid::int8 AS oid, pg_get_statisticsobjdef_expressions(s.oid) AS exprs
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxexprs IS NOT NULL AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
