//! Renders snapshot objects as SQL, for the unified diffs of reports: a
//! table with its columns, constraints, indexes, triggers, policies,
//! comments and grants; views, functions, sequences, types, schemas and
//! extensions as their CREATE statements; other kinds as their snapshot
//! JSON. Pure: no I/O.

use crate::diff::{Keyed, ObjectKind};
use crate::model::json::to_layout;
use crate::model::{
    qualified, quote_ident, Column, Function, Grant, MaterializedView, Objects, Sequence, Table,
    TypeDef, TypeKind, View,
};
use std::fmt::Write as _;

pub mod plan;
pub mod quote;

/// SQL (or JSON) text of the top-level object `kind` + `identity`, if the
/// snapshot has it. Identities are those of `diff::ObjectRef::name`
/// ([`Keyed::key`]).
pub fn render(objects: &Objects, kind: ObjectKind, identity: &str) -> Option<String> {
    fn find<'a, T: Keyed>(list: &'a [T], identity: &str) -> Option<&'a T> {
        list.iter().find(|x| x.key() == identity)
    }
    match kind {
        ObjectKind::Table => find(&objects.tables, identity).map(table),
        ObjectKind::View => find(&objects.views, identity).map(view),
        ObjectKind::MaterializedView => {
            find(&objects.materialized_views, identity).map(materialized_view)
        }
        ObjectKind::Function => find(&objects.functions, identity).map(function),
        ObjectKind::Sequence => find(&objects.sequences, identity).map(sequence),
        ObjectKind::Type => find(&objects.types, identity).map(type_def),
        ObjectKind::Schema => find(&objects.schemas, identity).map(|s| {
            let name = quote_ident(&s.name);
            let mut out = format!(
                "CREATE SCHEMA {name} AUTHORIZATION {};\n",
                quote_ident(&s.owner)
            );
            comment(&mut out, "SCHEMA", &name, &s.comment);
            grants(&mut out, "SCHEMA", &name, &s.acl, &s.owner);
            out
        }),
        ObjectKind::Extension => find(&objects.extensions, identity).map(|e| {
            format!(
                "CREATE EXTENSION {} WITH SCHEMA {} VERSION {};\n",
                quote_ident(&e.name),
                quote_ident(&e.schema),
                quote::literal(&e.version)
            )
        }),
        ObjectKind::Collation => find(&objects.collations, identity).map(to_layout),
        ObjectKind::Statistics => find(&objects.statistics, identity).map(to_layout),
        ObjectKind::EventTrigger => find(&objects.event_triggers, identity).map(to_layout),
        ObjectKind::Publication => find(&objects.publications, identity).map(to_layout),
        ObjectKind::ForeignDataWrapper => {
            find(&objects.foreign_data_wrappers, identity).map(to_layout)
        }
        ObjectKind::ForeignServer => find(&objects.foreign_servers, identity).map(to_layout),
        ObjectKind::DefaultPrivilege => find(&objects.default_privileges, identity).map(to_layout),
        // Children are rendered as part of their relation.
        _ => None,
    }
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

/// `GENERATED … AS IDENTITY (…)` with the identity sequence's parameters,
/// as a column definition and ALTER COLUMN … ADD write it.
pub(crate) fn identity_clause(id: &crate::model::Identity) -> String {
    let how = if id.generation == "always" {
        "ALWAYS"
    } else {
        "BY DEFAULT"
    };
    let s = &id.sequence;
    format!(
        "GENERATED {how} AS IDENTITY (START {} INCREMENT {} MINVALUE {} MAXVALUE {} CACHE {}{})",
        s.start,
        s.increment,
        s.min,
        s.max,
        s.cache,
        if s.cycle { " CYCLE" } else { "" }
    )
}

