-- User-defined collations.
SELECT n.nspname::text AS schema, c.collname::text AS name,
       CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE 'default' END AS provider,
       c.collisdeterministic AS deterministic,
       c.collcollate::text AS lc_collate, c.collctype::text AS lc_ctype,
       c.colliculocale::text AS icu_locale,
       pg_get_userbyid(c.collowner)::text AS owner,
       d.description AS comment
FROM pg_collation c
JOIN pg_namespace n ON n.oid = c.collnamespace
LEFT JOIN pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_collation'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_collation'::regclass AND e.objid = c.oid AND e.deptype = 'e')
