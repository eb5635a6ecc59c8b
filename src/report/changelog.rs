//! The schema changelog (`driftwatch log`): per migration, the schema
//! changes it made. Data here; text and Markdown renderers below.

use crate::diff::Change;
use crate::escape::{markdown, terminal};
use crate::migrations::MigrationKind;
use crate::normalize::MigrationClass;
use serde::Serialize;

/// One migration in the changelog.
#[derive(Debug, Clone, Serialize)]
pub struct ChangelogEntry {
    /// Version; None for repeatables.
    pub version: Option<String>,
    /// Description.
    pub description: String,
    /// Versioned, baseline or repeatable.
    pub kind: MigrationKind,
    /// Schema, data, mixed or other, from its statements.
    pub class: MigrationClass,
    /// Its file's checksum.
    pub checksum: String,
    /// What it changed in the schema (diff of its before and after snapshots).
    pub changes: Vec<Change>,
    /// Unified DDL diffs of the objects it changed (`log --verbose`; not in JSON).
    #[serde(skip)]
    pub ddl: Vec<String>,
    /// The verdict `replay --verify-down` stored on its down file, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down: Option<crate::migrations::DownCheck>,
}

/// The changelog of a target.
#[derive(Debug, Clone, Serialize)]
pub struct Changelog {
    /// The target.
    pub target: String,
    /// Migrations in run order.
    pub migrations: Vec<ChangelogEntry>,
}

fn heading(e: &ChangelogEntry) -> String {
    let class = match e.class {
        MigrationClass::Schema => "schema",
        MigrationClass::Data => "data",
        MigrationClass::Mixed => "schema + data",
        MigrationClass::Other => "other",
    };
    let version = e.version.as_deref().unwrap_or("R");
    format!("{version} {} ({class})", e.description)
}

/// One heading line per migration and its change summaries, indented.
pub fn render_changelog_text(log: &Changelog) -> String {
    let mut out = String::new();
    for e in &log.migrations {
        out.push_str(&terminal(&heading(e)));
        out.push('\n');
        if let Some(down) = &e.down {
            out.push_str("    ");
            out.push_str(&terminal(&super::down_mark(down)));
            out.push('\n');
        }
        if e.changes.is_empty() {
            out.push_str("    no schema change\n");
        }
        for c in &e.changes {
            out.push_str("    ");
            out.push_str(&terminal(&c.summary()));
            out.push('\n');
        }
        for d in &e.ddl {
            out.push_str(&super::text::paint_diff(super::Style::Plain, d, "      "));
        }
    }
    out
}

/// The unified DDL diff of every top-level object `changes` touch, from
/// `before` to `after` (what `diff` shows under its summary lines).
pub fn ddl_diffs(
    changes: &[Change],
    before: &crate::model::Snapshot,
    after: &crate::model::Snapshot,
) -> Vec<String> {
    super::by_top_object(changes)
        .into_iter()
        .filter_map(|(top, _)| super::object_diff(before, after, &top))
        .collect()
}

/// A section per migration with its changes as a list.
pub fn render_changelog_markdown(log: &Changelog) -> String {
    let mut out = format!("# Schema changelog: {}\n\n", markdown(&log.target));
    for e in &log.migrations {
        out.push_str(&format!("## {}\n\n", markdown(&heading(e))));
        if let Some(down) = &e.down {
            out.push_str(&format!("*{}*\n\n", markdown(&super::down_mark(down))));
        }
        if e.changes.is_empty() {
            out.push_str("No schema change.\n\n");
            continue;
        }
        for c in &e.changes {
            out.push_str(&format!("- `{}` {}\n", c.code, markdown(&c.summary())));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migration's description (from a file name or a history row) and
    /// DDL carrying control characters and markup.
    #[test]
    fn headings_and_ddl_show_control_characters_escaped() {
        let log = Changelog {
            target: "shop[x](http://evil)".into(),
            migrations: vec![ChangelogEntry {
                version: Some("1\x1b[2J".into()),
                description: "add\rHIDDEN <img src=x> @org/team \u{202e}".into(),
                kind: MigrationKind::Versioned,
                class: MigrationClass::Schema,
                checksum: "0".into(),
                changes: Vec::new(),
                ddl: vec!["+CREATE TABLE t (\n+\ta int -- \x1b]8;;http://evil\x07\r\n".into()],
                down: None,
            }],
        };
        let text = render_changelog_text(&log);
        assert_eq!(
            text,
            "1\\x1b[2J add\\rHIDDEN <img src=x> @org/team \\u202e (schema)\n    no schema change\n      \
             +CREATE TABLE t (\n      +\ta int -- \\x1b]8;;http://evil\\x07\\r\n"
        );
        let md = render_changelog_markdown(&log);
        assert_eq!(
            md,
            "# Schema changelog: shop\\[x\\](http\\://evil)\n\n\
             ## 1\\\\x1b\\[2J add\\\\rHIDDEN \\<img src=x\\> `@`org/team \\\\u202e (schema)\n\n\
             No schema change.\n\n"
        );
    }
}
