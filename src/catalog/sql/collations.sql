-- User-defined collations. Where each major keeps the locale: 13 and 14 put
-- an ICU collation's locale in collcollate/collctype, 15 and 16 in
-- colliculocale, 17 renamed that colllocale and added the builtin provider.
SELECT n.nspname::text AS schema, c.collname::text AS name,
       CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' WHEN 'b' THEN 'builtin' ELSE 'default' END AS provider,
       c.collisdeterministic AS deterministic,
       CASE WHEN c.collprovider <> 'i' THEN c.collcollate::text END AS lc_collate,
       CASE WHEN c.collprovider <> 'i' THEN c.collctype::text END AS lc_ctype,
       CASE WHEN c.collprovider = 'i' THEN
            /*if 13-14*/ c.collcollate /*end*/ /*if 15-16*/ c.colliculocale /*end*/ /*if 17+*/ c.colllocale /*end*/
       END::text AS icu_locale,
       /*if 17+*/ CASE WHEN c.collprovider = 'b' THEN c.colllocale END /*else*/ NULL /*end*/::text AS builtin_locale,
       /*if 16+*/ c.collicurules /*else*/ NULL /*end*/::text AS icu_rules,
       pg_get_userbyid(c.collowner)::text AS owner,
       d.description AS comment
FROM pg_collation c
JOIN pg_namespace n ON n.oid = c.collnamespace
LEFT JOIN pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_collation'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_collation'::regclass AND e.objid = c.oid AND e.deptype = 'e')