/// A column as CREATE TABLE and ADD COLUMN write it.
pub(crate) fn column_line(c: &Column) -> String {
    let mut line = format!("{} {}", quote_ident(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        let _ = write!(line, " COLLATE {coll}");
    }
    if let Some(id) = &c.identity {
        let _ = write!(line, " {}", identity_clause(id));
    }
    if let Some(g) = &c.generated {
        let storage = if c.generated_virtual {
            "VIRTUAL"
        } else {
            "STORED"
        };
        let _ = write!(line, " GENERATED ALWAYS AS ({g}) {storage}");
    }
    if let Some(d) = &c.default {
        let _ = write!(line, " DEFAULT {d}");
    }
    if c.not_null {
        if let Some(name) = &c.not_null_name {
            let _ = write!(line, " CONSTRAINT {}", quote_ident(name));
        }
        line.push_str(" NOT NULL");
        if c.not_null_no_inherit {
            line.push_str(" NO INHERIT");
        }
        if !c.not_null_valid {
            // NOT VALID exists only in ALTER TABLE … ADD CONSTRAINT
            line.push_str(" /* NOT VALID */");
        }
    }
    line
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

/// CREATE INDEX for index `i` of relation `on` (qualified, quoted).
pub(crate) fn index_statement(i: &crate::model::Index, on: &str, concurrently: bool) -> String {
    format!(
        "CREATE {}INDEX {}{} ON {on} USING {} ({}){}{}{}{};",
        if i.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        quote_ident(&i.name),
        i.method,
        i.keys.join(", "),
        if i.include.is_empty() {
            String::new()
        } else {
            format!(" INCLUDE ({})", i.include.join(", "))
        },
        if i.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        if i.options.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", i.options.join(", "))
        },
        i.predicate
            .as_ref()
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default()
    )
}

/// CREATE POLICY for policy `p` of table `on`.
pub(crate) fn policy_statement(p: &crate::model::Policy, on: &str) -> String {
    let mut out = format!(
        "CREATE POLICY {} ON {on} AS {} FOR {} TO {}",
        quote_ident(&p.name),
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command.to_uppercase(),
        p.roles
            .iter()
            .map(|r| crate::model::Grantee::from_key(r).to_sql())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(u) = &p.using {
        let _ = write!(out, " USING ({u})");
    }
    if let Some(w) = &p.with_check {
        let _ = write!(out, " WITH CHECK ({w})");
    }
    out.push(';');
    out
}

/// CREATE TRIGGER for trigger `tr` of relation `on`.
pub(crate) fn trigger_statement(tr: &crate::model::Trigger, on: &str) -> String {
    let mut referencing = String::new();
    if let Some(o) = &tr.old_table {
        let _ = write!(referencing, " OLD TABLE AS {}", quote_ident(o));
    }
    if let Some(n) = &tr.new_table {
        let _ = write!(referencing, " NEW TABLE AS {}", quote_ident(n));
    }
    if !referencing.is_empty() {
        referencing = format!(" REFERENCING{referencing}");
    }
    format!(
        "CREATE {}TRIGGER {} {} {} ON {on}{}{}{} FOR EACH {}{} EXECUTE FUNCTION {}({});",
        if tr.constraint { "CONSTRAINT " } else { "" },
        quote_ident(&tr.name),
        tr.timing.replace('-', " ").to_uppercase(),
        tr.events
            .iter()
            .map(|e| trigger_event(e))
            .collect::<Vec<_>>()
            .join(" OR "),
        if tr.constraint && tr.deferrable {
            " DEFERRABLE"
        } else {
            ""
        },
        if tr.constraint && tr.initially_deferred {
            " INITIALLY DEFERRED"
        } else {
            ""
        },
        referencing,
        tr.level.to_uppercase(),
        tr.when
            .as_ref()
            .map(|w| format!(" WHEN ({w})"))
            .unwrap_or_default(),
        tr.function,
        tr.arguments
            .iter()
            .map(|a| quote::literal(a))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// A trigger event as CREATE TRIGGER writes it: the keyword upper-cased,
/// the columns of `update of …` as the snapshot quoted them (upper-casing
/// `"Status"` would name another column).
fn trigger_event(event: &str) -> String {
    match event.strip_prefix("update of ") {
        Some(columns) => format!("UPDATE OF {columns}"),
        None => event.to_uppercase(),
    }
}

/// The ALTER that gives trigger `tr` its enabled state, when CREATE
/// TRIGGER's `origin` is not it.
pub(crate) fn trigger_state(tr: &crate::model::Trigger, on: &str) -> Option<String> {
    let state = match tr.enabled.as_str() {
        "disabled" => "DISABLE TRIGGER",
        "always" => "ENABLE ALWAYS TRIGGER",
        "replica" => "ENABLE REPLICA TRIGGER",
        _ => return None,
    };
    Some(format!(
        "ALTER TABLE {on} {state} {};",
        quote_ident(&tr.name)
    ))
}

/// A constraint's definition after `CONSTRAINT name`.
pub(crate) fn constraint_body(c: &crate::model::Constraint) -> String {
    let mut body = match c.constraint_type.as_str() {
        "primary-key" => format!("PRIMARY KEY ({})", key_list(&c.columns, c.without_overlaps)),
        "unique" => format!(
            "UNIQUE{} ({})",
            if c.nulls_not_distinct {
                " NULLS NOT DISTINCT"
            } else {
                ""
            },
            key_list(&c.columns, c.without_overlaps)
        ),
        "check" => format!("CHECK {}", c.expression.clone().unwrap_or_default()),
        "foreign-key" => match &c.references {
            Some(r) => {
                let period = |cols: &[String]| match cols.split_last() {
                    Some((last, rest)) if r.period => rest
                        .iter()
                        .cloned()
                        .chain([format!("PERIOD {last}")])
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => cols.join(", "),
                };
                let mut fk = format!(
                    "FOREIGN KEY ({}) REFERENCES {} ({}) MATCH {} ON UPDATE {} ON DELETE {}",
                    period(&c.columns),
                    r.table,
                    period(&r.columns),
                    r.match_type.to_uppercase(),
                    r.on_update.replace('-', " ").to_uppercase(),
                    r.on_delete.replace('-', " ").to_uppercase()
                );
                if !r.on_delete_columns.is_empty() {
                    let _ = write!(fk, " ({})", r.on_delete_columns.join(", "));
                }
                fk
            }
            None => "FOREIGN KEY".into(),
        },
        _ => c.expression.clone().unwrap_or_default(),
    };
    if !c.include.is_empty() {
        let _ = write!(body, " INCLUDE ({})", c.include.join(", "));
    }
    if c.deferrable {
        body.push_str(if c.initially_deferred {
            " DEFERRABLE INITIALLY DEFERRED"
        } else {
            " DEFERRABLE"
        });
    }
    if c.not_enforced {
        body.push_str(" NOT ENFORCED");
    }
    if !c.validated {
        body.push_str(" NOT VALID");
    }
    if c.no_inherit {
        body.push_str(" NO INHERIT");
    }
    body
}

/// CREATE VIEW with owner, comment and grants.
pub(crate) fn view(v: &View) -> String {
    let name = qualified(&v.schema, &v.name);
    let with = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    let mut out = format!("CREATE VIEW {name}{with} AS\n{}\n", v.definition.trim_end());
    let _ = writeln!(out, "ALTER VIEW {name} OWNER TO {};", quote_ident(&v.owner));
    comment(&mut out, "VIEW", &name, &v.comment);
    grants(&mut out, "TABLE", &name, &v.acl, &v.owner);
    out
}

/// CREATE MATERIALIZED VIEW with indexes, owner, comment and grants.
pub(crate) fn materialized_view(v: &MaterializedView) -> String {
    let name = qualified(&v.schema, &v.name);
    let mut out = format!(
        "CREATE MATERIALIZED VIEW {name} AS\n{}\n",
        v.definition.trim_end()
    );
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

/// CREATE FUNCTION with owner, comment and grants.
pub(crate) fn function(f: &Function) -> String {
    let name = qualified(&f.schema, &f.name);
    let what = if f.kind == "procedure" {
        "PROCEDURE"
    } else {
        "FUNCTION"
    };
    let mut out = format!("CREATE {what} {name}({})", f.signature);
    if let Some(r) = &f.returns {
        let _ = write!(out, " RETURNS {r}");
    }
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

/// Key columns, the last one WITHOUT OVERLAPS for a temporal key.
fn key_list(columns: &[String], without_overlaps: bool) -> String {
    let mut list = columns.join(", ");
    if without_overlaps {
        list.push_str(" WITHOUT OVERLAPS");
    }
    list
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
