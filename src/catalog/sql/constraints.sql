-- Table constraints as raw catalog columns; keys are resolved to names and
-- rendered in Rust. Constraints cloned onto partitions (conparentid <> 0)
-- follow from their parent's and are left out. CHECK expressions without a
-- column reference deparse lock-free; for the rest the raw tree comes along,
-- and deparse_checks.sql prints one per distinct tree (see checks.rs).
SELECT k.oid::int8 AS oid, k.conrelid::int8 AS relid, k.conname::text AS name, k.contype::text AS contype,
       coalesce(k.conkey, '{}')::int4[] AS columns,
       coalesce(k.confkey, '{}')::int4[] AS ref_columns,
       k.confrelid::int8 AS ref_relid,
       k.confupdtype::text AS on_update, k.confdeltype::text AS on_delete,
       k.confmatchtype::text AS match_type,
       /*if 15+*/ coalesce(k.confdelsetcols, '{}') /*else*/ '{}' /*end*/::int4[] AS on_delete_columns,
       /*if 18+*/ k.conenforced /*else*/ true /*end*/ AS enforced,
       -- A foreign key is checked by system triggers on both tables;
       -- DISABLE TRIGGER ALL turns them off and the key stops holding.
       (k.contype = 'f' AND EXISTS (SELECT 1 FROM pg_trigger t
                                    WHERE t.tgconstraint = k.oid AND t.tgenabled = 'D'))
         AS triggers_disabled,
       /*if 18+*/ k.conperiod /*else*/ false /*end*/ AS period,
       k.condeferrable AS deferrable, k.condeferred AS deferred,
       k.convalidated AS validated, k.connoinherit AS no_inherit,
       k.conislocal AS is_local,
       CASE WHEN k.contype IN ('p', 'u') THEN (i.indkey::int4[])[i.indnkeyatts + 0 : i.indnatts - 1] END AS include_columns,
       /*if 15+*/ coalesce(i.indnullsnotdistinct, false) /*else*/ false /*end*/ AS nulls_not_distinct,
       CASE WHEN k.contype = 'c' AND strpos(k.conbin::text, '{VAR ') = 0
            THEN pg_get_expr(k.conbin, 0) END AS check_expr,
       CASE WHEN k.contype = 'c' AND strpos(k.conbin::text, '{VAR ') > 0
            THEN k.conbin::text END AS check_tree,
       d.description AS comment
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = k.conindid AND k.contype IN ('p', 'u')
LEFT JOIN pg_description d
       ON d.objoid = k.oid AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
WHERE k.contype IN ('p', 'u', 'c', 'f', 'x')
  AND k.conparentid = 0
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
