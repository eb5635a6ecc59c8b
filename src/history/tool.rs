//! The migration tools whose history tables driftwatch reads: each one's
//! table name, how to tell it apart from others with the same name, and the
//! query (`sql/<tool>.sql`) that reads it into one row shape.

use serde::Serialize;

/// A migration tool, by the history table it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// Flyway: `flyway_schema_history`.
    Flyway,
    /// sqlx: `_sqlx_migrations`.
    Sqlx,
    /// golang-migrate: `schema_migrations (version bigint, dirty boolean)`.
    GolangMigrate,
    /// dbmate: `schema_migrations (version varchar)`.
    Dbmate,
    /// Rails: `schema_migrations (version)` beside `ar_internal_metadata`.
    Rails,
    /// Django: `django_migrations`.
    Django,
    /// Alembic: `alembic_version`.
    Alembic,
    /// Liquibase: `databasechangelog`.
    Liquibase,
    /// Prisma: `_prisma_migrations`.
    Prisma,
    /// node-pg-migrate: `pgmigrations`.
    NodePgMigrate,
    /// knex: `knex_migrations`.
    Knex,
    /// refinery: `refinery_schema_history`.
    Refinery,
    /// diesel: `__diesel_schema_migrations`.
    Diesel,
    /// A hand-written runner's `schema_migrations (version, name, applied_at)`.
    Generic,
    /// driftwatch's own `driftwatch_history`.
    Driftwatch,
}

impl Tool {
    /// The tool whose history table runs of the `format` layout write: the
    /// table a replay creates first and leaves out of snapshots (plain
    /// files and version folders: a hand-written runner's
    /// `schema_migrations`).
    pub fn for_format(format: crate::migrations::Format) -> Tool {
        use crate::migrations::Format;
        match format {
            Format::Flyway => Tool::Flyway,
            Format::GolangMigrate => Tool::GolangMigrate,
            Format::Sqlx => Tool::Sqlx,
            Format::Dbmate => Tool::Dbmate,
            Format::Plain | Format::VersionFolders => Tool::Generic,
            Format::Diesel => Tool::Diesel,
            Format::Prisma => Tool::Prisma,
        }
    }

    /// Every tool, in the order detection prefers them.
    pub const ALL: [Tool; 15] = [
        Tool::Driftwatch,
        Tool::Flyway,
        Tool::Sqlx,
        Tool::Liquibase,
        Tool::Prisma,
        Tool::Django,
        Tool::Alembic,
        Tool::NodePgMigrate,
        Tool::Knex,
        Tool::Refinery,
        Tool::Diesel,
        Tool::GolangMigrate,
        Tool::Rails,
        Tool::Generic,
        Tool::Dbmate,
    ];

