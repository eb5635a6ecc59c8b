-- Rule definitions.
SELECT r.ev_class::int8 AS relid, r.rulename::text AS name, pg_get_ruledef(r.oid) AS text
FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
