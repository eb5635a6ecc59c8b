//! DDL step lists shared by the probe's tests (tests/probe.rs: every step
//! must move the probe) and the equivalence suite of incremental live
//! capture (tests/incremental.rs: after every step an incremental capture
//! must equal a full one, byte for byte).

/// A role that owns something and is renamed by the steps (created here,
/// not by the fixtures, so no other test sees its name change).
pub const PROBE_ROLE_SQL: &str = "
DO $$ BEGIN CREATE ROLE dw_probe_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
";

/// DDL steps on kitchen_sink.sql, one statement each, run in order: each
/// must change the snapshot (else it proves nothing) and the probe.
pub const STEPS: &[&str] = &[
    // columns
    "ALTER TABLE app.customers ADD COLUMN phone text",
    "ALTER TABLE app.customers DROP COLUMN phone",
    "ALTER TABLE app.orders RENAME COLUMN note TO remark",
    "ALTER TABLE app.orders ALTER COLUMN placed_at SET DEFAULT now()",
    "ALTER TABLE app.orders ALTER COLUMN placed_at DROP DEFAULT",
    "ALTER TABLE app.orders ALTER COLUMN placed_at SET NOT NULL",
    "ALTER TABLE app.orders ALTER COLUMN placed_at DROP NOT NULL",
    "ALTER TABLE app.base_items ALTER COLUMN label TYPE varchar(50)",
    "ALTER TABLE app.customers ALTER COLUMN name SET STATISTICS 100",
    // indexes and constraints
    "CREATE INDEX customers_created_idx ON app.customers (created_at)",
    "DROP INDEX app.customers_created_idx",
    "DROP INDEX app.orders_placed_idx",
    "DROP INDEX CONCURRENTLY app.orders_customer_placed_idx",
    "ALTER INDEX app.orders_note_lower_idx RENAME TO orders_remark_lower_idx",
    "ALTER TABLE app.orders DROP CONSTRAINT orders_total_check",
    "ALTER TABLE app.orders VALIDATE CONSTRAINT orders_note_short",
    "ALTER TABLE app.orders ALTER CONSTRAINT orders_customer_fk NOT DEFERRABLE",
    "ALTER TABLE app.orders REPLICA IDENTITY FULL",
    "ALTER TABLE app.orders SET (fillfactor = 70)",
    // comments: IS NULL deletes a row and writes none
    "COMMENT ON TABLE app.orders IS 'x'",
    "COMMENT ON TABLE app.customers IS NULL",
    "COMMENT ON COLUMN app.customers.email IS NULL",
    // privileges and owners
    "GRANT INSERT ON app.customers TO dw_reader",
    "REVOKE SELECT ON app.paid_orders FROM dw_reader",
    "GRANT SELECT ON app.scratch TO PUBLIC",
    "REVOKE EXECUTE ON FUNCTION app.numbers(int) FROM PUBLIC",
    "GRANT UPDATE (name) ON app.customer_names TO dw_reader",
    "REVOKE USAGE ON SCHEMA app FROM dw_reader",
    "ALTER TABLE app.rooms OWNER TO dw_probe_owner",
    "ALTER ROLE dw_probe_owner RENAME TO dw_probe_owner_renamed",
    "ALTER ROLE dw_probe_owner_renamed RENAME TO dw_probe_owner",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT INSERT ON TABLES TO dw_reader",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE SELECT, INSERT ON TABLES FROM dw_reader",
    // functions, views, types, sequences
    "CREATE OR REPLACE FUNCTION app.secret() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = app, pg_temp AS 'SELECT 43'",
    "CREATE OR REPLACE VIEW app.customer_names AS SELECT id, name, email FROM app.customers WITH CHECK OPTION",
    "DROP VIEW app.customer_names",
    "DROP FUNCTION app.numbers(int)",
    "DROP AGGREGATE app.product(numeric)",
    "DROP PROCEDURE app.archive(date)",
    "ALTER TYPE app.order_status ADD VALUE 'cancelled'",
    "ALTER TYPE app.address ADD ATTRIBUTE country text",
    "ALTER DOMAIN app.positive_money DROP DEFAULT",
    "ALTER DOMAIN app.email DROP CONSTRAINT email_has_at",
    "DROP TYPE app.float_range",
    "ALTER COLLATION app.posix_c RENAME TO posix_bytes",
    "ALTER SEQUENCE app.invoice_numbers INCREMENT 20",
    // pg_depend only: OWNED BY
    "ALTER SEQUENCE app.invoice_numbers OWNED BY app.orders.id",
    "ALTER MATERIALIZED VIEW app.order_counts RENAME TO order_totals",
    "DROP MATERIALIZED VIEW app.order_totals",
    // triggers, rules, policies, row security
    "ALTER TABLE app.orders ENABLE TRIGGER orders_audit",
    "ALTER TABLE app.orders DISABLE TRIGGER orders_touch",
    "DROP TRIGGER orders_audit ON app.orders",
    "CREATE POLICY orders_insert ON app.orders FOR INSERT TO dw_reader WITH CHECK (customer_id > 0)",
    "DROP POLICY orders_own ON app.orders",
    "ALTER TABLE app.customers ENABLE ROW LEVEL SECURITY",
    "DROP RULE scratch_no_delete ON app.scratch",
    "DROP TABLE app.scratch",
    // statistics, partitions, inheritance
    "DROP STATISTICS app.orders_stats",
    "ALTER TABLE app.events DETACH PARTITION app.events_2026",
    "ALTER TABLE app.events ATTACH PARTITION app.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "ALTER TABLE app.special_items NO INHERIT app.base_items",
    // extensions
    "ALTER EXTENSION pg_trgm UPDATE",
    "DROP EXTENSION pg_trgm",
    // publications, foreign data
    "ALTER PUBLICATION app_changes ADD TABLE app.rooms",
    "ALTER PUBLICATION app_changes DROP TABLE app.customers",
    "ALTER FOREIGN TABLE app.old_orders OPTIONS (SET table_name 'orders_v2')",
    "ALTER SERVER archive_server OPTIONS (SET host 'archive2')",
    "DROP USER MAPPING FOR dw_reader SERVER archive_server",
    // event triggers and schemas
    "ALTER EVENT TRIGGER audit_ddl DISABLE",
    "ALTER SCHEMA audit RENAME TO audit_old",
    "DROP SCHEMA audit_old CASCADE",
    "DROP TABLE app.events",
];

