-- ALTER DEFAULT PRIVILEGES entries.
SELECT pg_get_userbyid(a.defaclrole)::text AS role,
       n.nspname::text AS schema,
       CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
            WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
            ELSE a.defaclobjtype::text END AS object_type,
       a.defaclacl::text[] AS acl
FROM pg_default_acl a
LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
