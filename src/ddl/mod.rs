//! Renders snapshot objects as SQL, for the unified diffs of reports: a
//! table with its columns, constraints, indexes, triggers, policies,
//! comments and grants; views, functions, sequences, types, schemas,
//! extensions, text search configurations and dictionaries as their CREATE statements;
//! other kinds as their snapshot JSON. The CREATE statements the planner
//! shares with reports are written here, once. Pure: no I/O.

use crate::diff::ObjectKind;
use crate::model::{
    qualified, quote_ident, Extension, Function, Grant, MaterializedView, Objects, Schema,
    Sequence, Table, TypeDef, TypeKind, View,
};
use kind::Kind;
pub(crate) use parts::{
    column_line, constraint_body, identity_clause, index_statement, policy_statement,
    trigger_state, trigger_statement,
};
use std::fmt::Write as _;

pub(crate) mod kind;
mod parts;
pub mod plan;
pub mod quote;
pub(crate) mod text_search;

/// SQL (or JSON) text of the top-level object `kind` + `identity`, if the
/// snapshot has it. Identities are those of `diff::ObjectRef::name`
/// ([`Keyed::key`]). Every kind is named here: a new `ObjectKind` does not
/// compile until it says how it renders.
pub fn render(objects: &Objects, kind: ObjectKind, identity: &str) -> Option<String> {
    fn one<T: Kind>(list: &[T], kind: ObjectKind, identity: &str) -> Option<String> {
        // The arm below names the list of this kind, not another's.
        debug_assert_eq!(T::KIND, kind);
        list.iter().find(|x| x.key() == identity).map(T::render)
    }
    let (o, k, id) = (objects, kind, identity);
    match kind {
        ObjectKind::Schema => one(&o.schemas, k, id),
        ObjectKind::Extension => one(&o.extensions, k, id),
        ObjectKind::Collation => one(&o.collations, k, id),
        ObjectKind::Type => one(&o.types, k, id),
        ObjectKind::Sequence => one(&o.sequences, k, id),
        ObjectKind::Table => one(&o.tables, k, id),
        ObjectKind::View => one(&o.views, k, id),
        ObjectKind::MaterializedView => one(&o.materialized_views, k, id),
        ObjectKind::Function => one(&o.functions, k, id),
        ObjectKind::Statistics => one(&o.statistics, k, id),
        ObjectKind::EventTrigger => one(&o.event_triggers, k, id),
        ObjectKind::Publication => one(&o.publications, k, id),
        ObjectKind::ForeignDataWrapper => one(&o.foreign_data_wrappers, k, id),
        ObjectKind::ForeignServer => one(&o.foreign_servers, k, id),
        ObjectKind::DefaultPrivilege => one(&o.default_privileges, k, id),
        ObjectKind::TextSearchConfiguration => one(&o.text_search_configurations, k, id),
        ObjectKind::TextSearchDictionary => one(&o.text_search_dictionaries, k, id),
        // Children are rendered as part of their relation.
        ObjectKind::Column
        | ObjectKind::Constraint
        | ObjectKind::Index
        | ObjectKind::Trigger
        | ObjectKind::Policy
        | ObjectKind::Rule => None,
    }
}

/// `CREATE SCHEMA name`, with `AUTHORIZATION owner` when one is given
/// (the report names the owner; the planner leaves a new schema to the
/// migrating role and writes ALTER … OWNER TO only when it must).
pub(crate) fn create_schema(name: &str, owner: Option<&str>) -> String {
    let mut sql = format!("CREATE SCHEMA {}", quote_ident(name));
    if let Some(owner) = owner {
        let _ = write!(sql, " AUTHORIZATION {}", quote_ident(owner));
    }
    sql.push(';');
    sql
}

