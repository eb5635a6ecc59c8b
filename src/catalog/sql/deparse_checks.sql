-- CHECK expressions that reference columns, for the representatives the
-- catalog phase picked ($1): constraints whose expression tree and
-- referenced column names agree print the same text, so only one of each
-- group is deparsed (and only its table opened and locked).
SELECT k.oid::int8 AS oid, pg_get_expr(k.conbin, k.conrelid) AS text
FROM pg_constraint k
WHERE k.oid = ANY($1)
