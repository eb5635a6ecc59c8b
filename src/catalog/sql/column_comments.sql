-- COMMENT ON COLUMN texts.
SELECT d.objoid::int8 AS relid, d.objsubid AS attnum, d.description AS comment
FROM pg_description d
WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0
