-- The server and database being captured.
SELECT current_database()::text AS database,
       current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int4 AS server_version_num
