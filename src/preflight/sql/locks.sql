-- The table locks this session holds, in the migration's still open
-- transaction: what the migration would hold in production until it
-- commits.
SELECT l.relation::bigint AS oid, l.mode::text AS mode
FROM pg_catalog.pg_locks l
WHERE l.pid = pg_catalog.pg_backend_pid()
  AND l.locktype = 'relation'
  AND l.granted
  AND l.mode IN ('AccessExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock')
