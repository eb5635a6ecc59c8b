-- A migration running on this database, seen from pg_locks only:
-- $1 the advisory keys the target's tool takes (bigint keys show as
-- classid = high half, objid = low half, objsubid = 1), $2.$3 its history
-- table, which a running migration holds a write lock on until it commits.
SELECT l.pid,
       ((l.classid::bigint << 32) | l.objid::bigint) AS key,
       NULL::text AS mode
  FROM pg_catalog.pg_locks l
 WHERE l.locktype = 'advisory'
   AND l.objsubid = 1
   AND l.granted
   AND l.pid <> pg_catalog.pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint) = ANY ($1::int8[])
UNION ALL
SELECT l.pid, NULL::bigint, l.mode
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_class c ON c.oid = l.relation
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE l.locktype = 'relation'
   AND l.pid <> pg_catalog.pg_backend_pid()
   AND l.mode NOT IN ('AccessShareLock', 'RowShareLock')
   AND n.nspname = $2
   AND c.relname = $3
 ORDER BY 2 NULLS LAST, 1
