-- Key texts of expression indexes and predicates of partial indexes.
SELECT i.indrelid::int8 AS relid, ic.relname::text AS name,
       CASE WHEN i.indexprs IS NOT NULL THEN
         ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, false) FROM generate_series(1, i.indnkeyatts) k)
       END AS keys,
       CASE WHEN i.indpred IS NOT NULL THEN pg_get_expr(i.indpred, i.indrelid) END AS predicate
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
