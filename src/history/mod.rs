//! Applied migrations, as a database's history table tells them: Flyway,
//! sqlx, golang-migrate, dbmate, Rails, Django, Alembic, Liquibase, Prisma,
//! node-pg-migrate, knex, refinery, diesel, a hand-written runner's
//! `schema_migrations`, or driftwatch's own table.
//!
//! Reading is as careful as a capture: a read-only transaction with
//! `lock_timeout` and `statement_timeout`, one SELECT on the history table.

mod choose;
mod files;
mod own_table;
mod tool;

pub use files::{compare, compares_with_files, file_for, FileComparison, FileStatus};
pub use own_table::{
    create_history_table_ddl, exclude_history_tables, history_tables_in, HistoryTables,
};
pub use tool::Tool;

use crate::database::DatabaseUrl;
use crate::error::{Error, Result};
use choose::{Candidate, NotChosen};
use serde::Serialize;
use sqlx::Row;

/// One applied (or attempted) migration, in the shape every tool maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// Version (or id) as the tool stores it; None for Flyway repeatables.
    pub version: Option<String>,
    /// Description as the tool stores it ("" when it keeps none).
    pub description: String,
    /// Checksum as the tool stores it (Flyway's signed CRC32 in decimal,
    /// sqlx's SHA-384 in hex, Liquibase's md5sum, …); None when it keeps none.
    pub checksum: Option<String>,
    /// When it was applied, RFC 3339 UTC; None when the tool keeps no time.
    pub applied_at: Option<String>,
    /// False for failed, dirty, unfinished or rolled-back migrations.
    pub success: bool,
    /// The tool's own row type (Flyway's `SQL`, `BASELINE`, `UNDO_SQL`,
    /// `DELETE`; Liquibase's `EXECUTED`, `MARK_RAN`; Prisma's `ROLLED_BACK`).
    pub kind: String,
}

impl AppliedMigration {
    /// True for rows that mark a baseline rather than a migration that ran.
    pub fn is_baseline(&self) -> bool {
        self.kind.contains("BASELINE")
    }
}

/// What a history table says.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The tool that wrote it.
    pub tool: Tool,
    /// The table, `schema.name`.
    pub table: String,
    /// Its schema, unquoted.
    #[serde(skip)]
    pub schema: String,
    /// Its name, unquoted.
    #[serde(skip)]
    pub name: String,
    /// Rows in applied order.
    pub migrations: Vec<AppliedMigration>,
}

/// How to find the history table: the tool and table when given, and the
/// migration directory whose layout decides between several tools' tables.
#[derive(Debug, Clone, Default)]
pub struct Locate {
    /// Read this tool's table (detected when None).
    pub tool: Option<Tool>,
    /// Read this table (`schema.name` or `name`) instead of the tool's default.
    pub table: Option<String>,
    /// The target's migration directory: when several tools' tables are
    /// found, the one its layout goes with is read.
    pub migrations: Option<std::path::PathBuf>,
    /// Its layout (detected from the file names when None).
    pub format: Option<crate::migrations::Format>,
}

impl Locate {
    /// The directory's layout and the tools it goes with; None without a
    /// directory or when it cannot be read (reading the migrations says
    /// why, later).
    fn layout(&self) -> Option<(crate::migrations::Format, Vec<Tool>)> {
        let dir = self.migrations.as_deref()?;
        let format = crate::migrations::layout(dir, self.format).ok()?;
        Some((format, choose::layout_tools(format)))
    }
}

fn session_settings() -> Vec<(&'static str, String)> {
    vec![
        ("default_transaction_read_only", "on".to_string()),
        ("lock_timeout", "1000ms".to_string()),
        ("statement_timeout", "30s".to_string()),
        ("search_path", "public".to_string()),
    ]
}