/// A representative subset on fixtures/schemas/majors/common.sql, which
/// every major accepts.
pub const MAJOR_STEPS: &[&str] = &[
    "ALTER TABLE shop.customers ADD COLUMN phone text",
    "ALTER TABLE shop.orders ALTER COLUMN note SET DEFAULT ''",
    "CREATE INDEX customers_created_idx ON shop.customers (created)",
    "DROP INDEX shop.orders_status_idx",
    "COMMENT ON COLUMN shop.orders.note IS NULL",
    "REVOKE UPDATE (note) ON shop.orders FROM dw_reader",
    "GRANT SELECT ON shop.paid TO PUBLIC",
    "CREATE OR REPLACE FUNCTION shop.secret() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = shop, pg_temp AS 'SELECT 43'",
    "DROP VIEW shop.recent",
    "ALTER TYPE shop.status ADD VALUE 'refunded'",
    "DROP POLICY own_orders ON shop.orders",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA shop REVOKE USAGE ON SEQUENCES FROM dw_reader",
    "ALTER TABLE shop.scratch OWNER TO dw_probe_owner",
    "ALTER ROLE dw_probe_owner RENAME TO dw_probe_owner_renamed",
    "ALTER PUBLICATION shop_changes DROP TABLE shop.customers",
    "ALTER TABLE shop.events DETACH PARTITION shop.events_2024",
    "DROP STATISTICS shop.orders_stats",
    "DROP TABLE shop.archived",
    "DROP SCHEMA shop CASCADE",
];

/// A step of [`EQUIV_STEPS`] that is no SQL: another session holds a
/// temporary table (with an index and a comment) while both captures run.
pub const TEMP_TABLE_STEP: &str = "@temp table alive in another session during the scans";

/// A step of [`EQUIV_STEPS`] that is no SQL: `CREATE INDEX CONCURRENTLY`
/// caught before it sets `indisvalid` (an open snapshot elsewhere holds
/// it) while both captures run; it completes after them, so the next step
/// sees the flip.
pub const INVALID_INDEX_STEP: &str = "@CREATE INDEX CONCURRENTLY caught invalid during the scans";

