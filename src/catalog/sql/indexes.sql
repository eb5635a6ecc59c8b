-- Indexes that do not implement a constraint, as raw catalog columns: key
-- columns, operator classes, collations and DESC/NULLS bits are rendered in
-- Rust. Expressions and predicates go to deparse_indexes.sql.
SELECT i.indrelid::int8 AS relid, ic.relname::text AS name,
       am.amname::text AS method,
       i.indisunique AS is_unique, /*if 15+*/ i.indnullsnotdistinct /*else*/ false /*end*/ AS nulls_not_distinct,
       i.indnkeyatts::int4 AS key_count,
       (i.indkey::int4[])[0:] AS columns,
       (i.indclass::oid[])[0:]::int8[] AS opclasses,
       (i.indcollation::oid[])[0:]::int8[] AS collations,
       (i.indoption::int4[])[0:] AS key_options,
       i.indexprs IS NOT NULL AS has_expressions,
       i.indpred IS NOT NULL AS has_predicate,
       coalesce(ic.reloptions, '{}')::text[] AS options,
       ts.spcname::text AS tablespace,
       i.indisvalid AS valid,
       (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
        FROM pg_inherits ih JOIN pg_class pc ON pc.oid = ih.inhparent
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE ih.inhrelid = i.indexrelid) AS partition_of,
       d.description AS comment
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
LEFT JOIN pg_description d
       ON d.objoid = i.indexrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                  WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
