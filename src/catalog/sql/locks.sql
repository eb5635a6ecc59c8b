-- Relations of this database on which some session holds or awaits an
-- ACCESS EXCLUSIVE lock: deparsing them would queue behind (or ahead of) DDL.
SELECT l.relation::int8 AS relid, l.pid::int4 AS pid, l.granted,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS relation
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.pid <> pg_backend_pid()
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
