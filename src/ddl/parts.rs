//! The parts of a relation as SQL (columns, identity clauses, constraints,
//! indexes, policies, triggers): written once, for the report's CREATE
//! TABLE and the planner's ALTER TABLE … ADD alike.

use super::quote;
use crate::model::{quote_ident, Column};
use std::fmt::Write as _;

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
    if let Some(id) = &c.details().identity {
        let _ = write!(line, " {}", identity_clause(id));
    }
    if let Some(g) = &c.details().generated {
        let storage = if c.details().generated_virtual {
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
        if let Some(name) = &c.details().not_null_name {
            let _ = write!(line, " CONSTRAINT {}", quote_ident(name));
        }
        line.push_str(" NOT NULL");
        if c.details().not_null_no_inherit {
            line.push_str(" NO INHERIT");
        }
        if !c.details().not_null_valid {
            // NOT VALID exists only in ALTER TABLE … ADD CONSTRAINT
            line.push_str(" /* NOT VALID */");
        }
    }
    line
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

/// Key columns, the last one WITHOUT OVERLAPS for a temporal key.
fn key_list(columns: &[String], without_overlaps: bool) -> String {
    let mut list = columns.join(", ");
    if without_overlaps {
        list.push_str(" WITHOUT OVERLAPS");
    }
    list
}
