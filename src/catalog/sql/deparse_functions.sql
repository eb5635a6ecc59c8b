-- SQL-standard bodies (BEGIN ATOMIC / RETURN): deparsing them locks the
-- tables they name.
SELECT p.oid::int8 AS oid, pg_get_function_sqlbody(p.oid) AS text
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosqlbody IS NOT NULL AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
