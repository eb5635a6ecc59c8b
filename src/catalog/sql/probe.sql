-- The catalog change probe (probe.rs explains why it cannot miss): per
-- catalog, its row count and the sum of a 64-bit hash of every row
-- version's (ctid, xmin). Any committed INSERT, UPDATE or DELETE changes the
-- pair: an INSERT or UPDATE leaves a row version whose xmin no earlier state
-- had, a DELETE lowers the count. Every catalog the capture reads is here,
-- directly (sql/*.sql) or through a deparser or output function
-- (pg_get_expr, pg_get_viewdef, format_type, ::regproc, aclitem, …).
-- Shared or restricted catalogs are hashed by what the capture reads of
-- them: roles by (oid, name), user mappings by (server, role), settings by
-- (name, value). One statement: one snapshot, one round trip.
SELECT 'pg_namespace' AS catalog, count(*)::text AS row_count,
       coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text AS hash_sum FROM pg_namespace
UNION ALL SELECT 'pg_class', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_class
UNION ALL SELECT 'pg_attribute', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_attribute
UNION ALL SELECT 'pg_attrdef', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_attrdef
UNION ALL SELECT 'pg_constraint', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_constraint
UNION ALL SELECT 'pg_index', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_index
UNION ALL SELECT 'pg_inherits', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_inherits
UNION ALL SELECT 'pg_partitioned_table', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_partitioned_table
UNION ALL SELECT 'pg_foreign_table', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_foreign_table
UNION ALL SELECT 'pg_sequence', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_sequence
UNION ALL SELECT 'pg_depend', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_depend
UNION ALL SELECT 'pg_description', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_description
UNION ALL SELECT 'pg_type', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_type
UNION ALL SELECT 'pg_enum', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_enum
UNION ALL SELECT 'pg_range', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_range
UNION ALL SELECT 'pg_collation', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_collation
UNION ALL SELECT 'pg_proc', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_proc
UNION ALL SELECT 'pg_aggregate', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_aggregate
UNION ALL SELECT 'pg_language', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_language
UNION ALL SELECT 'pg_operator', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_operator
-- the deparsers qualify a function or operator name, and leave out a default
-- operator class, by what name resolution would pick: implicit casts count
UNION ALL SELECT 'pg_cast', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_cast
UNION ALL SELECT 'pg_opclass', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_opclass
UNION ALL SELECT 'pg_am', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_am
UNION ALL SELECT 'pg_ts_config', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_ts_config
UNION ALL SELECT 'pg_ts_dict', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_ts_dict
UNION ALL SELECT 'pg_ts_config_map', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_ts_config_map
UNION ALL SELECT 'pg_ts_parser', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_ts_parser
UNION ALL SELECT 'pg_ts_template', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_ts_template
UNION ALL SELECT 'pg_rewrite', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_rewrite
UNION ALL SELECT 'pg_trigger', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_trigger
UNION ALL SELECT 'pg_event_trigger', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_event_trigger
UNION ALL SELECT 'pg_policy', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_policy
UNION ALL SELECT 'pg_statistic_ext', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_statistic_ext
UNION ALL SELECT 'pg_extension', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_extension
UNION ALL SELECT 'pg_default_acl', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_default_acl
UNION ALL SELECT 'pg_publication', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_publication
UNION ALL SELECT 'pg_publication_rel', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_publication_rel
/*if 15+*/
UNION ALL SELECT 'pg_publication_namespace', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_publication_namespace
/*end*/
UNION ALL SELECT 'pg_foreign_data_wrapper', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_foreign_data_wrapper
UNION ALL SELECT 'pg_foreign_server', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_foreign_server
-- shared catalog, readable by every role
UNION ALL SELECT 'pg_tablespace', count(*)::text, coalesce(sum(hashtidextended(ctid, xmin::text::int8)), 0)::text FROM pg_tablespace
-- pg_authid and pg_user_mapping are not readable by other roles than
-- superusers: hash what the capture prints of them, through their views
UNION ALL SELECT 'pg_roles', count(*)::text, coalesce(sum(hashtextextended(rolname::text, oid::int8)), 0)::text FROM pg_roles
UNION ALL SELECT 'pg_user_mappings', count(*)::text,
       coalesce(sum(hashtextextended(srvid::text || ' ' || umuser::text, umid::int8)), 0)::text FROM pg_user_mappings
-- output functions depend on settings (DateStyle, IntervalStyle,
-- bytea_output, quote_all_identifiers, …): the capture session sees what
-- this session sees
UNION ALL SELECT 'pg_settings', count(*)::text,
       coalesce(sum(hashtextextended(name || '=' || coalesce(setting, ''), 0)), 0)::text FROM pg_settings
UNION ALL SELECT 'server_version_num', current_setting('server_version_num'), '0'
