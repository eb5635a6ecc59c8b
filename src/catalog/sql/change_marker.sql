-- The first transaction id this snapshot cannot see: the next capture's change marker.
SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::int8 % 4294967296)::text AS marker
