-- Full definitions of triggers with a WHEN condition (the condition is cut
-- out of it in Rust).
SELECT t.tgrelid::int8 AS relid, t.tgname::text AS name, pg_get_triggerdef(t.oid) AS text
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.tgqual IS NOT NULL AND NOT t.tgisinternal AND t.tgparentid = 0 AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