/// CREATE SCHEMA with its owner, comment and grants.
fn schema(s: &Schema) -> String {
    let name = quote_ident(&s.name);
    let mut out = create_schema(&s.name, Some(&s.owner));
    out.push('\n');
    comment(&mut out, "SCHEMA", &name, &s.comment);
    grants(&mut out, "SCHEMA", &name, &s.acl, &s.owner);
    out
}

/// `CREATE EXTENSION [IF NOT EXISTS] name WITH SCHEMA s VERSION 'v';`
/// (the planner's may find it there already: another migration, or the
/// template database, may have installed it).
pub(crate) fn create_extension(e: &Extension, if_not_exists: bool) -> String {
    format!(
        "CREATE EXTENSION {}{} WITH SCHEMA {} VERSION {};",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        quote_ident(&e.name),
        quote_ident(&e.schema),
        quote::literal(&e.version)
    )
}

fn extension(e: &Extension) -> String {
    let mut out = create_extension(e, false);
    out.push('\n');
    out
}

fn comment(out: &mut String, what: &str, name: &str, text: &Option<String>) {
    if let Some(c) = text {
        let _ = writeln!(out, "COMMENT ON {what} {name} IS {};", quote::literal(c));
    }
}

/// GRANT statements for every grant but the owner's own.
fn grants(out: &mut String, what: &str, name: &str, acl: &[Grant], owner: &str) {
    for g in acl.iter().filter(|g| !g.grantee.is_role(owner)) {
        let to = g.grantee.to_sql();
        let _ = writeln!(
            out,
            "GRANT {} ON {what} {name} TO {to};",
            g.privileges.join(", ")
        );
    }
}

/// CREATE TABLE with everything that hangs off the table.
pub fn table(t: &Table) -> String {
    let name = qualified(&t.schema, &t.name);
    let mut out = String::new();
    let kind = match (t.kind.as_str(), t.unlogged) {
        ("foreign-table", _) => "FOREIGN TABLE",
        (_, true) => "UNLOGGED TABLE",
        _ => "TABLE",
    };
    if let (Some(parent), Some(bound)) = (&t.partition_of, &t.partition_bound) {
        let _ = writeln!(out, "CREATE {kind} {name} PARTITION OF {parent} {bound};");
    } else {
        let _ = writeln!(out, "CREATE {kind} {name} (");
        let mut lines: Vec<String> = t
            .columns
            .iter()
            .filter(|c| !c.inherited)
            .map(column_line)
            .collect();
        for c in &t.constraints {
            lines.push(format!(
                "CONSTRAINT {} {}",
                quote_ident(&c.name),
                constraint_body(c)
            ));
        }
        let _ = writeln!(out, "    {}", lines.join(",\n    "));
        out.push(')');
        if !t.inherits.is_empty() {
            let _ = write!(out, " INHERITS ({})", t.inherits.join(", "));
        }
        if let Some(p) = &t.partition_by {
            let _ = write!(out, " PARTITION BY {p}");
        }
        if let Some(server) = &t.server {
            let _ = write!(out, " SERVER {}", quote_ident(server));
        }
        if !t.options.is_empty() {
            let _ = write!(out, " WITH ({})", t.options.join(", "));
        }
        out.push_str(";\n");
    }
    for i in &t.indexes {
        out.push_str(&index_statement(i, &name, false));
        out.push('\n');
    }
    if t.row_security {
        let _ = writeln!(out, "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;");
    }
    if t.force_row_security {
        let _ = writeln!(out, "ALTER TABLE {name} FORCE ROW LEVEL SECURITY;");
    }
    for p in &t.policies {
        out.push_str(&policy_statement(p, &name));
        out.push('\n');
    }
    for tr in &t.triggers {
        out.push_str(&trigger_statement(tr, &name));
        out.push('\n');
        if let Some(state) = trigger_state(tr, &name) {
            out.push_str(&state);
            out.push('\n');
        }
    }
    for r in &t.rules {
        let _ = writeln!(out, "{}", r.definition.trim());
    }
    let _ = writeln!(
        out,
        "ALTER TABLE {name} OWNER TO {};",
        quote_ident(&t.owner)
    );
    comment(&mut out, "TABLE", &name, &t.comment);
    for c in &t.columns {
        comment(
            &mut out,
            "COLUMN",
            &format!("{name}.{}", quote_ident(&c.name)),
            &c.comment,
        );
    }
    grants(&mut out, "TABLE", &name, &t.acl, &t.owner);
    for c in &t.columns {
        for g in &c.acl {
            let _ = writeln!(
                out,
                "GRANT {} ({}) ON TABLE {name} TO {};",
                g.privileges.join(", "),
                quote_ident(&c.name),
                g.grantee.to_sql()
            );
        }
    }
    out
}

