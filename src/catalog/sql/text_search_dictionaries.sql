-- Text search dictionaries outside the system schemas and not owned by an
-- extension: the template (as [schema, name] parts, quoted by driftwatch)
-- and the options the dictionary was created with, as the server keeps
-- them (`language = 'english', stopwords = 'english'`). Read whole by
-- every capture, as the configurations that use them are.
SELECT n.nspname::text AS schema, d.dictname::text AS name,
       tn.nspname::text AS template_schema, t.tmplname::text AS template_name,
       d.dictinitoption AS options,
       pg_get_userbyid(d.dictowner)::text AS owner,
       ds.description AS comment
FROM pg_ts_dict d
JOIN pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_ts_template t ON t.oid = d.dicttemplate
JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
LEFT JOIN pg_description ds
       ON ds.objoid = d.oid AND ds.classoid = 'pg_ts_dict'::regclass AND ds.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_ts_dict'::regclass AND e.objid = d.oid AND e.deptype = 'e')
