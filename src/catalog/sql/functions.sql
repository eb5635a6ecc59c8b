-- Functions, procedures and aggregates (not the constructors a range type
-- creates for itself: those depend on it internally, deptype 'i'). The argument and result deparsers
-- take no lock; SQL-standard bodies (BEGIN ATOMIC) would lock the tables they
-- name, so they come from deparse_functions.sql.
SELECT p.oid::int8 AS oid, n.nspname::text AS schema, p.proname::text AS name,
       -- 14 and newer print the mode of a procedure's IN arguments (IN x int),
       -- 13 left it out: read 13 as the newer majors print it
       /*if 13-13*/ regexp_replace(/*end*/ pg_get_function_identity_arguments(p.oid)
       /*if 13-13*/ , CASE WHEN p.prokind = 'p' THEN '(^|, )(?!(INOUT|OUT|VARIADIC) |$)' ELSE '^(?!)' END, '\1IN ', 'g') /*end*/ AS arguments,
       p.prokind::text AS prokind,
       /*if 13-13*/ regexp_replace(/*end*/ pg_get_function_arguments(p.oid)
       /*if 13-13*/ , CASE WHEN p.prokind = 'p' THEN '(^|, )(?!(INOUT|OUT|VARIADIC) |$)' ELSE '^(?!)' END, '\1IN ', 'g') /*end*/ AS signature,
       CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns,
       l.lanname::text AS language,
       /*if 14+*/ CASE WHEN p.prosqlbody IS NULL THEN p.prosrc END /*else*/ p.prosrc /*end*/ AS body,
       /*if 14+*/ p.prosqlbody IS NOT NULL /*else*/ false /*end*/ AS has_sql_body,
       p.provolatile::text AS volatility, p.proisstrict AS strict,
       p.prosecdef AS security_definer, p.proleakproof AS leakproof,
       p.proparallel::text AS parallel,
       p.procost AS cost, p.prorows AS rows, p.proretset AS returns_set,
       coalesce(p.proconfig, '{}')::text[] AS config,
       pg_get_userbyid(p.proowner)::text AS owner,
       d.description AS comment,
       coalesce(p.proacl, acldefault('f', p.proowner))::text[] AS acl,
       a.aggkind::text AS agg_kind,
       a.aggtransfn::regproc::text AS agg_transition,
       CASE WHEN a.aggtranstype IS NOT NULL THEN format_type(a.aggtranstype, NULL) END AS agg_state_type,
       CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::regproc::text END AS agg_final,
       CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::regproc::text END AS agg_combine,
       a.agginitval AS agg_initial,
       CASE WHEN a.aggsortop <> 0 THEN a.aggsortop::regoperator::text END AS agg_sort_operator
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
LEFT JOIN pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