/// ` WITH (options)` of a view or materialized view, or nothing.
fn with_options(options: &[String]) -> String {
    if options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", options.join(", "))
    }
}

/// A query as the server deparsed it, ending in exactly one `;`.
fn query_statement(definition: &str) -> String {
    format!("{};", definition.trim_end().trim_end_matches(';'))
}

/// `CREATE VIEW name [WITH (…)] AS` and its query: for reports and the
/// planner alike.
pub(crate) fn create_view(v: &View) -> String {
    format!(
        "CREATE VIEW {}{} AS\n{}",
        qualified(&v.schema, &v.name),
        with_options(&v.options),
        query_statement(&v.definition)
    )
}

/// `CREATE MATERIALIZED VIEW name [WITH (…)] AS` and its query: for
/// reports and the planner alike.
pub(crate) fn create_materialized_view(m: &MaterializedView) -> String {
    format!(
        "CREATE MATERIALIZED VIEW {}{} AS\n{}",
        qualified(&m.schema, &m.name),
        with_options(&m.options),
        query_statement(&m.definition)
    )
}

/// CREATE VIEW with owner, comment and grants.
pub(crate) fn view(v: &View) -> String {
    let name = qualified(&v.schema, &v.name);
    let mut out = create_view(v);
    out.push('\n');
    let _ = writeln!(out, "ALTER VIEW {name} OWNER TO {};", quote_ident(&v.owner));
    comment(&mut out, "VIEW", &name, &v.comment);
    grants(&mut out, "TABLE", &name, &v.acl, &v.owner);
    out
}

