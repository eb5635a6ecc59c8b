//! What each statement of a migration does: changes the schema, changes
//! data, or neither (Bytebase's schema vs data migration); which objects it
//! touches; and whether PostgreSQL refuses to run it inside a transaction.

use pg_query::NodeEnum;
use serde::Serialize;

/// The class of one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementClass {
    /// DDL, grants, comments, ownership: changes what a snapshot shows.
    Schema,
    /// INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE, REFRESH MATERIALIZED VIEW.
    Data,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT: left to the runner.
    Transaction,
    /// SET, SELECT, DO, CALL, VACUUM, ANALYZE and the like.
    Other,
}

/// What a migration as a whole does, from its statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationClass {
    /// Only schema changes (and statements of no consequence).
    Schema,
    /// Only data changes.
    Data,
    /// Both.
    Mixed,
    /// Neither (empty, or only SET/SELECT/DO …).
    Other,
}

/// One statement, analysed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementInfo {
    /// 1-based line of the statement in its text.
    pub line: usize,
    /// PostgreSQL's node name (`CreateStmt`, `InsertStmt`, …).
    pub node: String,
    /// Schema, data, transaction or other.
    pub class: StatementClass,
    /// Objects it names: tables, views, sequences, functions (as written,
    /// `schema.name` when qualified).
    pub touches: Vec<String>,
    /// PostgreSQL refuses it inside a transaction block (CREATE INDEX
    /// CONCURRENTLY, VACUUM, CREATE DATABASE, …); the reason when so.
    pub outside_transaction: Option<&'static str>,
    /// Why its effect on the schema may leave no newer catalog row behind
    /// (it removes parts of objects, or runs code that may change anything):
    /// an incremental capture cannot see it, so a replay captures in full.
    pub hides_changes: Option<&'static str>,
    /// The rename it performs (`ALTER … RENAME`), if any.
    pub rename: Option<super::Rename>,
}

/// Analyses every statement of `sql`; the parser's message on a syntax error.
pub fn analyze(sql: &str) -> Result<Vec<StatementInfo>, String> {
    let mut out = Vec::new();
    for statement in super::split_statements(sql)? {
        let parsed = pg_query::parse(statement.text, pg_query::ParserOptions::DEFAULT)
            .map_err(|e| e.to_string())?;
        let node = parsed
            .protobuf
            .stmts
            .first()
            .and_then(|s| s.stmt.as_ref())
            .and_then(|s| s.node.as_ref());
        let Some(node) = node else { continue };
        let (class, outside_transaction) = classify(node);
        let mut touches: Vec<String> = match class {
            StatementClass::Data => parsed.dml_tables(),
            _ => parsed
                .ddl_tables()
                .into_iter()
                .chain(function_names(node))
                .collect(),
        };
        touches.sort();
        touches.dedup();
        out.push(StatementInfo {
            line: statement.line,
            node: node_name(node),
            class,
            touches,
            outside_transaction,
            hides_changes: hides_changes(node, class),
            rename: super::renames::rename_of(node),
        });
    }
    Ok(out)
}

/// The class of a whole migration from its statements.
pub fn migration_class(statements: &[StatementInfo]) -> MigrationClass {
    let schema = statements.iter().any(|s| s.class == StatementClass::Schema);
    let data = statements.iter().any(|s| s.class == StatementClass::Data);
    match (schema, data) {
        (true, true) => MigrationClass::Mixed,
        (true, false) => MigrationClass::Schema,
        (false, true) => MigrationClass::Data,
        (false, false) => MigrationClass::Other,
    }
}