/// A time kept as text (refinery's `applied_on`) as RFC 3339 UTC with second
/// precision, like every other tool's `applied_at`. Reads RFC 3339 with any
/// offset (refinery with the `time` crate writes `…Z`, releases on chrono
/// wrote `Local::now().to_rfc3339()`, `…+01:00`) and chrono's `Display` form
/// (`2024-01-05 10:30:02.317 +01:00`); None for anything else.
pub fn text_time_to_utc(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        let display = time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]] [offset_hour sign:mandatory]:[offset_minute]"
        );
        time::OffsetDateTime::parse(text, &display).ok()
    })?;
    let utc = parsed.to_offset(time::UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc.format(&format).ok()
}

/// Reads the history of the database at `url`.
pub async fn read(url: &DatabaseUrl, locate: &Locate) -> Result<History> {
    let settings = session_settings();
    let mut conn = url.connect(&settings).await?;
    let target = url.redacted().to_string();
    // One read-only transaction with the settings set locally: they hold
    // also behind a pooler that dropped the startup options (and one
    // server connection serves every statement in transaction pooling).
    let begin = format!(
        "BEGIN READ ONLY; {}",
        crate::database::set_local_sql(&settings)
    );
    sqlx::Executor::execute(&mut conn, sqlx::raw_sql(&begin))
        .await
        .map_err(|e| Error::Query {
            target: target.clone(),
            query: "BEGIN".into(),
            message: e.to_string(),
        })?;
    let query_error = |query: &str, e: sqlx::Error| {
        let message = match &e {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => {
                "the history table is locked (a migration is running?); try again when it is done"
                    .to_string()
            }
            sqlx::Error::Database(db) => db.message().to_string(),
            other => other.to_string(),
        };
        Error::Query {
            target: target.clone(),
            query: query.to_string(),
            message,
        }
    };

    let (schema_filter, name_filter) = match &locate.table {
        Some(t) => match t.split_once('.') {
            Some((s, n)) => (Some(s.to_string()), n.to_string()),
            None => (None, t.clone()),
        },
        None => (None, String::new()),
    };
    let tools: Vec<Tool> = match locate.tool {
        Some(t) => vec![t],
        None => Tool::ALL.to_vec(),
    };
    // By name: the given table, or the tools' own names. By columns (not
    // when a table is given): each tool's required columns, for tables
    // under another name; `choose` then wants all of them and no other.
    let (names, column_sets): (Vec<String>, Vec<String>) = match &locate.table {
        Some(_) => (vec![name_filter.clone()], Vec::new()),
        None => {
            let mut names: Vec<String> = tools.iter().map(|t| t.table().to_string()).collect();
            names.sort();
            names.dedup();
            let sets = tools
                .iter()
                .filter(|t| t.own_columns().is_some())
                .map(|t| t.required_columns().join(","))
                .collect();
            (names, sets)
        }
    };
    let rows = sqlx::query(include_str!("sql/tables.sql"))
        .bind(&names)
        .bind(&column_sets)
        .persistent(false)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| query_error("history tables.sql", e))?;
    let candidates: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate {
            schema: r.get("schema"),
            name: r.get("name"),
            columns: r.get("columns"),
            beside_rails: r.get("beside_rails"),
            on_path: r.get("on_path"),
        })
        .filter(|c| schema_filter.as_ref().map_or(true, |s| *s == c.schema))
        .collect();

    let chosen = choose::choose(&candidates, &tools, locate.table.is_some(), || {
        locate.layout()
    });
    if chosen.as_ref().err() == Some(&NotChosen::None)
        && locate.tool.is_none()
        && locate.table.is_none()
    {
        // A project that keeps its own history table: name the likely ones.
        let own: Vec<String> = sqlx::query(include_str!("sql/own_tables.sql"))
            .persistent(false)
            .fetch_all(&mut conn)
            .await
            .map_err(|e| query_error("history own_tables.sql", e))?
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect();
        if !own.is_empty() {
            return Err(Error::Input {
                path: target.clone(),
                message: format!(
                    "no known history table; tables that look like one: {}",
                    own.join(", ")
                ),
                hint: "name it with --history-table SCHEMA.TABLE (and --history TOOL for the tool whose columns it has)".into(),
            });
        }
    }
    let (tool, found) = chosen.map_err(|why| Error::Input {
        path: target.clone(),
        hint: match why {
            NotChosen::None => choose_hint(locate),
            NotChosen::Several(_) => {
                "name the one to read with --history TOOL or --history-table SCHEMA.TABLE".into()
            }
        },
        message: match why {
            NotChosen::None => not_found(locate),
            NotChosen::Several(message) => message,
        },
    })?;
    let table = format!(
        "{}.{}",
        crate::model::quote_ident(&found.schema),
        crate::model::quote_ident(&found.name)
    );
    let sql = tool.query().replace("{table}", &table);
    let rows = sqlx::query(&sql)
        .persistent(false)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| query_error(&format!("reading {table}"), e))?;
    let migrations = rows
        .iter()
        .map(|r| AppliedMigration {
            version: r.get("version"),
            description: r.get("description"),
            checksum: r.get("checksum"),
            applied_at: match tool {
                // refinery keeps applied_on as free text: normalise it here.
                Tool::Refinery => r
                    .get::<Option<String>, _>("applied_at")
                    .as_deref()
                    .and_then(text_time_to_utc),
                _ => r.get("applied_at"),
            },
            success: r.get("success"),
            kind: r.get("kind"),
        })
        .collect();
    let _ = sqlx::Executor::execute(&mut conn, sqlx::raw_sql("COMMIT")).await;
    let _ = sqlx::Connection::close(conn).await;
    Ok(History {
        tool,
        table: format!("{}.{}", found.schema, found.name),
        schema: found.schema.clone(),
        name: found.name.clone(),
        migrations,
    })
}

