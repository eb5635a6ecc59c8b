-- User triggers as raw catalog columns (tgtype bits, argument bytes, UPDATE OF
-- columns), rendered in Rust. WHEN conditions go to deparse_triggers.sql.
-- Internal triggers (foreign keys) and clones on partitions are left out.
SELECT t.tgrelid::int8 AS relid, t.tgname::text AS name, t.tgtype::int4 AS tgtype,
       t.tgenabled::text AS enabled,
       quote_ident(pn.nspname) || '.' || quote_ident(p.proname) AS function,
       t.tgargs AS args, t.tgnargs::int4 AS nargs,
       (t.tgattr::int4[])[0:] AS columns,
       t.tgqual IS NOT NULL AS has_when,
       t.tgconstraint <> 0 AS is_constraint,
       t.tgdeferrable AS deferrable, t.tginitdeferred AS initially_deferred,
       t.tgoldtable::text AS old_table, t.tgnewtable::text AS new_table,
       d.description AS comment
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
LEFT JOIN pg_description d
       ON d.objoid = t.oid AND d.classoid = 'pg_trigger'::regclass AND d.objsubid = 0
WHERE NOT t.tgisinternal AND t.tgparentid = 0
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
