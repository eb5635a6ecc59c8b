//! Database-wide kinds (foreign-data wrappers, foreign servers with their
//! user mappings, event triggers, publications, default privileges) and
//! the two function-like kinds that need their own CREATE: aggregates and
//! range types.

use super::pair::pair;
use super::privileges::{acl, comment, literal, owner};
use super::{Hazard, Out, Phase};
use crate::model::{quote_ident, DefaultPrivilege, Function, Objects, TypeDef, TypeKind};
use std::collections::BTreeSet;

/// `OPTIONS (k 'v', …)` from catalog options (`k=v`), or nothing.
pub(crate) fn options_clause(options: &[String]) -> String {
    if options.is_empty() {
        return String::new();
    }
    let items: Vec<String> = options
        .iter()
        .map(|o| {
            let (k, v) = o.split_once('=').unwrap_or((o, ""));
            format!("{} {}", quote_ident(k), literal(v))
        })
        .collect();
    format!(" OPTIONS ({})", items.join(", "))
}

/// A user mapping's role. `pg_user_mappings` names the public mapping
/// `public` (a name no role may take), which stays unquoted and so means
/// PUBLIC; a role named `PUBLIC` is quoted, and so stays that role.
fn role(r: &str) -> String {
    quote_ident(r)
}

/// Plans the database-wide kinds.
pub(super) fn plan(from: &Objects, to: &Objects, out: &mut Out) {
    wrappers_and_servers(from, to, out);
    event_triggers(from, to, out);
    publications(from, to, out);
    default_privileges(from, to, out);
}

fn wrappers_and_servers(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.foreign_servers, &to.foreign_servers);
    let (wa, wb) = pair(&from.foreign_data_wrappers, &to.foreign_data_wrappers);
    let server_changed = |k: &String| match (a.get(k), b.get(k)) {
        (Some(x), Some(y)) => {
            x.wrapper != y.wrapper || x.server_type != y.server_type || x.options != y.options
        }
        _ => false,
    };
    for (k, s) in &a {
        if !b.contains_key(k) || server_changed(k) {
            // A changed server is dropped before its new definition is
            // created; a removed one once its foreign tables are gone.
            let at = if b.contains_key(k) {
                Phase::DropTypes
            } else {
                Phase::DropSchemas
            };
            for m in &s.user_mappings {
                out.push(
                    at,
                    format!(
                        "DROP USER MAPPING FOR {} SERVER {};",
                        role(m),
                        quote_ident(&s.name)
                    ),
                    &[],
                );
            }
            out.push(
                at,
                format!("DROP SERVER {};", quote_ident(&s.name)),
                &[Hazard::DeletesData],
            );
        }
    }
    for (k, w) in &wa {
        if wb.get(k).is_none_or_other(w) {
            out.push(
                if wb.contains_key(k) {
                    Phase::DropTypes
                } else {
                    Phase::DropSchemas
                },
                format!("DROP FOREIGN DATA WRAPPER {};", quote_ident(&w.name)),
                &[],
            );
        }
    }
    for (k, w) in &wb {
        let name = quote_ident(&w.name);
        let old = wa.get(k).filter(|o| {
            o.handler == w.handler && o.validator == w.validator && o.options == w.options
        });
        if old.is_none() {
            let mut sql = format!("CREATE FOREIGN DATA WRAPPER {name}");
            match &w.handler {
                Some(h) => sql.push_str(&format!(" HANDLER {h}")),
                None => sql.push_str(" NO HANDLER"),
            }
            match &w.validator {
                Some(v) => sql.push_str(&format!(" VALIDATOR {v}")),
                None => sql.push_str(" NO VALIDATOR"),
            }
            sql.push_str(&options_clause(&w.options));
            sql.push(';');
            out.push(Phase::Extensions, sql, &[]);
        }
        owner(
            out,
            "FOREIGN DATA WRAPPER",
            &name,
            old.map(|o| o.owner.as_str()),
            &w.owner,
        );
        comment(
            out,
            "FOREIGN DATA WRAPPER",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            w.comment.as_ref(),
        );
        acl(
            out,
            "FOREIGN DATA WRAPPER",
            &name,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &w.acl,
            &w.owner,
        );
    }
    for (k, s) in &b {
        let name = quote_ident(&s.name);
        let old = a.get(k).filter(|_| !server_changed(k));
        if old.is_none() {
            let mut sql = format!("CREATE SERVER {name}");
            if let Some(t) = &s.server_type {
                sql.push_str(&format!(" TYPE {}", literal(t)));
            }
            if let Some(v) = &s.version {
                sql.push_str(&format!(" VERSION {}", literal(v)));
            }
            sql.push_str(&format!(
                " FOREIGN DATA WRAPPER {}{};",
                quote_ident(&s.wrapper),
                options_clause(&s.options)
            ));
            out.push(Phase::Extensions, sql, &[]);
        } else if let Some(o) = old {
            if o.version != s.version {
                out.push(
                    Phase::Extensions,
                    format!(
                        "ALTER SERVER {name} VERSION {};",
                        s.version.as_deref().map_or("NULL".into(), literal)
                    ),
                    &[],
                );
            }
        }
        let before: &[String] = old.map(|o| o.user_mappings.as_slice()).unwrap_or(&[]);
        for m in before.iter().filter(|m| !s.user_mappings.contains(m)) {
            out.push(
                Phase::DropSchemas,
                format!("DROP USER MAPPING FOR {} SERVER {name};", role(m)),
                &[],
            );
        }
        for m in s.user_mappings.iter().filter(|m| !before.contains(m)) {
            // Mapping options (credentials) are not captured: set them by hand.
            out.push(
                Phase::Extensions,
                format!("CREATE USER MAPPING FOR {} SERVER {name};", role(m)),
                &[Hazard::AuthzUpdate],
            );
        }
        owner(
            out,
            "SERVER",
            &name,
            old.map(|o| o.owner.as_str()),
            &s.owner,
        );
        comment(
            out,
            "SERVER",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            s.comment.as_ref(),
        );
        acl(
            out,
            "FOREIGN SERVER",
            &name,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &s.acl,
            &s.owner,
        );
    }
}

