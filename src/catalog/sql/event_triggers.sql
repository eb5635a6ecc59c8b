-- Event triggers.
SELECT t.evtname::text AS name, t.evtevent::text AS event,
       quote_ident(pn.nspname) || '.' || quote_ident(p.proname) AS function,
       coalesce(t.evttags, '{}')::text[] AS tags,
       t.evtenabled::text AS enabled,
       pg_get_userbyid(t.evtowner)::text AS owner,
       d.description AS comment
FROM pg_event_trigger t
JOIN pg_proc p ON p.oid = t.evtfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
LEFT JOIN pg_description d
       ON d.objoid = t.oid AND d.classoid = 'pg_event_trigger'::regclass AND d.objsubid = 0
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_event_trigger'::regclass AND e.objid = t.oid AND e.deptype = 'e')
