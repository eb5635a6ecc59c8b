-- Row filters of published tables.
SELECT r.oid::int8 AS oid, pg_get_expr(r.prqual, r.prrelid) AS text
FROM pg_publication_rel r
WHERE r.prqual IS NOT NULL
