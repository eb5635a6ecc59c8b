-- Text search configurations outside the system schemas and not owned by
-- an extension, each with its parser and its mappings: per token type of
-- the parser (by its alias, in the parser's token order), the dictionaries
-- in the order they are consulted. Parser and dictionary names come as
-- [schema, name] pairs, quoted by driftwatch, never by this query. Read
-- whole by every capture (an incremental one too): there are few, and a
-- mapping changed by ALTER … MAPPING leaves no newer row on the
-- configuration itself.
SELECT n.nspname::text AS schema, c.cfgname::text AS name,
       pn.nspname::text AS parser_schema, p.prsname::text AS parser_name,
       coalesce((
         SELECT json_agg(json_build_object(
                  'token', t.alias,
                  'dictionaries', (SELECT json_agg(json_build_array(dn.nspname, d.dictname) ORDER BY m.mapseqno)
                                   FROM pg_ts_config_map m
                                   JOIN pg_ts_dict d ON d.oid = m.mapdict
                                   JOIN pg_namespace dn ON dn.oid = d.dictnamespace
                                   WHERE m.mapcfg = c.oid AND m.maptokentype = t.tokid))
                ORDER BY t.tokid)
         FROM ts_token_type(c.cfgparser) t
         WHERE EXISTS (SELECT 1 FROM pg_ts_config_map m
                       WHERE m.mapcfg = c.oid AND m.maptokentype = t.tokid)
       ), '[]'::json) AS mappings,
       pg_get_userbyid(c.cfgowner)::text AS owner,
       d.description AS comment
FROM pg_ts_config c
JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser
JOIN pg_namespace pn ON pn.oid = p.prsnamespace
LEFT JOIN pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_ts_config'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_ts_config'::regclass AND e.objid = c.oid AND e.deptype = 'e')
