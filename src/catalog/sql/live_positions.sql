-- Incremental live capture: where this capture's snapshot stands. The
-- marker is the snapshot's xmin as a 64-bit transaction id: every
-- transaction this snapshot cannot see (in progress or not yet started)
-- has an id at or above it, so the next capture finds everything they
-- wrote among the catalog rows whose xmin is at or above the marker. The
-- rest tells whether the next capture talks to the same running server
-- (a restart, a failover, a restore or an upgrade starts another
-- postmaster): positions are only meaningful there.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS marker,
       to_char(pg_postmaster_start_time() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started,
       current_setting('server_version_num')::int4 AS version_num,
       d.oid::int8 AS database_oid,
       d.datfrozenxid::text AS frozen_xid,
       pg_is_in_recovery() AS in_recovery
FROM pg_database d
WHERE d.datname = current_database()
