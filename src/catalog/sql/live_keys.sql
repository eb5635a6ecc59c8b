-- Incremental live capture: the keys of the catalog rows a snapshot is
-- made of, each with the top-level object(s) it belongs to (what a
-- capture reads again when the row changes or disappears). Comparing two
-- inventories finds the rows deleted since (DROP INDEX, DROP TRIGGER,
-- COMMENT ... IS NULL, OWNED BY NONE, ...), which leave no newer row for
-- the xmin marker to find. Catalogs whose rows are only ever deleted with
-- a row listed here (pg_attribute, pg_index, pg_sequence, pg_enum,
-- pg_range, pg_partitioned_table, pg_foreign_table) need no inventory of
-- their own. An incremental capture reads only the catalogs whose sums
-- changed (the condition replaces the scope comment).
WITH rel_top(oid, top) AS (
    SELECT c.oid,
           CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = c.oid)
                WHEN c.relkind = 'c' THEN c.reltype
                WHEN c.relkind = 'S' THEN coalesce(
                    (SELECT e.refobjid FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                     AND e.objid = c.oid AND e.refclassid = 'pg_class'::regclass AND e.deptype = 'i'), c.oid)
                ELSE c.oid END
    FROM pg_class c WHERE c.oid >= 16384
),
type_top(oid, top) AS (
    SELECT t.oid, CASE WHEN c.oid IS NULL OR c.relkind = 'c' THEN t.oid ELSE c.oid END
    FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid WHERE t.oid >= 16384
),
keys(catalog, key, top) AS (
    SELECT 'pg_class', r.oid::text, r.top FROM rel_top r
    UNION ALL SELECT 'pg_type', t.oid::text, t.top FROM type_top t
    UNION ALL SELECT 'pg_proc', p.oid::text, p.oid FROM pg_proc p WHERE p.oid >= 16384
    UNION ALL SELECT 'pg_namespace', n.oid::text, n.oid FROM pg_namespace n WHERE n.oid >= 16384
    UNION ALL SELECT 'pg_statistic_ext', s.oid::text, s.oid FROM pg_statistic_ext s
    UNION ALL SELECT 'pg_constraint', k.oid::text, coalesce(nullif(k.conrelid, 0), k.contypid)
              FROM pg_constraint k WHERE k.oid >= 16384
    UNION ALL SELECT 'pg_trigger', t.oid::text, t.tgrelid FROM pg_trigger t
    UNION ALL SELECT 'pg_policy', p.oid::text, p.polrelid FROM pg_policy p
    UNION ALL SELECT 'pg_rewrite', r.oid::text, r.ev_class FROM pg_rewrite r WHERE r.oid >= 16384
    UNION ALL SELECT 'pg_attrdef', a.oid::text, a.adrelid FROM pg_attrdef a
    UNION ALL SELECT 'pg_inherits', h.inhrelid || ':' || h.inhparent, h.inhrelid FROM pg_inherits h
    UNION ALL SELECT 'pg_inherits', h.inhrelid || ':' || h.inhparent, h.inhparent FROM pg_inherits h
    -- what the capture prints of pg_depend: extension membership (which
    -- hides an object) and a sequence's owning column
    UNION ALL SELECT 'pg_depend', concat_ws(':', e.classid, e.objid, e.objsubid, e.refclassid, e.refobjid, e.refobjsubid, e.deptype),
              CASE e.classid WHEN 'pg_class'::regclass THEN (SELECT r.top FROM rel_top r WHERE r.oid = e.objid)
                             WHEN 'pg_type'::regclass THEN (SELECT t.top FROM type_top t WHERE t.oid = e.objid)
                             ELSE e.objid END
              FROM pg_depend e
              WHERE e.objid >= 16384 AND (e.deptype = 'e' OR (e.deptype IN ('a', 'i') AND e.classid = 'pg_class'::regclass
                    AND e.refclassid = 'pg_class'::regclass
                    AND EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = e.objid AND s.relkind = 'S')))
    UNION ALL SELECT 'pg_depend', concat_ws(':', e.classid, e.objid, e.objsubid, e.refclassid, e.refobjid, e.refobjsubid, e.deptype),
              e.refobjid
              FROM pg_depend e
              WHERE e.objid >= 16384 AND e.deptype IN ('a', 'i') AND e.classid = 'pg_class'::regclass
                AND e.refclassid = 'pg_class'::regclass
                AND EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = e.objid AND s.relkind = 'S')
    UNION ALL SELECT 'pg_description', concat_ws(':', d.classoid, d.objoid, d.objsubid),
              CASE d.classoid
                  WHEN 'pg_class'::regclass THEN (SELECT r.top FROM rel_top r WHERE r.oid = d.objoid)
                  WHEN 'pg_type'::regclass THEN (SELECT t.top FROM type_top t WHERE t.oid = d.objoid)
                  WHEN 'pg_constraint'::regclass THEN
                      (SELECT coalesce(nullif(k.conrelid, 0), k.contypid) FROM pg_constraint k WHERE k.oid = d.objoid)
                  WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objoid)
                  WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objoid)
                  WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objoid)
                  ELSE d.objoid END
              FROM pg_description d WHERE d.objoid >= 16384
)
SELECT k.catalog::text AS catalog, k.key::text AS key, coalesce(k.top, 0)::int8 AS top
FROM keys k
WHERE true /*scope*/
