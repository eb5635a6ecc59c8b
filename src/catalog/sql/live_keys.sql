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
--
-- Keys are int8: an oid, or two or three columns packed into 64 bits
-- (pg_inherits: child, parent; pg_description: object, catalog, column;
-- catalog oids are below 2^16 and column numbers below 2^16), or for the
-- few pg_depend rows a capture prints, a 64-bit hash of the row. Owners
-- are found with joins, never correlated lookups, so the cost is one scan
-- per catalog.
SELECT k.catalog::text AS catalog, k.key::int8 AS key, coalesce(k.top, 0)::int8 AS top
FROM (
    SELECT 'pg_class' AS catalog, c.oid::int8 AS key,
           CASE WHEN c.relkind IN ('i', 'I') THEN i.indrelid
                WHEN c.relkind = 'c' THEN c.reltype
                WHEN c.relkind = 'S' THEN coalesce(e.refobjid, c.oid)
                ELSE c.oid END::int8 AS top
    FROM pg_class c
    LEFT JOIN pg_index i ON c.relkind IN ('i', 'I') AND i.indexrelid = c.oid
    LEFT JOIN pg_depend e ON c.relkind = 'S' AND e.classid = 'pg_class'::regclass AND e.objid = c.oid
                         AND e.refclassid = 'pg_class'::regclass AND e.deptype = 'i'
    WHERE c.oid >= 16384
    UNION ALL
    SELECT 'pg_type', t.oid::int8, CASE WHEN c.oid IS NULL OR c.relkind = 'c' THEN t.oid ELSE c.oid END::int8
    FROM pg_type t LEFT JOIN pg_class c ON t.typrelid <> 0 AND c.oid = t.typrelid WHERE t.oid >= 16384
    UNION ALL SELECT 'pg_proc', p.oid::int8, p.oid::int8 FROM pg_proc p WHERE p.oid >= 16384
    UNION ALL SELECT 'pg_namespace', n.oid::int8, n.oid::int8 FROM pg_namespace n WHERE n.oid >= 16384
    UNION ALL SELECT 'pg_statistic_ext', s.oid::int8, s.oid::int8 FROM pg_statistic_ext s
    UNION ALL SELECT 'pg_constraint', k.oid::int8, coalesce(nullif(k.conrelid, 0), k.contypid)::int8
              FROM pg_constraint k WHERE k.oid >= 16384
    UNION ALL SELECT 'pg_trigger', t.oid::int8, t.tgrelid::int8 FROM pg_trigger t
    UNION ALL SELECT 'pg_policy', p.oid::int8, p.polrelid::int8 FROM pg_policy p
    UNION ALL SELECT 'pg_rewrite', r.oid::int8, r.ev_class::int8 FROM pg_rewrite r WHERE r.oid >= 16384
    UNION ALL SELECT 'pg_attrdef', a.oid::int8, a.adrelid::int8 FROM pg_attrdef a
    UNION ALL SELECT 'pg_inherits', (h.inhrelid::int8 << 32) | h.inhparent::int8, tops.top::int8
              FROM pg_inherits h CROSS JOIN LATERAL (VALUES (h.inhrelid), (h.inhparent)) tops(top)
    -- what the capture prints of pg_depend: extension membership (which
    -- hides an object) and a sequence's owning column
    UNION ALL SELECT 'pg_depend',
              hashtextextended(concat_ws(':', e.classid, e.objid, e.objsubid, e.refclassid, e.refobjid, e.refobjsubid, e.deptype), 0),
              CASE WHEN e.classid = 'pg_class'::regclass AND c.relkind IN ('i', 'I') THEN i.indrelid
                   WHEN e.classid = 'pg_class'::regclass AND c.relkind = 'c' THEN c.reltype
                   WHEN e.classid = 'pg_type'::regclass AND tc.relkind IS NOT NULL AND tc.relkind <> 'c' THEN tc.oid
                   ELSE e.objid END::int8
              FROM pg_depend e
              LEFT JOIN pg_class c ON e.classid = 'pg_class'::regclass AND c.oid = e.objid
              LEFT JOIN pg_index i ON c.relkind IN ('i', 'I') AND i.indexrelid = c.oid
              LEFT JOIN pg_type t ON e.classid = 'pg_type'::regclass AND t.oid = e.objid
              LEFT JOIN pg_class tc ON t.typrelid <> 0 AND tc.oid = t.typrelid
              WHERE e.objid >= 16384 AND e.deptype = 'e'
    UNION ALL SELECT 'pg_depend',
              hashtextextended(concat_ws(':', e.classid, e.objid, e.objsubid, e.refclassid, e.refobjid, e.refobjsubid, e.deptype), 0),
              tops.top::int8
              FROM pg_class s
              JOIN pg_depend e ON e.classid = 'pg_class'::regclass AND e.objid = s.oid
                              AND e.refclassid = 'pg_class'::regclass AND e.deptype IN ('a', 'i')
              CROSS JOIN LATERAL (VALUES (CASE WHEN e.deptype = 'i' THEN e.refobjid ELSE s.oid END), (e.refobjid)) tops(top)
              WHERE s.relkind = 'S' AND s.oid >= 16384
    UNION ALL SELECT 'pg_description',
              (d.objoid::int8 << 32) | (d.classoid::int8 << 16) | (d.objsubid::int8 & 65535),
              CASE d.classoid
                  WHEN 'pg_class'::regclass THEN
                      CASE WHEN c.relkind IN ('i', 'I') THEN i.indrelid WHEN c.relkind = 'c' THEN c.reltype ELSE c.oid END
                  WHEN 'pg_type'::regclass THEN
                      CASE WHEN tc.relkind IS NOT NULL AND tc.relkind <> 'c' THEN tc.oid ELSE d.objoid END
                  WHEN 'pg_constraint'::regclass THEN coalesce(nullif(k.conrelid, 0), k.contypid)
                  WHEN 'pg_trigger'::regclass THEN g.tgrelid
                  WHEN 'pg_policy'::regclass THEN p.polrelid
                  WHEN 'pg_rewrite'::regclass THEN w.ev_class
                  ELSE d.objoid END::int8
              FROM pg_description d
              LEFT JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
              LEFT JOIN pg_index i ON c.relkind IN ('i', 'I') AND i.indexrelid = c.oid
              LEFT JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
              LEFT JOIN pg_class tc ON t.typrelid <> 0 AND tc.oid = t.typrelid
              LEFT JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
              LEFT JOIN pg_trigger g ON d.classoid = 'pg_trigger'::regclass AND g.oid = d.objoid
              LEFT JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND p.oid = d.objoid
              LEFT JOIN pg_rewrite w ON d.classoid = 'pg_rewrite'::regclass AND w.oid = d.objoid
              WHERE d.objoid >= 16384
) k
WHERE true /*scope*/