/// CREATE MATERIALIZED VIEW with indexes, owner, comment and grants.
pub(crate) fn materialized_view(v: &MaterializedView) -> String {
    let name = qualified(&v.schema, &v.name);
    let mut out = create_materialized_view(v);
    out.push('\n');
    for i in &v.indexes {
        let _ = writeln!(
            out,
            "CREATE {}INDEX {} ON {name} USING {} ({});",
            if i.unique { "UNIQUE " } else { "" },
            quote_ident(&i.name),
            i.method,
            i.keys.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "ALTER MATERIALIZED VIEW {name} OWNER TO {};",
        quote_ident(&v.owner)
    );
    comment(&mut out, "MATERIALIZED VIEW", &name, &v.comment);
    grants(&mut out, "TABLE", &name, &v.acl, &v.owner);
    out
}

/// `CREATE [OR REPLACE] <what> name(signature) [RETURNS type]`: the head
/// of a function, procedure or aggregate, for reports and the planner.
pub(crate) fn create_function_head(what: &str, f: &Function, replace: bool) -> String {
    let mut out = format!(
        "CREATE {}{what} {}({})",
        if replace { "OR REPLACE " } else { "" },
        qualified(&f.schema, &f.name),
        f.signature
    );
    if let Some(r) = &f.returns {
        let _ = write!(out, " RETURNS {r}");
    }
    out
}

/// CREATE FUNCTION with owner, comment and grants.
pub(crate) fn function(f: &Function) -> String {
    let name = qualified(&f.schema, &f.name);
    let what = if f.kind == "procedure" {
        "PROCEDURE"
    } else {
        "FUNCTION"
    };
    let mut out = create_function_head(what, f, false);
    let _ = write!(
        out,
        "\n    LANGUAGE {} {} PARALLEL {}",
        f.language,
        f.volatility.to_uppercase(),
        f.parallel.to_uppercase()
    );
    if f.strict {
        out.push_str(" STRICT");
    }
    if f.security_definer {
        out.push_str(" SECURITY DEFINER");
    }
    if f.leakproof {
        out.push_str(" LEAKPROOF");
    }
    for c in &f.config {
        out.push_str(&quote::function_setting(c));
    }
    let _ = writeln!(
        out,
        "\nAS {};",
        quote::dollar_quote(f.body.as_deref().unwrap_or_default())
    );
    let id = format!("{name}({})", f.arguments);
    let _ = writeln!(out, "ALTER {what} {id} OWNER TO {};", quote_ident(&f.owner));
    comment(&mut out, what, &id, &f.comment);
    grants(&mut out, what, &id, &f.acl, &f.owner);
    out
}

/// CREATE SEQUENCE with OWNED BY, comment and grants.
pub(crate) fn sequence(s: &Sequence) -> String {
    let name = qualified(&s.schema, &s.name);
    let o = &s.options;
    let mut out = format!(
        "CREATE SEQUENCE {name} AS {} START {} INCREMENT {} MINVALUE {} MAXVALUE {} CACHE {}{};\n",
        o.data_type,
        o.start,
        o.increment,
        o.min,
        o.max,
        o.cache,
        if o.cycle { " CYCLE" } else { "" }
    );
    if let Some(by) = &s.owned_by {
        let _ = writeln!(out, "ALTER SEQUENCE {name} OWNED BY {by};");
    }
    comment(&mut out, "SEQUENCE", &name, &s.comment);
    grants(&mut out, "SEQUENCE", &name, &s.acl, &s.owner);
    out
}

/// CREATE TYPE / DOMAIN with comment and grants.
pub(crate) fn type_def(t: &TypeDef) -> String {
    let name = qualified(&t.schema, &t.name);
    let mut out = match &t.kind {
        TypeKind::Enum { labels } => format!(
            "CREATE TYPE {name} AS ENUM ({});\n",
            labels
                .iter()
                .map(|l| quote::literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeKind::Domain {
            base_type,
            collation,
            not_null,
            not_null_name,
            default,
            constraints,
        } => {
            let mut s = format!("CREATE DOMAIN {name} AS {base_type}");
            if let Some(c) = collation {
                let _ = write!(s, " COLLATE {c}");
            }
            if let Some(d) = default {
                let _ = write!(s, " DEFAULT {d}");
            }
            if *not_null {
                if let Some(n) = not_null_name {
                    let _ = write!(s, " CONSTRAINT {}", quote_ident(n));
                }
                s.push_str(" NOT NULL");
            }
            for c in constraints {
                let _ = write!(
                    s,
                    "\n    CONSTRAINT {} CHECK {}",
                    quote_ident(&c.name),
                    c.check
                );
            }
            s.push_str(";\n");
            s
        }
        TypeKind::Composite { attributes } => format!(
            "CREATE TYPE {name} AS (\n    {}\n);\n",
            attributes
                .iter()
                .map(|a| format!(
                    "{} {}{}",
                    quote_ident(&a.name),
                    a.data_type,
                    a.collation
                        .as_ref()
                        .map(|c| format!(" COLLATE {c}"))
                        .unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(",\n    ")
        ),
        TypeKind::Range { subtype, .. } => {
            format!("CREATE TYPE {name} AS RANGE (SUBTYPE = {subtype});\n")
        }
    };
    comment(&mut out, "TYPE", &name, &t.comment);
    grants(&mut out, "TYPE", &name, &t.acl, &t.owner);
    out
}
