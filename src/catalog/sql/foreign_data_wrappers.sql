-- Foreign-data wrappers not created by an extension.
SELECT w.fdwname::text AS name,
       CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::regproc::text END AS handler,
       CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::regproc::text END AS validator,
       coalesce(w.fdwoptions, '{}')::text[] AS options,
       pg_get_userbyid(w.fdwowner)::text AS owner,
       d.description AS comment,
       coalesce(w.fdwacl, acldefault('F', w.fdwowner))::text[] AS acl
FROM pg_foreign_data_wrapper w
LEFT JOIN pg_description d
       ON d.objoid = w.oid AND d.classoid = 'pg_foreign_data_wrapper'::regclass AND d.objsubid = 0
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_foreign_data_wrapper'::regclass AND e.objid = w.oid AND e.deptype = 'e')