/// `None`, or a value unlike `x`.
trait NoneOrOther<T> {
    fn is_none_or_other(&self, x: &T) -> bool;
}

impl<T: PartialEq> NoneOrOther<T> for Option<&&T> {
    fn is_none_or_other(&self, x: &T) -> bool {
        match self {
            None => true,
            Some(o) => **o != x,
        }
    }
}

fn event_triggers(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.event_triggers, &to.event_triggers);
    let same = |x: &crate::model::EventTrigger, y: &crate::model::EventTrigger| {
        x.event == y.event && x.function == y.function && x.tags == y.tags
    };
    for (k, t) in &a {
        if !b.get(k).is_some_and(|n| same(t, n)) {
            out.push(
                Phase::DropTriggers,
                format!("DROP EVENT TRIGGER {};", quote_ident(&t.name)),
                &[],
            );
        }
    }
    for (k, t) in &b {
        let name = quote_ident(&t.name);
        let old = a.get(k).filter(|o| same(o, t));
        if old.is_none() {
            let when = if t.tags.is_empty() {
                String::new()
            } else {
                format!(
                    " WHEN TAG IN ({})",
                    t.tags
                        .iter()
                        .map(|x| literal(x))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            out.push(
                Phase::Triggers,
                format!(
                    "CREATE EVENT TRIGGER {name} ON {}{when} EXECUTE FUNCTION {}();",
                    t.event, t.function
                ),
                &[],
            );
        }
        let was = old.map_or("origin", |o| o.enabled.as_str());
        if was != t.enabled {
            let state = match t.enabled.as_str() {
                "disabled" => "DISABLE",
                "always" => "ENABLE ALWAYS",
                "replica" => "ENABLE REPLICA",
                _ => "ENABLE",
            };
            out.push(
                Phase::Triggers,
                format!("ALTER EVENT TRIGGER {name} {state};"),
                &[],
            );
        }
        owner(
            out,
            "EVENT TRIGGER",
            &name,
            old.map(|o| o.owner.as_str()),
            &t.owner,
        );
        comment(
            out,
            "EVENT TRIGGER",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            t.comment.as_ref(),
        );
    }
}

fn publications(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.publications, &to.publications);
    let same = |x: &crate::model::Publication, y: &crate::model::Publication| {
        crate::model::Publication {
            owner: String::new(),
            comment: None,
            ..x.clone()
        } == crate::model::Publication {
            owner: String::new(),
            comment: None,
            ..y.clone()
        }
    };
    for (k, p) in &a {
        if !b.get(k).is_some_and(|n| same(p, n)) {
            out.push(
                Phase::DropTriggers,
                format!("DROP PUBLICATION {};", quote_ident(&p.name)),
                &[],
            );
        }
    }
    for (k, p) in &b {
        let name = quote_ident(&p.name);
        let old = a.get(k).filter(|o| same(o, p));
        if old.is_none() {
            let mut what: Vec<String> = Vec::new();
            for t in &p.tables {
                let mut s = format!("TABLE {}", t.table);
                if !t.columns.is_empty() {
                    s.push_str(&format!(" ({})", t.columns.join(", ")));
                }
                if let Some(f) = &t.row_filter {
                    s.push_str(&format!(" WHERE ({f})"));
                }
                what.push(s);
            }
            for s in &p.schemas {
                what.push(format!("TABLES IN SCHEMA {}", quote_ident(s)));
            }
            let scope = if p.all_tables {
                " FOR ALL TABLES".to_string()
            } else if what.is_empty() {
                String::new()
            } else {
                format!(" FOR {}", what.join(", "))
            };
            let mut with = vec![
                format!("publish = {}", literal(&p.publish.join(", "))),
                format!("publish_via_partition_root = {}", p.via_root),
            ];
            if let Some(g) = &p.generated_columns {
                with.push(format!("publish_generated_columns = {g}"));
            }
            out.push(
                Phase::Others,
                format!(
                    "CREATE PUBLICATION {name}{scope} WITH ({});",
                    with.join(", ")
                ),
                &[],
            );
        }
        owner(
            out,
            "PUBLICATION",
            &name,
            old.map(|o| o.owner.as_str()),
            &p.owner,
        );
        comment(
            out,
            "PUBLICATION",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            p.comment.as_ref(),
        );
    }
}

