//! Which table is the history: the catalogs' candidates, recognised by
//! their columns (under the tool's own name or another: golang-migrate's
//! `x-migrations-table`, Flyway's `table`, …), one table per tool, and the
//! migration directory's layout deciding between tools. Pure: the caller
//! queries the catalogs and reads the directory.

use super::Tool;
use crate::migrations::Format;

/// A table found in the catalogs that may be a history.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// Its schema, unquoted.
    pub schema: String,
    /// Its name, unquoted.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// Rails' `ar_internal_metadata` is in the same schema.
    pub beside_rails: bool,
    /// Its schema is on the search path.
    pub on_path: bool,
}

impl Candidate {
    fn label(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Why no table was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NotChosen {
    /// No candidate is any tool's table.
    None,
    /// Several are, and nothing tells which to read: the message names
    /// them.
    Several(String),
}

/// A candidate with the tool that recognises it.
#[derive(Debug, Clone, Copy)]
struct Recognised<'a> {
    tool: Tool,
    table: &'a Candidate,
    /// Under the tool's own table name (or the name the user gave).
    by_name: bool,
}

/// The tool that recognises `c`, first in `tools`' order: a tool's own
/// column set under any name says the most; then a table under a tool's
/// name (or the given one) with the columns that tool requires (the only
/// way dbmate's, Rails' and a hand-written runner's common `version`
/// columns are recognised).
fn recognise<'a>(c: &'a Candidate, tools: &[Tool], given_table: bool) -> Option<Recognised<'a>> {
    let named = |t: Tool| given_table || t.table() == c.name;
    if let Some(&tool) = tools.iter().find(|t| t.owns_columns(&c.columns)) {
        return Some(Recognised {
            tool,
            table: c,
            by_name: named(tool),
        });
    }
    tools
        .iter()
        .find(|&&t| named(t) && t.matches(&c.columns, c.beside_rails))
        .map(|&tool| Recognised {
            tool,
            table: c,
            by_name: true,
        })
}

/// The tools whose history a directory of this layout goes with: its own,
/// and refinery's for Flyway-named files (`V1__x.sql`), which it shares.
pub(super) fn layout_tools(format: Format) -> Vec<Tool> {
    match format {
        Format::Flyway => vec![Tool::Flyway, Tool::Refinery],
        other => vec![Tool::for_format(other)],
    }
}

