//! A migration tool's own history table in a schema: which tables a
//! snapshot leaves out (only the detected or configured tool's, so a
//! project table that merely shares another tool's table name stays
//! visible), and the DDL a replay runs first, as the tool does before its
//! first migration. Pure: works on snapshot objects and text.

use super::Tool;
use crate::model::Objects;

/// Which migration-history tables a capture leaves out of the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HistoryTables {
    /// Every table a known tool would read as its history: its name and
    /// columns are the tool's (what `driftwatch history` detects).
    #[default]
    Detect,
    /// Only this tool's table: under its default name, or the given
    /// `schema.name` / `name`.
    Tool(Tool, Option<String>),
    /// None: every table is schema.
    Keep,
}

/// Tables a tool keeps beside its history table (locks, metadata).
fn companions(tool: Tool) -> &'static [&'static str] {
    match tool {
        Tool::Liquibase => &["databasechangeloglock"],
        Tool::Knex => &["knex_migrations_lock"],
        Tool::Rails => &["ar_internal_metadata"],
        _ => &[],
    }
}

/// The `(schema, table)` pairs `which` leaves out of `objects`.
pub fn history_tables_in(objects: &Objects, which: &HistoryTables) -> Vec<(String, String)> {
    let tools: Vec<(Tool, Option<&str>)> = match which {
        HistoryTables::Keep => return Vec::new(),
        HistoryTables::Detect => Tool::ALL.iter().map(|t| (*t, None)).collect(),
        HistoryTables::Tool(t, table) => vec![(*t, table.as_deref())],
    };
    let mut out = Vec::new();
    let named = |name: &str| {
        tools.iter().any(|(tool, configured)| match configured {
            Some(c) => c.rsplit('.').next() == Some(name),
            None => tool.table() == name,
        })
    };
    // Only tables under a history table's name are looked at closely.
    for table in objects.tables.iter().filter(|t| named(&t.name)) {
        let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let beside_rails = objects
            .tables
            .iter()
            .any(|t| t.schema == table.schema && t.name == "ar_internal_metadata");
        for (tool, configured) in &tools {
            let is_it = match configured {
                Some(name) => match name.split_once('.') {
                    Some((s, n)) => s == table.schema && n == table.name,
                    None => *name == table.name,
                },
                None => tool.table() == table.name && tool.matches(&columns, beside_rails),
            };
            if is_it {
                out.push((table.schema.clone(), table.name.clone()));
                for c in companions(*tool) {
                    out.push((table.schema.clone(), c.to_string()));
                }
                break;
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Removes the history tables `which` names from `objects`, with the
/// sequences they own (serial ids).
pub fn exclude_history_tables(objects: &mut Objects, which: &HistoryTables) {
    let gone = history_tables_in(objects, which);
    if gone.is_empty() {
        return;
    }
    let is_gone = |schema: &str, name: &str| gone.iter().any(|(s, n)| s == schema && n == name);
    objects.tables.retain(|t| !is_gone(&t.schema, &t.name));
    objects.sequences.retain(|s| {
        let Some(owner) = &s.owned_by else {
            return true;
        };
        !gone.iter().any(|(schema, name)| {
            owner
                .strip_prefix(&format!(
                    "{}.{}.",
                    crate::model::quote_ident(schema),
                    crate::model::quote_ident(name)
                ))
                .is_some()
                || owner.strip_prefix(&format!("{schema}.{name}.")).is_some()
        })
    });
}

/// The DDL that creates `tool`'s history table as the tool does before
/// its first migration (`CREATE TABLE IF NOT EXISTS`, in the current
/// schema), for the tools whose migrations a replay runs; None for the
/// others.
pub fn create_history_table_ddl(tool: Tool) -> Option<&'static str> {
    Some(match tool {
        // golang-migrate database/postgres/postgres.go, ensureVersionTable.
        Tool::GolangMigrate => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
        }
        // flyway-core .../postgresql/createMetaDataTable.sql.
        Tool::Flyway => {
            "CREATE TABLE IF NOT EXISTS flyway_schema_history (installed_rank int NOT NULL, version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL, CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)); CREATE INDEX IF NOT EXISTS flyway_schema_history_s_idx ON flyway_schema_history (success)"
        }
        // sqlx-postgres migrate.rs, ensure_migrations_table.
        Tool::Sqlx => {
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL, installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL, checksum bytea NOT NULL, execution_time bigint NOT NULL)"
        }
        // dbmate pkg/driver/postgres, CreateMigrationsTable.
        Tool::Dbmate => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)"
        }
        // The hand-written runner's common shape.
        Tool::Generic => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text, applied_at timestamptz DEFAULT now())"
        }
        // diesel/src/migration/setup_migration_table.sql.
        Tool::Diesel => {
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version varchar(50) PRIMARY KEY NOT NULL, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        }
        // prisma-engines, PostgresFlavour::create_migrations_table.
        Tool::Prisma => {
            "CREATE TABLE IF NOT EXISTS _prisma_migrations (id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)"
        }
        _ => return None,
    })
}