fn node_name(node: &NodeEnum) -> String {
    // The Debug form starts with the variant name: `CreateStmt(CreateStmt { … })`.
    let debug = format!("{node:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// See [`StatementInfo::hides_changes`]. Creations, alterations, renames,
/// grants and revokes all write newer catalog rows; removals of whole
/// relations, functions or types are seen by the identity inventory, but
/// their dependents (CASCADE) and removals of parts (an index, a trigger, a
/// comment, a constraint) leave nothing newer behind.
fn hides_changes(node: &NodeEnum, class: StatementClass) -> Option<&'static str> {
    use pg_query::protobuf::AlterTableType;
    match node {
        NodeEnum::DropStmt(_) => Some("DROP"),
        NodeEnum::DropOwnedStmt(_) => Some("DROP OWNED"),
        NodeEnum::ReassignOwnedStmt(_) => Some("REASSIGN OWNED"),
        NodeEnum::CommentStmt(c) if c.comment.is_empty() => Some("COMMENT … IS NULL"),
        NodeEnum::AlterDomainStmt(d) if d.subtype == "X" => Some("ALTER DOMAIN … DROP CONSTRAINT"),
        NodeEnum::AlterSeqStmt(s)
            if s.options.iter().any(
                |o| matches!(&o.node, Some(NodeEnum::DefElem(d)) if d.defname == "owned_by"),
            ) =>
        {
            Some("ALTER SEQUENCE … OWNED BY")
        }
        NodeEnum::AlterTableStmt(t)
            if t.cmds.iter().any(|c| {
                matches!(&c.node, Some(NodeEnum::AlterTableCmd(cmd))
                    if cmd.subtype == AlterTableType::AtDropConstraint as i32
                        || cmd.subtype == AlterTableType::AtDropIdentity as i32)
            }) =>
        {
            Some("ALTER TABLE … DROP CONSTRAINT/IDENTITY")
        }
        NodeEnum::DoStmt(_) => Some("DO"),
        NodeEnum::CallStmt(_) => Some("CALL"),
        NodeEnum::SelectStmt(s) if s.into_clause.is_none() => Some("SELECT (may call functions)"),
        NodeEnum::ExecuteStmt(_) => Some("EXECUTE"),
        _ if class == StatementClass::Other
            && !is_session_statement(node)
            && !matches!(node, NodeEnum::VacuumStmt(_) | NodeEnum::ReindexStmt(_)) =>
        {
            Some("a statement driftwatch cannot see into")
        }
        _ => None,
    }
}

/// True when every statement of `sql` that hides its effect from an
/// incremental capture (see [`StatementInfo::hides_changes`]) drops whole
/// tables, views, materialized views, sequences, functions, procedures or
/// types without CASCADE: the capture's identity inventory sees those
/// removals, and PostgreSQL refuses them when anything outside the object
/// depends on it (what goes with it, its indexes, constraints, triggers,
/// owned sequences and statistics, is its own part or in the inventory).
/// `replay --verify-down` captures a down file's effect incrementally then.
/// False when `sql` cannot be parsed.
pub fn hidden_only_by_whole_drops(sql: &str) -> bool {
    use pg_query::protobuf::{DropBehavior, ObjectType};
    let Ok(statements) = super::split_statements(sql) else {
        return false;
    };
    statements.iter().all(|statement| {
        let Ok(parsed) = pg_query::parse(statement.text, pg_query::ParserOptions::DEFAULT) else {
            return false;
        };
        parsed.protobuf.stmts.iter().all(|s| {
            let Some(node) = s.stmt.as_ref().and_then(|s| s.node.as_ref()) else {
                return true;
            };
            let (class, _) = classify(node);
            match node {
                NodeEnum::DropStmt(d) => {
                    d.behavior != DropBehavior::DropCascade as i32
                        && [
                            ObjectType::ObjectTable,
                            ObjectType::ObjectView,
                            ObjectType::ObjectMatview,
                            ObjectType::ObjectSequence,
                            ObjectType::ObjectFunction,
                            ObjectType::ObjectProcedure,
                            ObjectType::ObjectType,
                            ObjectType::ObjectDomain,
                        ]
                        .iter()
                        .any(|t| d.remove_type == *t as i32)
                }
                other => hides_changes(other, class).is_none(),
            }
        })
    })
}

/// Statements about the session, not the schema or data: SET, SHOW, LOCK,
/// NOTIFY/LISTEN, DISCARD, CHECKPOINT, SET CONSTRAINTS.
fn is_session_statement(node: &NodeEnum) -> bool {
    matches!(
        node,
        NodeEnum::VariableSetStmt(_)
            | NodeEnum::VariableShowStmt(_)
            | NodeEnum::LockStmt(_)
            | NodeEnum::NotifyStmt(_)
            | NodeEnum::ListenStmt(_)
            | NodeEnum::UnlistenStmt(_)
            | NodeEnum::DiscardStmt(_)
            | NodeEnum::CheckPointStmt(_)
            | NodeEnum::ConstraintsSetStmt(_)
    )
}

fn join_names(parts: &[pg_query::protobuf::Node]) -> String {
    parts
        .iter()
        .filter_map(|p| match &p.node {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Functions a statement creates or drops, qualified as written
/// (pg_query's own list keeps only the first part of a qualified name).
fn function_names(node: &NodeEnum) -> Vec<String> {
    match node {
        NodeEnum::CreateFunctionStmt(f) => vec![join_names(&f.funcname)],
        NodeEnum::DropStmt(d) => d
            .objects
            .iter()
            .filter_map(|o| match &o.node {
                Some(NodeEnum::ObjectWithArgs(f)) => Some(join_names(&f.objname)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn has_option(params: &[pg_query::protobuf::Node], name: &str) -> bool {
    params.iter().any(
        |p| matches!(&p.node, Some(NodeEnum::DefElem(d)) if d.defname.eq_ignore_ascii_case(name)),
    )
}

fn classify(node: &NodeEnum) -> (StatementClass, Option<&'static str>) {
    use StatementClass::*;
    match node {
        NodeEnum::TransactionStmt(_) => (Transaction, None),
        NodeEnum::InsertStmt(_)
        | NodeEnum::UpdateStmt(_)
        | NodeEnum::DeleteStmt(_)
        | NodeEnum::MergeStmt(_)
        | NodeEnum::CopyStmt(_)
        | NodeEnum::TruncateStmt(_) => (Data, None),
        NodeEnum::RefreshMatViewStmt(r) => (
            Data,
            r.concurrent
                .then_some("REFRESH MATERIALIZED VIEW CONCURRENTLY"),
        ),
        NodeEnum::SelectStmt(s) if s.into_clause.is_some() => (Schema, None),
        _ if is_session_statement(node) => (Other, None),
        NodeEnum::SelectStmt(_)
        | NodeEnum::DoStmt(_)
        | NodeEnum::CallStmt(_)
        | NodeEnum::ExplainStmt(_)
        | NodeEnum::LoadStmt(_)
        | NodeEnum::PrepareStmt(_)
        | NodeEnum::ExecuteStmt(_)
        | NodeEnum::DeallocateStmt(_)
        | NodeEnum::DeclareCursorStmt(_)
        | NodeEnum::FetchStmt(_)
        | NodeEnum::ClosePortalStmt(_) => (Other, None),
        NodeEnum::VacuumStmt(v) => (Other, v.is_vacuumcmd.then_some("VACUUM")),
        NodeEnum::ReindexStmt(r) => (
            Other,
            has_option(&r.params, "concurrently").then_some("REINDEX CONCURRENTLY"),
        ),
        NodeEnum::IndexStmt(i) => (Schema, i.concurrent.then_some("CREATE INDEX CONCURRENTLY")),
        NodeEnum::DropStmt(d) => (Schema, d.concurrent.then_some("DROP INDEX CONCURRENTLY")),
        NodeEnum::CreatedbStmt(_) => (Other, Some("CREATE DATABASE")),
        NodeEnum::DropdbStmt(_) => (Other, Some("DROP DATABASE")),
        NodeEnum::AlterSystemStmt(_) => (Other, Some("ALTER SYSTEM")),
        NodeEnum::CreateTableSpaceStmt(_) => (Schema, Some("CREATE TABLESPACE")),
        NodeEnum::DropTableSpaceStmt(_) => (Schema, Some("DROP TABLESPACE")),
        NodeEnum::CreateSubscriptionStmt(_) => (Schema, Some("CREATE SUBSCRIPTION")),
        NodeEnum::DropSubscriptionStmt(_) => (Schema, Some("DROP SUBSCRIPTION")),
        _ => (Schema, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(sql: &str) -> Vec<(StatementClass, Option<&'static str>)> {
        analyze(sql)
            .unwrap()
            .into_iter()
            .map(|s| (s.class, s.outside_transaction))
            .collect()
    }

    #[test]
    fn classifies_schema_data_and_other() {
        use StatementClass::*;
        let sql = "BEGIN;\nCREATE TABLE app.users (id int);\nINSERT INTO app.users VALUES (1);\n\
                   UPDATE app.users SET id = 2;\nSET search_path = app;\nSELECT 1;\n\
                   CREATE TABLE copy AS SELECT * FROM app.users;\nGRANT SELECT ON app.users TO PUBLIC;\n\
                   COMMENT ON TABLE app.users IS 'x';\nREFRESH MATERIALIZED VIEW mv;\nCOMMIT;";
        assert_eq!(
            classes(sql),
            [
                (Transaction, None),
                (Schema, None),
                (Data, None),
                (Data, None),
                (Other, None),
                (Other, None),
                (Schema, None),
                (Schema, None),
                (Schema, None),
                (Data, None),
                (Transaction, None),
            ]
        );
        let all = analyze(sql).unwrap();
        assert_eq!(migration_class(&all), MigrationClass::Mixed);
        assert_eq!(all[1].touches, ["app.users"]);
        assert_eq!(all[1].node, "CreateStmt");
        assert_eq!(all[2].touches, ["app.users"]);
        assert_eq!(all[2].line, 3);
    }

    #[test]
    fn finds_statements_that_cannot_run_in_a_transaction() {
        let sql = "CREATE INDEX CONCURRENTLY i ON t (x);\nDROP INDEX CONCURRENTLY i;\n\
                   REINDEX (CONCURRENTLY) TABLE t;\nVACUUM t;\nANALYZE t;\nCREATE INDEX j ON t (x);";
        let reasons: Vec<_> = classes(sql).into_iter().map(|c| c.1).collect();
        assert_eq!(
            reasons,
            [
                Some("CREATE INDEX CONCURRENTLY"),
                Some("DROP INDEX CONCURRENTLY"),
                Some("REINDEX CONCURRENTLY"),
                Some("VACUUM"),
                None,
                None
            ]
        );
    }

    #[test]
    fn whole_object_drops_without_cascade_are_seen_by_the_inventory() {
        assert!(hidden_only_by_whole_drops(
            "SET lock_timeout = '3s';\nDROP TABLE a.t;\nDROP VIEW v;\nDROP FUNCTION f(int);\nALTER TABLE u DROP COLUMN c;"
        ));
        assert!(!hidden_only_by_whole_drops("DROP TABLE t CASCADE;"));
        assert!(!hidden_only_by_whole_drops("DROP TABLE t;\nDROP INDEX i;"));
        assert!(!hidden_only_by_whole_drops(
            "ALTER TABLE t DROP CONSTRAINT c;"
        ));
        assert!(!hidden_only_by_whole_drops("DROP SCHEMA s;"));
        assert!(!hidden_only_by_whole_drops("DO $$ BEGIN END $$;"));
        assert!(!hidden_only_by_whole_drops("DROP TABLE (;"));
    }

    #[test]
    fn statements_whose_removals_leave_no_newer_catalog_row() {
        let hidden = |sql: &str| analyze(sql).unwrap()[0].hides_changes;
        assert_eq!(hidden("DROP INDEX i"), Some("DROP"));
        assert_eq!(
            hidden("COMMENT ON TABLE t IS NULL"),
            Some("COMMENT … IS NULL")
        );
        assert_eq!(hidden("COMMENT ON TABLE t IS 'x'"), None);
        assert!(hidden("ALTER TABLE t DROP CONSTRAINT c").is_some());
        assert!(hidden("ALTER TABLE t ALTER COLUMN id DROP IDENTITY").is_some());
        assert_eq!(hidden("ALTER TABLE t DROP COLUMN c"), None);
        assert!(hidden("ALTER DOMAIN d DROP CONSTRAINT c").is_some());
        assert!(hidden("ALTER SEQUENCE s OWNED BY NONE").is_some());
        assert!(hidden("DO $$ BEGIN END $$").is_some());
        assert!(hidden("SELECT f()").is_some());
        assert_eq!(hidden("CREATE TABLE t (id int)"), None);
        assert_eq!(hidden("SET search_path = app"), None);
        assert_eq!(hidden("INSERT INTO t VALUES (1)"), None);
        assert_eq!(hidden("GRANT SELECT ON t TO PUBLIC"), None);
        assert_eq!(hidden("REVOKE SELECT ON t FROM PUBLIC"), None);
    }

    #[test]
    fn functions_and_dollar_quotes() {
        let sql = "CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nDROP FUNCTION app.g(int);";
        let all = analyze(sql).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].touches, ["app.f"]);
        assert_eq!(all[1].touches, ["app.g"]);
        assert_eq!(migration_class(&all), MigrationClass::Schema);
        assert_eq!(
            migration_class(&analyze("INSERT INTO t VALUES (1);").unwrap()),
            MigrationClass::Data
        );
        assert!(analyze("CREATE TABEL x ();").is_err());
    }
}
