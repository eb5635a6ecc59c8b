-- Policy predicates that reference columns.
SELECT p.polrelid::int8 AS relid, p.polname::text AS name,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS with_check_expr
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (strpos(p.polqual::text, '{VAR ') > 0 OR strpos(p.polwithcheck::text, '{VAR ') > 0) AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