fn choose_hint(locate: &Locate) -> String {
    match (&locate.tool, &locate.table) {
        (None, None) => "name the tool with --history TOOL (and --history-table SCHEMA.TABLE if it is elsewhere)".into(),
        _ => "check --history and --history-table".into(),
    }
}

/// The message when no table is any (or the named) tool's.
fn not_found(locate: &Locate) -> String {
    match (&locate.tool, &locate.table) {
        (Some(tool), None) => format!(
            "no {} history table ({} or another name) with the columns {} writes",
            tool.as_str(),
            tool.table(),
            tool.as_str()
        ),
        (_, Some(table)) => format!(
            "no history table {table} that {} reads",
            locate.tool.map(Tool::as_str).unwrap_or("driftwatch")
        ),
        (None, None) => "no migration history table found (looked for Flyway, sqlx, golang-migrate, dbmate, Rails, Django, Alembic, Liquibase, Prisma, node-pg-migrate, knex, refinery, diesel and driftwatch tables, by name and by columns)".to_string(),
    }
}

/// The DDL of driftwatch's own history table, for `{table}`.
pub fn driftwatch_table_ddl(table: &str) -> String {
    include_str!("sql/driftwatch_history.ddl.sql").replace("{table}", table)
}

#[cfg(test)]
mod tests {
    use super::text_time_to_utc;

    #[test]
    fn refinery_applied_on_reads_as_rfc3339_utc() {
        for (text, utc) in [
            (
                "2024-01-05T10:30:02.317224915+01:00",
                "2024-01-05T09:30:02Z",
            ),
            ("2024-02-12T14:15:07.04418Z", "2024-02-12T14:15:07Z"),
            ("2024-03-18T23:30:00-02:00", "2024-03-19T01:30:00Z"),
            (
                "2024-01-05 10:30:02.317224915 +01:00",
                "2024-01-05T09:30:02Z",
            ),
            ("2024-01-05 10:30:02 +00:00", "2024-01-05T10:30:02Z"),
        ] {
            assert_eq!(text_time_to_utc(text).as_deref(), Some(utc), "{text}");
        }
        for junk in ["", "yesterday", "2024-01-05", "2024-01-05T10:30:02"] {
            assert_eq!(text_time_to_utc(junk), None, "{junk}");
        }
    }
}
