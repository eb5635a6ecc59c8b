//! What a migration renames, from its own `ALTER … RENAME` statements: the
//! changelog reports those renames and no others (a drop plus an add of
//! the same shape is not a rename). Pure: works on the parse tree.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;
use serde::{Deserialize, Serialize};

/// The kind of object a RENAME statement renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RenameKind {
    /// A table, view, materialized view, sequence or foreign table
    /// (`ALTER TABLE|VIEW|… x RENAME TO y`).
    Relation,
    /// `ALTER TABLE t RENAME COLUMN a TO b` (also on views).
    Column,
    /// `ALTER INDEX i RENAME TO j`.
    Index,
    /// `ALTER TABLE t RENAME CONSTRAINT c TO d`.
    Constraint,
    /// `ALTER TYPE|DOMAIN x RENAME TO y`.
    Type,
}

/// One rename a migration performs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    /// What is renamed.
    pub kind: RenameKind,
    /// The schema as written; None when unqualified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The relation named in the statement: the renamed relation or index
    /// itself, or the table whose column or constraint is renamed.
    pub relation: String,
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
}

/// The rename a statement performs, if it is one this module knows.
pub fn rename_of(node: &NodeEnum) -> Option<Rename> {
    let NodeEnum::RenameStmt(r) = node else {
        return None;
    };
    let object_type = ObjectType::try_from(r.rename_type).ok()?;
    if matches!(
        object_type,
        ObjectType::ObjectType | ObjectType::ObjectDomain
    ) {
        // The type's name is a list: [schema,] name.
        let Some(NodeEnum::List(list)) = r.object.as_ref().and_then(|o| o.node.as_ref()) else {
            return None;
        };
        let names: Vec<&str> = list
            .items
            .iter()
            .filter_map(|n| match &n.node {
                Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
                _ => None,
            })
            .collect();
        let (schema, name) = match names.as_slice() {
            [name] => (None, *name),
            [schema, name] => (Some(schema.to_string()), *name),
            _ => return None,
        };
        return Some(Rename {
            kind: RenameKind::Type,
            schema,
            relation: name.to_string(),
            from: name.to_string(),
            to: r.newname.clone(),
        });
    }
    let relation = r.relation.as_ref()?;
    let schema = (!relation.schemaname.is_empty()).then(|| relation.schemaname.clone());
    let kind = match object_type {
        ObjectType::ObjectTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectSequence
        | ObjectType::ObjectForeignTable => RenameKind::Relation,
        ObjectType::ObjectColumn => RenameKind::Column,
        ObjectType::ObjectIndex => RenameKind::Index,
        ObjectType::ObjectTabconstraint => RenameKind::Constraint,
        _ => return None,
    };
    let from = match kind {
        RenameKind::Relation | RenameKind::Index | RenameKind::Type => relation.relname.clone(),
        RenameKind::Column | RenameKind::Constraint => r.subname.clone(),
    };
    Some(Rename {
        kind,
        schema,
        relation: relation.relname.clone(),
        from,
        to: r.newname.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renames(sql: &str) -> Vec<Rename> {
        super::super::analyze(sql)
            .unwrap()
            .into_iter()
            .filter_map(|s| s.rename)
            .collect()
    }

    #[test]
    fn rename_statements_are_read() {
        let got = renames(
            "ALTER TABLE app.jobs RENAME COLUMN cron_str TO \"trigger\";
             ALTER TABLE jobs ADD COLUMN creator text;
             ALTER TABLE app.jobs RENAME TO tasks;
             ALTER INDEX app.jobs_idx RENAME TO tasks_idx;
             ALTER TABLE tasks RENAME CONSTRAINT jobs_pkey TO tasks_pkey;
             ALTER FUNCTION f() RENAME TO g;
             ALTER TYPE app.status RENAME TO state;",
        );
        let short: Vec<(RenameKind, Option<&str>, &str, &str, &str)> = got
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.schema.as_deref(),
                    r.relation.as_str(),
                    r.from.as_str(),
                    r.to.as_str(),
                )
            })
            .collect();
        assert_eq!(
            short,
            [
                (
                    RenameKind::Column,
                    Some("app"),
                    "jobs",
                    "cron_str",
                    "trigger"
                ),
                (RenameKind::Relation, Some("app"), "jobs", "jobs", "tasks"),
                (
                    RenameKind::Index,
                    Some("app"),
                    "jobs_idx",
                    "jobs_idx",
                    "tasks_idx"
                ),
                (
                    RenameKind::Constraint,
                    None,
                    "tasks",
                    "jobs_pkey",
                    "tasks_pkey"
                ),
                (RenameKind::Type, Some("app"), "status", "status", "state"),
            ]
        );
    }
}
