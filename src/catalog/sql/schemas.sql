-- Schemas other than the system ones and those created by extensions.
SELECT n.nspname::text AS name,
       pg_get_userbyid(n.nspowner)::text AS owner,
       d.description AS comment,
       coalesce(n.nspacl, acldefault('n', n.nspowner))::text[] AS acl
FROM pg_namespace n
LEFT JOIN pg_description d
       ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
