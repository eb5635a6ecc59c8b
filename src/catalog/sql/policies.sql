-- Row-level security policies. Predicates without a column reference
-- deparse lock-free; the rest go to deparse_policies.sql.
SELECT p.polrelid::int8 AS relid, p.polname::text AS name, p.polcmd::text AS command,
       p.polpermissive AS permissive,
       -- '' (no role has an empty name) for PUBLIC, role 0: a role named
       -- PUBLIC must stay apart from it (model::Grantee).
       ARRAY(SELECT CASE WHEN r = 0 THEN '' ELSE pg_get_userbyid(r)::text END
             FROM unnest(p.polroles) r) AS roles,
       p.polqual IS NOT NULL AS has_using,
       CASE WHEN p.polqual IS NOT NULL AND strpos(p.polqual::text, '{VAR ') = 0
            THEN pg_get_expr(p.polqual, 0) END AS using_expr,
       p.polwithcheck IS NOT NULL AS has_with_check,
       CASE WHEN p.polwithcheck IS NOT NULL AND strpos(p.polwithcheck::text, '{VAR ') = 0
            THEN pg_get_expr(p.polwithcheck, 0) END AS with_check_expr,
       d.description AS comment
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_policy'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