/// A step of [`EQUIV_STEPS`] that is no SQL: another session's transaction
/// creates, grants and comments a function and stays open while both
/// captures run (they must not see it); it commits after them, so the next
/// step's captures must (its rows' xmin was assigned before the previous
/// capture: only a marker at that capture's snapshot xmin finds them).
pub const IN_FLIGHT_STEP: &str = "@a DDL transaction open across the scans, committed after them";

/// What the equivalence suite loads after fixtures/schemas/majors/common.sql
/// (with [`PROBE_ROLE_SQL`] run on the cluster): an extension at an old
/// version for the upgrade steps.
pub const EQUIV_SETUP: &str = "CREATE EXTENSION pg_trgm VERSION '1.3' SCHEMA public";

/// DDL steps on fixtures/schemas/majors/common.sql that every major from 13
/// accepts, run in order; a step may hold several statements (each runs in
/// autocommit, so `BEGIN; …; COMMIT` makes them one transaction). Each kind
/// is created, altered, renamed and dropped; objects are dropped and made
/// again under the same name with new OIDs, in one step and in two; every
/// commentable kind gets a comment and loses it; renames reach what depends
/// on the renamed object (columns of a renamed type, views and indexes of a
/// renamed column, defaults of a renamed sequence); catalogs are rewritten
/// and frozen between scans. MAJOR_STEPS is its subset.
pub const EQUIV_STEPS: &[&str] = &[
    // columns
    "ALTER TABLE shop.customers ADD COLUMN phone text",
    "ALTER TABLE shop.customers RENAME COLUMN phone TO mobile",
    "ALTER TABLE shop.customers DROP COLUMN mobile",
    "ALTER TABLE shop.orders ALTER COLUMN note SET DEFAULT ''; ALTER TABLE shop.orders ALTER COLUMN note SET NOT NULL",
    "ALTER TABLE shop.orders ALTER COLUMN note DROP DEFAULT; ALTER TABLE shop.orders ALTER COLUMN note DROP NOT NULL",
    "ALTER TABLE shop.scratch ALTER COLUMN v TYPE varchar(50)",
    "ALTER TABLE shop.customers ALTER COLUMN name SET STATISTICS 100; ALTER TABLE shop.orders ALTER COLUMN note SET STORAGE EXTERNAL",
    // identity columns
    "ALTER TABLE shop.orders ADD COLUMN seq_no int GENERATED BY DEFAULT AS IDENTITY",
    "ALTER TABLE shop.orders ALTER COLUMN seq_no SET INCREMENT BY 5; ALTER TABLE shop.customers ALTER COLUMN id SET GENERATED BY DEFAULT",
    "ALTER TABLE shop.orders ALTER COLUMN seq_no DROP IDENTITY",
    "ALTER TABLE shop.orders ALTER COLUMN seq_no ADD GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE shop.orders DROP COLUMN seq_no",
    // indexes: renames, the same name made again (two steps, one step)
    "CREATE INDEX customers_created_idx ON shop.customers (created)",
    "ALTER INDEX shop.customers_created_idx RENAME TO customers_created_at_idx",
    "DROP INDEX shop.customers_created_at_idx",
    "DROP INDEX shop.orders_status_idx",
    "CREATE INDEX CONCURRENTLY orders_status_idx ON shop.orders USING hash (status)",
    "BEGIN; DROP INDEX shop.orders_note_idx; CREATE INDEX orders_note_idx ON shop.orders (upper(note)); COMMIT",
    "BEGIN; DROP INDEX shop.orders_status_idx; CREATE INDEX orders_status_idx ON shop.orders USING hash (status); COMMIT",
    "ALTER INDEX shop.orders_note_idx SET (fillfactor = 80); REINDEX INDEX shop.orders_note_idx",
    "DROP INDEX CONCURRENTLY shop.orders_status_idx",
    // constraints
    "ALTER TABLE shop.orders ADD CONSTRAINT orders_net_check CHECK (net >= 0)",
    "ALTER TABLE shop.orders RENAME CONSTRAINT orders_net_check TO orders_net_positive",
    "ALTER TABLE shop.orders DROP CONSTRAINT orders_net_positive",
    "ALTER TABLE shop.orders VALIDATE CONSTRAINT orders_note_check; ALTER TABLE shop.orders ALTER CONSTRAINT orders_customer_id_fkey NOT DEFERRABLE",
    "ALTER TABLE shop.customers ADD CONSTRAINT customers_created_key UNIQUE (created)",
    "ALTER TABLE shop.customers RENAME CONSTRAINT customers_created_key TO customers_created_uq",
    "ALTER TABLE shop.customers DROP CONSTRAINT customers_created_uq",
    "BEGIN; ALTER TABLE shop.orders DROP CONSTRAINT orders_total_check; ALTER TABLE shop.orders ADD CONSTRAINT orders_total_check CHECK (total < 2000000) NOT VALID; COMMIT",
    "ALTER TABLE shop.orders REPLICA IDENTITY FULL; ALTER TABLE shop.scratch SET (fillfactor = 60)",
    "ALTER TABLE shop.scratch RESET (fillfactor)",
    // tables: renamed, moved, dropped and made again with new OIDs
    "CREATE TABLE shop.notes (id int PRIMARY KEY, body text)",
    "ALTER TABLE shop.notes RENAME TO memos",
    "ALTER TABLE shop.memos SET SCHEMA public",
    "DROP TABLE public.memos",
    "CREATE TABLE shop.notes (id int PRIMARY KEY, body text)",
    "BEGIN; DROP TABLE shop.notes; CREATE TABLE shop.notes (id bigint PRIMARY KEY, body text NOT NULL); COMMIT",
    "DROP TABLE shop.notes",
    "CREATE TABLE shop.notes (id bigint PRIMARY KEY, body text NOT NULL)",
    "ALTER TABLE shop.notes SET UNLOGGED",
    "ALTER TABLE shop.notes SET LOGGED",
    "INSERT INTO shop.notes SELECT g, 'x' FROM generate_series(1, 2000) g; ANALYZE shop.notes",
    // comments set on every commentable kind (several per step)...
    "COMMENT ON TABLE shop.notes IS 'notes'; COMMENT ON COLUMN shop.notes.body IS 'the text'; COMMENT ON SCHEMA shop IS 'the shop, again'; COMMENT ON INDEX shop.orders_note_idx IS 'notes'; COMMENT ON CONSTRAINT orders_total_check ON shop.orders IS 'sanity'; COMMENT ON TRIGGER orders_touch ON shop.orders IS 'stamp'",
    "COMMENT ON FUNCTION shop.touch() IS 'trigger function'; COMMENT ON VIEW shop.paid IS 'paid'; COMMENT ON COLUMN shop.paid.total IS 'amount'; COMMENT ON MATERIALIZED VIEW shop.order_counts IS 'counts'; COMMENT ON SEQUENCE shop.invoice_no IS 'invoices'; COMMENT ON TYPE shop.status IS 'lifecycle'",
    "COMMENT ON DOMAIN shop.positive IS 'money'; COMMENT ON CONSTRAINT positive_check ON DOMAIN shop.positive IS 'not negative'; COMMENT ON COLLATION shop.bytes IS 'byte order'; COMMENT ON EXTENSION pg_trgm IS 'trigrams'; COMMENT ON POLICY own_orders ON shop.orders IS 'own rows'; COMMENT ON RULE scratch_keep ON shop.scratch IS 'keep rows'",
    "COMMENT ON STATISTICS shop.orders_stats IS 'dependencies'; COMMENT ON EVENT TRIGGER shop_ddl IS 'ddl log'; COMMENT ON PUBLICATION shop_changes IS 'replication'; COMMENT ON SERVER shop_archive IS 'old server'; COMMENT ON FOREIGN DATA WRAPPER shop_wrapper IS 'wrapper'; COMMENT ON FOREIGN TABLE shop.old_orders IS 'archived orders'",
    "COMMENT ON AGGREGATE shop.product(numeric) IS 'product'; COMMENT ON PROCEDURE shop.purge(date) IS 'purge'; COMMENT ON INDEX shop.orders_note_idx IS 'notes, upper-cased'",
    // ...and removed, four per step (IS NULL deletes a pg_description row,
    // writes none)
    "COMMENT ON TABLE shop.orders IS NULL; COMMENT ON COLUMN shop.orders.note IS NULL; COMMENT ON SCHEMA shop IS NULL; COMMENT ON INDEX shop.orders_note_idx IS NULL",
    "COMMENT ON CONSTRAINT orders_total_check ON shop.orders IS NULL; COMMENT ON TRIGGER orders_touch ON shop.orders IS NULL; COMMENT ON FUNCTION shop.touch() IS NULL; COMMENT ON VIEW shop.paid IS NULL",
    "COMMENT ON COLUMN shop.paid.total IS NULL; COMMENT ON MATERIALIZED VIEW shop.order_counts IS NULL; COMMENT ON SEQUENCE shop.invoice_no IS NULL; COMMENT ON TYPE shop.status IS NULL",
    "COMMENT ON DOMAIN shop.positive IS NULL; COMMENT ON CONSTRAINT positive_check ON DOMAIN shop.positive IS NULL; COMMENT ON COLLATION shop.bytes IS NULL; COMMENT ON EXTENSION pg_trgm IS NULL",
    "COMMENT ON POLICY own_orders ON shop.orders IS NULL; COMMENT ON RULE scratch_keep ON shop.scratch IS NULL; COMMENT ON STATISTICS shop.orders_stats IS NULL; COMMENT ON EVENT TRIGGER shop_ddl IS NULL",
    "COMMENT ON PUBLICATION shop_changes IS NULL; COMMENT ON SERVER shop_archive IS NULL; COMMENT ON FOREIGN DATA WRAPPER shop_wrapper IS NULL; COMMENT ON FOREIGN TABLE shop.old_orders IS NULL",
    "COMMENT ON AGGREGATE shop.product(numeric) IS NULL; COMMENT ON PROCEDURE shop.purge(date) IS NULL",
    "COMMENT ON COLUMN shop.notes.body IS NULL",
    // privileges: table, column, function, schema, type, sequence, server
    "REVOKE DELETE ON shop.customers FROM dw_reader; REVOKE SELECT ON shop.paid FROM dw_reader; GRANT SELECT ON shop.scratch TO PUBLIC; GRANT SELECT (email) ON shop.customers TO dw_scanner",
    "REVOKE UPDATE (note) ON shop.orders FROM dw_reader; REVOKE EXECUTE ON FUNCTION shop.touch() FROM PUBLIC",
    "GRANT EXECUTE ON FUNCTION shop.touch() TO dw_reader; REVOKE USAGE ON SCHEMA shop FROM dw_reader",
    "GRANT CREATE ON SCHEMA shop TO dw_reader; REVOKE USAGE ON TYPE shop.status FROM PUBLIC; GRANT USAGE ON SEQUENCE shop.invoice_no TO dw_reader; GRANT USAGE ON FOREIGN SERVER shop_archive TO dw_reader",
    // owners, a renamed owner, owners handed back
    "ALTER TABLE shop.scratch OWNER TO dw_probe_owner; ALTER FUNCTION shop.secret() OWNER TO dw_probe_owner",
    "ALTER TYPE shop.status OWNER TO dw_probe_owner; ALTER SEQUENCE shop.invoice_no OWNER TO dw_probe_owner",
    "ALTER VIEW shop.paid OWNER TO dw_probe_owner; ALTER SCHEMA shop OWNER TO dw_probe_owner",
    "ALTER ROLE dw_probe_owner RENAME TO dw_probe_owner_renamed",
    "ALTER ROLE dw_probe_owner_renamed RENAME TO dw_probe_owner",
    "REASSIGN OWNED BY dw_probe_owner TO dw_owner",
    // default privileges (a revoke back to the defaults deletes the row)
    "ALTER DEFAULT PRIVILEGES IN SCHEMA shop REVOKE DELETE ON TABLES FROM dw_reader; ALTER DEFAULT PRIVILEGES IN SCHEMA shop REVOKE USAGE ON SEQUENCES FROM dw_reader",
    "ALTER DEFAULT PRIVILEGES FOR ROLE dw_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
    "ALTER DEFAULT PRIVILEGES FOR ROLE dw_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON SEQUENCES TO dw_scanner",
    // functions: bodies replaced, renamed, moved, made again, overloaded
    "CREATE OR REPLACE FUNCTION shop.secret() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = shop, pg_temp AS 'SELECT 43'",
    "CREATE OR REPLACE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, '-'); RETURN NEW; END $$",
    "ALTER FUNCTION shop.secret() RENAME TO secret2",
    "ALTER FUNCTION shop.secret2() SET search_path = shop; ALTER FUNCTION shop.secret2() STABLE",
    "ALTER FUNCTION shop.secret2() SET SCHEMA public",
    "DROP FUNCTION public.secret2()",
    "CREATE FUNCTION shop.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b'",
    "BEGIN; DROP FUNCTION shop.add(int, int); CREATE FUNCTION shop.add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b + 0'; COMMIT",
    "CREATE FUNCTION shop.add(a bigint, b bigint) RETURNS bigint LANGUAGE sql AS 'SELECT a + b'; DROP FUNCTION shop.add(int, int)",
    "ALTER PROCEDURE shop.purge(date) RENAME TO purge_old",
    "DROP AGGREGATE shop.product(numeric)",
    // views replaced and renamed; a column renamed under views and indexes
    "CREATE OR REPLACE VIEW shop.paid AS SELECT id, customer_id, total, note FROM shop.orders WHERE status = 'paid'",
    "ALTER VIEW shop.paid RENAME TO paid_orders",
    "ALTER VIEW shop.paid_orders SET (security_barrier = true); ALTER VIEW shop.paid_orders ALTER COLUMN note SET DEFAULT 'x'",
    "DROP VIEW shop.recent",
    "CREATE VIEW shop.recent AS SELECT id FROM shop.orders WHERE note IS NOT NULL",
    "ALTER TABLE shop.orders RENAME COLUMN note TO remark",
    "ALTER MATERIALIZED VIEW shop.order_counts RENAME TO order_totals",
    "DROP MATERIALIZED VIEW shop.order_totals",
    // types: enum values, attributes, renamed types under columns and views
    "ALTER TYPE shop.status ADD VALUE 'refunded'",
    "ALTER TYPE shop.status RENAME VALUE 'cancelled' TO 'canceled'",
    "ALTER TYPE shop.address ADD ATTRIBUTE country text; ALTER TYPE shop.address RENAME ATTRIBUTE city TO town",
    "ALTER TYPE shop.address RENAME TO postal_address",
    "ALTER TYPE shop.status RENAME TO order_status",
    "CREATE TYPE shop.mood AS ENUM ('sad', 'ok')",
    "BEGIN; DROP TYPE shop.mood; CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy'); COMMIT",
    "DROP TYPE shop.floatrange",
    // domains
    "ALTER DOMAIN shop.positive DROP DEFAULT",
    "ALTER DOMAIN shop.positive SET DEFAULT 1; ALTER DOMAIN shop.positive ADD CONSTRAINT positive_small CHECK (VALUE < 1000000000)",
    "ALTER DOMAIN shop.positive RENAME CONSTRAINT positive_small TO positive_bounded",
    "ALTER DOMAIN shop.positive DROP CONSTRAINT positive_bounded",
    "ALTER DOMAIN shop.positive RENAME TO amount",
    "CREATE DOMAIN shop.code AS text CHECK (VALUE ~ '^[A-Z]+$')",
    "DROP DOMAIN shop.code",
    "ALTER COLLATION shop.bytes RENAME TO raw_bytes",
    // sequences: OWNED BY and OWNED BY NONE, a serial's sequence renamed
    "ALTER SEQUENCE shop.invoice_no INCREMENT 20; ALTER SEQUENCE shop.invoice_no RENAME TO invoice_seq",
    "ALTER SEQUENCE shop.invoice_seq OWNED BY shop.customers.created",
    "ALTER SEQUENCE shop.invoice_seq OWNED BY NONE",
    "ALTER SEQUENCE shop.orders_id_seq RENAME TO orders_id_sequence",
    "ALTER SEQUENCE shop.invoice_seq AS bigint",
    // triggers enabled, disabled, renamed, dropped; their function renamed
    "ALTER TABLE shop.orders DISABLE TRIGGER orders_touch",
    "ALTER TABLE shop.orders ENABLE ALWAYS TRIGGER orders_touch",
    "ALTER TRIGGER orders_touch ON shop.orders RENAME TO orders_stamp",
    "CREATE TRIGGER orders_audit AFTER DELETE ON shop.orders FOR EACH STATEMENT EXECUTE FUNCTION shop.touch()",
    "DROP TRIGGER orders_audit ON shop.orders",
    "ALTER FUNCTION shop.touch() RENAME TO stamp",
    // policies and row security
    "CREATE POLICY orders_insert ON shop.orders FOR INSERT TO dw_reader WITH CHECK (customer_id > 0)",
    "ALTER POLICY orders_insert ON shop.orders RENAME TO orders_add; ALTER POLICY orders_add ON shop.orders TO PUBLIC",
    "DROP POLICY own_orders ON shop.orders",
    "ALTER TABLE shop.customers ENABLE ROW LEVEL SECURITY; ALTER TABLE shop.orders FORCE ROW LEVEL SECURITY",
    // rules
    "CREATE RULE scratch_no_update AS ON UPDATE TO shop.scratch DO INSTEAD NOTHING",
    "ALTER RULE scratch_no_update ON shop.scratch RENAME TO scratch_frozen",
    "DROP RULE scratch_keep ON shop.scratch",
    // extended statistics
    "CREATE STATISTICS shop.customers_stats ON id, created FROM shop.customers",
    "ALTER STATISTICS shop.customers_stats RENAME TO customers_dep; ALTER STATISTICS shop.customers_dep SET STATISTICS 200",
    "DROP STATISTICS shop.orders_stats",
    // partitions attached and detached, inheritance removed and added
    "ALTER TABLE shop.events DETACH PARTITION shop.events_2024",
    "ALTER TABLE shop.events ATTACH PARTITION shop.events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "DROP TABLE shop.events_2025",
    "ALTER TABLE shop.archived NO INHERIT shop.scratch",
    "ALTER TABLE shop.archived INHERIT shop.scratch",
    // extensions: upgraded, moved under an index's opclass, dropped, made again
    "ALTER EXTENSION pg_trgm UPDATE TO '1.4'",
    "CREATE INDEX orders_remark_trgm_idx ON shop.orders USING gin (remark public.gin_trgm_ops)",
    "ALTER EXTENSION pg_trgm UPDATE",
    "ALTER EXTENSION pg_trgm SET SCHEMA shop",
    "DROP EXTENSION pg_trgm CASCADE",
    "CREATE EXTENSION pg_trgm SCHEMA public",
    // publications and foreign data
    "ALTER PUBLICATION shop_changes ADD TABLE shop.notes; ALTER PUBLICATION shop_changes DROP TABLE shop.customers",
    "ALTER PUBLICATION shop_changes SET (publish = 'insert'); ALTER PUBLICATION shop_changes RENAME TO shop_pub",
    "ALTER FOREIGN TABLE shop.old_orders OPTIONS (SET table_name 'orders_v2'); ALTER FOREIGN TABLE shop.old_orders ADD COLUMN placed date",
    "ALTER SERVER shop_archive OPTIONS (SET host 'archive2')",
    "ALTER SERVER shop_archive RENAME TO shop_old",
    "DROP USER MAPPING FOR dw_reader SERVER shop_old",
    // event triggers
    "ALTER EVENT TRIGGER shop_ddl DISABLE; ALTER EVENT TRIGGER shop_ddl RENAME TO shop_ddl_log",
    // catalogs rewritten (VACUUM FULL) and frozen between scans, alone and
    // after DDL
    "VACUUM FULL pg_class",
    "VACUUM FREEZE pg_attribute",
    "ALTER TABLE shop.notes ADD COLUMN tag text; VACUUM FULL pg_class; VACUUM FULL pg_attribute",
    "COMMENT ON TABLE shop.notes IS 'frozen'; VACUUM FREEZE pg_description; VACUUM FREEZE pg_class",
    "COMMENT ON TABLE shop.notes IS NULL; VACUUM FULL pg_description",
    "ALTER TABLE shop.notes DROP COLUMN tag; VACUUM FULL pg_depend; VACUUM FREEZE",
    // what another session has while the scans run
    TEMP_TABLE_STEP,
    IN_FLIGHT_STEP,
    INVALID_INDEX_STEP,
    "COMMENT ON INDEX shop.equiv_cic_idx IS 'built'",
    "CREATE INDEX CONCURRENTLY notes_body_idx ON shop.notes (body)",
    // a column's type changed under its indexes: rebuilt with new OIDs
    // under their names, their comments carried over
    "COMMENT ON INDEX shop.notes_body_idx IS 'body'; ALTER TABLE shop.notes ALTER COLUMN body TYPE varchar(200)",
    "ALTER TABLE shop.notes ALTER COLUMN id TYPE int",
    // schemas: made, renamed under their objects, dropped
    "CREATE SCHEMA extra; CREATE TABLE extra.t (id int PRIMARY KEY); CREATE VIEW extra.v AS SELECT id FROM extra.t",
    "ALTER SCHEMA extra RENAME TO extra2",
    "DROP SCHEMA extra2 CASCADE",
    "ALTER SCHEMA shop RENAME TO store",
    "DROP SCHEMA store CASCADE",
];