    /// The name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Flyway => "flyway",
            Tool::Sqlx => "sqlx",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Rails => "rails",
            Tool::Django => "django",
            Tool::Alembic => "alembic",
            Tool::Liquibase => "liquibase",
            Tool::Prisma => "prisma",
            Tool::NodePgMigrate => "node-pg-migrate",
            Tool::Knex => "knex",
            Tool::Refinery => "refinery",
            Tool::Diesel => "diesel",
            Tool::Generic => "generic",
            Tool::Driftwatch => "driftwatch",
        }
    }

    /// The default name of its history table.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Flyway => "flyway_schema_history",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::GolangMigrate | Tool::Dbmate | Tool::Rails | Tool::Generic => "schema_migrations",
            Tool::Django => "django_migrations",
            Tool::Alembic => "alembic_version",
            Tool::Liquibase => "databasechangelog",
            Tool::Prisma => "_prisma_migrations",
            Tool::NodePgMigrate => "pgmigrations",
            Tool::Knex => "knex_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Driftwatch => "driftwatch_history",
        }
    }

    /// Columns its table must have; tables named `schema_migrations` are
    /// told apart by them (and by Rails' `ar_internal_metadata`).
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Tool::Flyway => &["installed_rank", "version", "checksum", "success"],
            Tool::Sqlx => &["version", "checksum", "success"],
            Tool::GolangMigrate => &["version", "dirty"],
            Tool::Dbmate | Tool::Rails => &["version"],
            Tool::Generic => &["version", "name", "applied_at"],
            Tool::Django => &["app", "name", "applied"],
            Tool::Alembic => &["version_num"],
            Tool::Liquibase => &["id", "author", "filename", "orderexecuted"],
            Tool::Prisma => &["migration_name", "checksum", "finished_at"],
            Tool::NodePgMigrate => &["name", "run_on"],
            Tool::Knex => &["name", "batch", "migration_time"],
            Tool::Refinery => &["version", "name", "checksum"],
            Tool::Diesel => &["version", "run_on"],
            Tool::Driftwatch => &["installed_rank", "version", "kind", "success"],
        }
    }

    /// Every column the tool gives its table, for tables under another
    /// name (golang-migrate's `x-migrations-table`, Flyway's `table`,
    /// Alembic's `version_table`, knex's `tableName`, …): such a table is
    /// the tool's when it has the required columns and no other. None for
    /// tools whose columns are too common to tell a history by (dbmate's
    /// and Rails' `version` alone, a hand-written runner's `version, name,
    /// applied_at`) or whose table name is fixed (Django, diesel): only
    /// their table name finds them.
    pub fn own_columns(self) -> Option<&'static [&'static str]> {
        match self {
            Tool::Flyway => Some(&[
                "installed_rank",
                "version",
                "description",
                "type",
                "script",
                "checksum",
                "installed_by",
                "installed_on",
                "execution_time",
                "success",
            ]),
            Tool::Sqlx => Some(&[
                "version",
                "description",
                "installed_on",
                "success",
                "checksum",
                "execution_time",
            ]),
            Tool::GolangMigrate => Some(&["version", "dirty"]),
            Tool::Liquibase => Some(&[
                "id",
                "author",
                "filename",
                "dateexecuted",
                "orderexecuted",
                "exectype",
                "md5sum",
                "description",
                "comments",
                "tag",
                "liquibase",
                "contexts",
                "labels",
                "deployment_id",
            ]),
            Tool::Prisma => Some(&[
                "id",
                "checksum",
                "finished_at",
                "migration_name",
                "logs",
                "rolled_back_at",
                "started_at",
                "applied_steps_count",
            ]),
            Tool::Alembic => Some(&["version_num"]),
            Tool::NodePgMigrate => Some(&["id", "name", "run_on"]),
            Tool::Knex => Some(&["id", "name", "batch", "migration_time"]),
            Tool::Refinery => Some(&["version", "name", "applied_on", "checksum"]),
            Tool::Driftwatch => Some(&[
                "installed_rank",
                "version",
                "description",
                "kind",
                "checksum",
                "applied_at",
                "applied_by",
                "success",
                "reason",
            ]),
            Tool::Django | Tool::Diesel | Tool::Dbmate | Tool::Rails | Tool::Generic => None,
        }
    }

    /// True when a table under a name that is not this tool's has the
    /// tool's columns: all it requires, and none it does not create.
    pub fn owns_columns(self, columns: &[String]) -> bool {
        let Some(own) = self.own_columns() else {
            return false;
        };
        self.required_columns()
            .iter()
            .all(|c| columns.iter().any(|x| x == c))
            && columns.iter().all(|c| own.contains(&c.as_str()))
    }

    /// True when a table with these columns (beside Rails' metadata table
    /// or not) is this tool's. Only `schema_migrations` is shared: dirty →
    /// golang-migrate; name + applied_at → a hand-written runner;
    /// ar_internal_metadata beside it → Rails; version alone → dbmate.
    pub fn matches(self, columns: &[String], beside_rails: bool) -> bool {
        let has = |c: &str| columns.iter().any(|x| x == c);
        if !self.required_columns().iter().all(|c| has(c)) {
            return false;
        }
        match self {
            Tool::Rails => beside_rails && !has("dirty"),
            Tool::Dbmate => !beside_rails && !has("dirty") && !has("applied_at"),
            _ => true,
        }
    }

    /// The query reading its table, with `{table}` for the quoted name.
    pub fn query(self) -> &'static str {
        match self {
            Tool::Flyway => include_str!("sql/flyway.sql"),
            Tool::Sqlx => include_str!("sql/sqlx.sql"),
            Tool::GolangMigrate => include_str!("sql/golang_migrate.sql"),
            Tool::Dbmate | Tool::Rails => include_str!("sql/version_only.sql"),
            Tool::Generic => include_str!("sql/generic.sql"),
            Tool::Django => include_str!("sql/django.sql"),
            Tool::Alembic => include_str!("sql/alembic.sql"),
            Tool::Liquibase => include_str!("sql/liquibase.sql"),
            Tool::Prisma => include_str!("sql/prisma.sql"),
            Tool::NodePgMigrate => include_str!("sql/node_pg_migrate.sql"),
            Tool::Knex => include_str!("sql/knex.sql"),
            Tool::Refinery => include_str!("sql/refinery.sql"),
            Tool::Diesel => include_str!("sql/diesel.sql"),
            Tool::Driftwatch => include_str!("sql/driftwatch.sql"),
        }
    }

    /// True when the tool keeps only the current version (golang-migrate)
    /// or head revisions (Alembic), not one row per applied migration.
    pub fn keeps_only_current(self) -> bool {
        matches!(self, Tool::GolangMigrate | Tool::Alembic)
    }
}

impl crate::util::Named for Tool {
    const ALL: &'static [Tool] = &Tool::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn schema_migrations_is_told_apart_by_its_columns() {
        let pick = |columns: &[&str], rails: bool| -> Vec<Tool> {
            Tool::ALL
                .into_iter()
                .filter(|t| t.table() == "schema_migrations")
                .filter(|t| t.matches(&cols(columns), rails))
                .collect()
        };
        assert_eq!(pick(&["version", "dirty"], false), [Tool::GolangMigrate]);
        assert_eq!(pick(&["version"], false), [Tool::Dbmate]);
        assert_eq!(pick(&["version"], true), [Tool::Rails]);
        assert_eq!(
            pick(&["version", "name", "applied_at"], false),
            [Tool::Generic]
        );
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        use crate::util::Named;
        for tool in Tool::ALL {
            assert_eq!(<Tool as Named>::from_name(tool.as_str()), Some(tool));
            let json = serde_json::to_value(tool).unwrap();
            assert_eq!(json.as_str(), Some(tool.as_str()));
        }
    }
}
