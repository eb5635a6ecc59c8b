-- Incremental capture: the top-level objects (relations, functions, types,
-- statistics, schemas) with a catalog row created or updated since $1, a
-- transaction id marker (the first xid the previous capture could not
-- see, or for a live database the oldest it could not), then every
-- object that depends on one of them (pg_depend, transitively), since a
-- rename changes how dependents print. Only rows newer than the marker
-- are mapped to their owner, so the cost follows the size of the change.
-- System objects (oid < 16384) are never new. $2 adds the owners of rows
-- that disappeared (found by the caller from key inventories); $3, when
-- not null, names the only catalogs whose rows can be new (the others'
-- sums did not move), and the scans of the others are skipped. Removals
-- are not seen here: the replay captures a migration in full when its
-- parse says it may remove parts; a live capture compares inventories.
WITH RECURSIVE
fresh(classid, objid) AS (
    SELECT 'pg_class'::regclass, c.oid FROM pg_class c WHERE ($3::text[] IS NULL OR 'pg_class' = ANY ($3)) AND c.oid >= 16384 AND age(c.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, a.attrelid FROM pg_attribute a
              WHERE ($3::text[] IS NULL OR 'pg_attribute' = ANY ($3)) AND a.attrelid >= 16384 AND age(a.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, i.indrelid FROM pg_index i
              WHERE ($3::text[] IS NULL OR 'pg_index' = ANY ($3)) AND i.indrelid >= 16384 AND age(i.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, d.adrelid FROM pg_attrdef d WHERE ($3::text[] IS NULL OR 'pg_attrdef' = ANY ($3)) AND age(d.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_constraint'::regclass, k.oid FROM pg_constraint k
              WHERE ($3::text[] IS NULL OR 'pg_constraint' = ANY ($3)) AND k.oid >= 16384 AND age(k.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, t.tgrelid FROM pg_trigger t WHERE ($3::text[] IS NULL OR 'pg_trigger' = ANY ($3)) AND age(t.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, p.polrelid FROM pg_policy p WHERE ($3::text[] IS NULL OR 'pg_policy' = ANY ($3)) AND age(p.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, r.ev_class FROM pg_rewrite r
              WHERE ($3::text[] IS NULL OR 'pg_rewrite' = ANY ($3)) AND r.oid >= 16384 AND age(r.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, h.inhrelid FROM pg_inherits h WHERE ($3::text[] IS NULL OR 'pg_inherits' = ANY ($3)) AND age(h.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, h.inhparent FROM pg_inherits h WHERE ($3::text[] IS NULL OR 'pg_inherits' = ANY ($3)) AND age(h.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, s.seqrelid FROM pg_sequence s
              WHERE ($3::text[] IS NULL OR 'pg_sequence' = ANY ($3)) AND s.seqrelid >= 16384 AND age(s.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, p.partrelid FROM pg_partitioned_table p WHERE ($3::text[] IS NULL OR 'pg_partitioned_table' = ANY ($3)) AND age(p.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_class'::regclass, f.ftrelid FROM pg_foreign_table f WHERE ($3::text[] IS NULL OR 'pg_foreign_table' = ANY ($3)) AND age(f.xmin) <= age($1::text::xid)
    UNION ALL SELECT e.classid, e.objid FROM pg_depend e
              WHERE ($3::text[] IS NULL OR 'pg_depend' = ANY ($3)) AND e.objid >= 16384 AND e.deptype IN ('a', 'i', 'e') AND age(e.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p WHERE ($3::text[] IS NULL OR 'pg_proc' = ANY ($3)) AND p.oid >= 16384 AND age(p.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t WHERE ($3::text[] IS NULL OR 'pg_type' = ANY ($3)) AND t.oid >= 16384 AND age(t.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_type'::regclass, e.enumtypid FROM pg_enum e
              WHERE ($3::text[] IS NULL OR 'pg_enum' = ANY ($3)) AND e.enumtypid >= 16384 AND age(e.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_type'::regclass, r.rngtypid FROM pg_range r
              WHERE ($3::text[] IS NULL OR 'pg_range' = ANY ($3)) AND r.rngtypid >= 16384 AND age(r.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_statistic_ext'::regclass, s.oid FROM pg_statistic_ext s WHERE ($3::text[] IS NULL OR 'pg_statistic_ext' = ANY ($3)) AND age(s.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_namespace'::regclass, n.oid FROM pg_namespace n
              WHERE ($3::text[] IS NULL OR 'pg_namespace' = ANY ($3)) AND n.oid >= 16384 AND age(n.xmin) <= age($1::text::xid)
    UNION ALL SELECT d.classoid, d.objoid FROM pg_description d
              WHERE ($3::text[] IS NULL OR 'pg_description' = ANY ($3)) AND d.objoid >= 16384 AND age(d.xmin) <= age($1::text::xid)
    -- objects of kinds read whole, whose names dependents print (a text
    -- search configuration in an expression, a foreign table's server)
    UNION ALL SELECT 'pg_ts_config'::regclass, c.oid FROM pg_ts_config c
              WHERE ($3::text[] IS NULL OR 'pg_ts_config' = ANY ($3)) AND c.oid >= 16384 AND age(c.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_ts_dict'::regclass, c.oid FROM pg_ts_dict c
              WHERE ($3::text[] IS NULL OR 'pg_ts_dict' = ANY ($3)) AND c.oid >= 16384 AND age(c.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_foreign_server'::regclass, s.oid FROM pg_foreign_server s
              WHERE ($3::text[] IS NULL OR 'pg_foreign_server' = ANY ($3)) AND age(s.xmin) <= age($1::text::xid)
    UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, w.oid FROM pg_foreign_data_wrapper w
              WHERE ($3::text[] IS NULL OR 'pg_foreign_data_wrapper' = ANY ($3)) AND w.oid >= 16384 AND age(w.xmin) <= age($1::text::xid)
),
-- Each step looks its dependents up by index (the lateral subquery with
-- OFFSET 0 is not flattened into a join): planned as a join, the
-- recursion merge-joined the whole of pg_depend at every step (290,000
-- index entries, three times, on 10,000 tables).
dirty(classid, objid) AS (
    SELECT DISTINCT classid, objid FROM fresh
    UNION
    SELECT e.classid, e.objid FROM dirty d
    CROSS JOIN LATERAL (
        SELECT e.classid, e.objid FROM pg_depend e
        WHERE e.refclassid = d.classid AND e.refobjid = d.objid
          AND e.deptype <> 'e' AND e.objid >= 16384
        OFFSET 0
    ) e
),
-- Map every dirty catalog row to the top-level object it is part of.
tops(oid) AS (
    SELECT DISTINCT CASE d.classid
        WHEN 'pg_class'::regclass THEN
            (SELECT CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = c.oid)
                         WHEN c.relkind = 'c' THEN c.reltype
                         WHEN c.relkind = 'S' THEN coalesce(
                             (SELECT e.refobjid FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                              AND e.objid = c.oid AND e.refclassid = 'pg_class'::regclass AND e.deptype = 'i'), c.oid)
                         ELSE c.oid END
             FROM pg_class c WHERE c.oid = d.objid)
        WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)
        WHEN 'pg_constraint'::regclass THEN
            (SELECT coalesce(nullif(k.conrelid, 0), k.contypid) FROM pg_constraint k WHERE k.oid = d.objid)
        WHEN 'pg_attrdef'::regclass THEN (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = d.objid)
        WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)
        WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid)
        WHEN 'pg_type'::regclass THEN
            (SELECT CASE WHEN c.relkind = 'c' OR c.oid IS NULL THEN t.oid ELSE c.oid END
             FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid WHERE t.oid = d.objid)
        ELSE d.objid END
    FROM dirty d
    UNION SELECT v::oid FROM unnest($2::int8[]) v
),
-- A dirty table's identity sequences are read with it (their options are
-- part of its column).
scope(oid) AS (
    SELECT oid FROM tops
    UNION
    SELECT e.objid FROM tops t CROSS JOIN LATERAL (
        SELECT e.objid FROM pg_depend e
        WHERE e.refclassid = 'pg_class'::regclass AND e.refobjid = t.oid
          AND e.classid = 'pg_class'::regclass AND e.deptype = 'i'
        OFFSET 0
    ) e
),
-- Objects whose names the dirty ones print: referenced tables, parents,
-- the tables owning their sequences, the tables of their statistics.
lookups(oid) AS (
    SELECT oid FROM scope
    UNION SELECT k.confrelid FROM pg_constraint k JOIN tops t ON t.oid = k.conrelid WHERE k.contype = 'f'
    UNION SELECT h.inhparent FROM pg_inherits h JOIN tops t ON t.oid = h.inhrelid
    UNION SELECT e.refobjid FROM tops t CROSS JOIN LATERAL (
              SELECT e.refobjid FROM pg_depend e
              WHERE e.classid = 'pg_class'::regclass AND e.objid = t.oid
                AND e.refclassid = 'pg_class'::regclass AND e.deptype IN ('a', 'i')
              OFFSET 0
          ) e
    UNION SELECT s.stxrelid FROM pg_statistic_ext s JOIN tops t ON t.oid = s.oid
    UNION SELECT r.prrelid FROM pg_publication_rel r
)
SELECT l.oid::int8 AS oid, EXISTS (SELECT 1 FROM scope s WHERE s.oid = l.oid) AS dirty
FROM lookups l
WHERE l.oid IS NOT NULL
