-- Foreign servers and which roles have a user mapping (never the mapping
-- options: they hold passwords).
SELECT s.srvname::text AS name, w.fdwname::text AS wrapper,
       s.srvtype AS server_type, s.srvversion AS version,
       coalesce(s.srvoptions, '{}')::text[] AS options,
       ARRAY(SELECT m.usename::text FROM pg_user_mappings m WHERE m.srvid = s.oid) AS user_mappings,
       pg_get_userbyid(s.srvowner)::text AS owner,
       d.description AS comment,
       coalesce(s.srvacl, acldefault('S', s.srvowner))::text[] AS acl
FROM pg_foreign_server s
JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
LEFT JOIN pg_description d
       ON d.objoid = s.oid AND d.classoid = 'pg_foreign_server'::regclass AND d.objsubid = 0
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_foreign_server'::regclass AND e.objid = s.oid AND e.deptype = 'e')