/// Picks the history table among `candidates` (search path first).
/// `tools` are the tools to consider (the named one, or all);
/// `given_table` says the candidates are the table the user named;
/// `layout` gives, when asked, the tools the migration directory's layout
/// goes with (None without a directory).
///
/// One table per tool: under the tool's own name (on the search path
/// first), else the one table with its columns (on the search path
/// first); two such tables and no name is ambiguous. Several tools: the
/// layout's tool when exactly one of them is; otherwise ambiguous.
pub(super) fn choose<'a>(
    candidates: &'a [Candidate],
    tools: &[Tool],
    given_table: bool,
    layout: impl FnOnce() -> Option<(Format, Vec<Tool>)>,
) -> Result<(Tool, &'a Candidate), NotChosen> {
    let recognised: Vec<Recognised> = candidates
        .iter()
        .filter_map(|c| recognise(c, tools, given_table))
        .collect();
    // Per tool, in the order first seen: its finalists.
    let mut per_tool: Vec<(Tool, Vec<&Candidate>)> = Vec::new();
    for r in &recognised {
        if per_tool.iter().any(|(t, _)| *t == r.tool) {
            continue;
        }
        let mine: Vec<&Recognised> = recognised.iter().filter(|x| x.tool == r.tool).collect();
        let by_name: Vec<&Candidate> = mine.iter().filter(|x| x.by_name).map(|x| x.table).collect();
        let finalists = if let Some(first) = by_name.first() {
            // The tool's own name, on the search path first: a copy of it
            // in another schema does not make it ambiguous.
            vec![*first]
        } else {
            let all: Vec<&Candidate> = mine.iter().map(|x| x.table).collect();
            let on_path: Vec<&Candidate> = all.iter().copied().filter(|c| c.on_path).collect();
            if on_path.is_empty() {
                all
            } else {
                on_path
            }
        };
        per_tool.push((r.tool, finalists));
    }
    let (tool, finalists) = match per_tool.as_slice() {
        [] => return Err(NotChosen::None),
        [one] => one.clone(),
        several => {
            let layout = layout();
            let fits: Vec<&(Tool, Vec<&Candidate>)> = match &layout {
                Some((_, tools)) => several.iter().filter(|(t, _)| tools.contains(t)).collect(),
                None => Vec::new(),
            };
            match fits.as_slice() {
                [one] => (*one).clone(),
                _ => {
                    let names: Vec<String> = several
                        .iter()
                        .flat_map(|(t, cs)| {
                            cs.iter()
                                .map(move |c| format!("{} ({})", t.as_str(), c.label()))
                        })
                        .collect();
                    let why = match &layout {
                        Some((format, _)) => format!(
                            "; the migration directory's layout ({}) does not tell which",
                            format.as_str()
                        ),
                        None => String::new(),
                    };
                    return Err(NotChosen::Several(format!(
                        "several history tables: {}{why}",
                        names.join(", ")
                    )));
                }
            }
        }
    };
    match finalists.as_slice() {
        [one] => Ok((tool, *one)),
        several => Err(NotChosen::Several(format!(
            "several tables with {}'s history columns: {}",
            tool.as_str(),
            several
                .iter()
                .map(|c| c.label())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: &str, name: &str, columns: &[&str]) -> Candidate {
        Candidate {
            schema: schema.into(),
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            beside_rails: false,
            on_path: schema == "public",
        }
    }

    fn pick(candidates: &[Candidate], layout: Option<Format>) -> Result<(Tool, String), NotChosen> {
        choose(candidates, &Tool::ALL, false, || {
            layout.map(|f| (f, layout_tools(f)))
        })
        .map(|(t, c)| (t, c.label()))
    }

    #[test]
    fn a_tools_table_under_another_name_is_found_by_its_columns() {
        let tables = [
            table("public", "schema_om", &["version", "dirty"]),
            table(
                "public",
                "om_migration_backup_20260716150455_gathering_details",
                &["id", "gathering_id", "details", "version"],
            ),
            table("public", "schema_version", &["version"]),
        ];
        assert_eq!(
            pick(&tables, None),
            Ok((Tool::GolangMigrate, "public.schema_om".into()))
        );
        // `version` alone is too common to tell a history by.
        assert_eq!(pick(&tables[1..], None), Err(NotChosen::None));
        // A tool's columns and more are a table of the project's own.
        let wider = [table("public", "deploys", &["version", "dirty", "who"])];
        assert_eq!(pick(&wider, None), Err(NotChosen::None));
    }

    #[test]
    fn the_layout_decides_between_tools_and_nothing_else_does() {
        let tables = [
            table("public", "alembic_version", &["version_num"]),
            table("public", "schema_migrations", &["version", "dirty"]),
        ];
        assert_eq!(
            pick(&tables, Some(Format::GolangMigrate)),
            Ok((Tool::GolangMigrate, "public.schema_migrations".into()))
        );
        let Err(NotChosen::Several(message)) = pick(&tables, None) else {
            panic!("ambiguous without a directory");
        };
        assert_eq!(
            message,
            "several history tables: alembic (public.alembic_version), golang-migrate (public.schema_migrations)"
        );
        let Err(NotChosen::Several(message)) = pick(&tables, Some(Format::Prisma)) else {
            panic!("ambiguous when the layout is neither's");
        };
        assert!(
            message.ends_with("the migration directory's layout (prisma) does not tell which"),
            "{message}"
        );
    }

    #[test]
    fn one_table_per_tool_by_name_first_then_the_search_path() {
        let flyway = [
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
        ];
        let tables = [
            table("public", "deploys_copy", &flyway),
            table("public", "flyway_schema_history", &flyway),
        ];
        assert_eq!(
            pick(&tables, None),
            Ok((Tool::Flyway, "public.flyway_schema_history".into()))
        );
        let tables = [
            table("public", "deploys", &flyway),
            table("archive", "deploys", &flyway),
        ];
        assert_eq!(
            pick(&tables, None),
            Ok((Tool::Flyway, "public.deploys".into()))
        );
        let tables = [
            table("public", "deploys", &flyway),
            table("public", "deploys_2024", &flyway),
        ];
        assert_eq!(
            pick(&tables, Some(Format::Flyway)),
            Err(NotChosen::Several(
                "several tables with flyway's history columns: public.deploys, public.deploys_2024"
                    .into()
            ))
        );
    }
}