fn default_privileges(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.default_privileges, &to.default_privileges);
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        let Some(entry) = y.or(x) else { continue };
        let before = x.map(|e| e.grants.as_slice()).unwrap_or(&[]);
        let after = y.map(|e| e.grants.as_slice()).unwrap_or(&[]);
        if before == after {
            continue;
        }
        // The same GRANT/REVOKE arithmetic as on an object, written as
        // ALTER DEFAULT PRIVILEGES.
        let mut inner = super::Out {
            statements: Vec::new(),
            warnings: Vec::new(),
            default_owner: String::new(),
            maintain: out.maintain,
            dropped_columns: Default::default(),
        };
        acl(&mut inner, "§", "§", None, before, after, &entry.role);
        for s in inner.statements {
            // Revokes first: an entry of a schema that goes must be
            // revoked before the schema is dropped.
            out.push(
                if s.sql.starts_with("REVOKE") {
                    Phase::DropTriggers
                } else {
                    Phase::Privileges
                },
                format!(
                    "ALTER DEFAULT PRIVILEGES {}{}",
                    prefix(entry),
                    // The first one only: the ON clause precedes the
                    // grantee, whose quoted name may hold the same text.
                    s.sql.replacen(
                        " ON § § ",
                        &format!(" ON {} ", entry.object_type.to_uppercase()),
                        1
                    )
                ),
                &[Hazard::AuthzUpdate],
            );
        }
    }
}

fn prefix(d: &DefaultPrivilege) -> String {
    let mut s = format!("FOR ROLE {} ", quote_ident(&d.role));
    if let Some(schema) = &d.schema {
        s.push_str(&format!("IN SCHEMA {} ", quote_ident(schema)));
    }
    s
}

/// CREATE AGGREGATE.
pub(crate) fn create_aggregate(f: &Function) -> Option<String> {
    let agg = f.aggregate.as_ref()?;
    let mut parts = vec![
        format!("SFUNC = {}", agg.transition_function),
        format!("STYPE = {}", agg.state_type),
    ];
    if let Some(x) = &agg.final_function {
        parts.push(format!("FINALFUNC = {x}"));
    }
    if let Some(x) = &agg.combine_function {
        parts.push(format!("COMBINEFUNC = {x}"));
    }
    if let Some(x) = &agg.initial_condition {
        parts.push(format!("INITCOND = {}", literal(x)));
    }
    if let Some(x) = &agg.sort_operator {
        parts.push(format!("SORTOP = {x}"));
    }
    if f.parallel != "unsafe" {
        parts.push(format!("PARALLEL = {}", f.parallel.to_uppercase()));
    }
    Some(format!(
        "CREATE AGGREGATE {}({}) ({});",
        crate::model::qualified(&f.schema, &f.name),
        f.signature,
        parts.join(", ")
    ))
}

/// CREATE TYPE … AS RANGE with every option.
pub(crate) fn create_range(t: &TypeDef) -> Option<String> {
    let TypeKind::Range {
        subtype,
        subtype_opclass,
        collation,
        canonical,
        subtype_diff,
        multirange,
    } = &t.kind
    else {
        return None;
    };
    let mut parts = vec![format!("SUBTYPE = {subtype}")];
    if let Some(x) = subtype_opclass {
        parts.push(format!("SUBTYPE_OPCLASS = {x}"));
    }
    if let Some(x) = collation {
        parts.push(format!("COLLATION = {x}"));
    }
    if let Some(x) = canonical {
        parts.push(format!("CANONICAL = {x}"));
    }
    if let Some(x) = subtype_diff {
        parts.push(format!("SUBTYPE_DIFF = {x}"));
    }
    if let Some(x) = multirange {
        parts.push(format!("MULTIRANGE_TYPE_NAME = {x}"));
    }
    Some(format!(
        "CREATE TYPE {} AS RANGE ({});",
        crate::model::qualified(&t.schema, &t.name),
        parts.join(", ")
    ))
}
