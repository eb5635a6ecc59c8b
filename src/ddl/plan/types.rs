//! User-defined types: enums (values added in place, or the type
//! re-created and its columns converted), domains, composite and range
//! types.

use super::deps::rel;
use super::pair::pair;
use super::privileges::{acl, comment, literal, owner, public_defaults};
use super::{Hazard, Out, Phase, Placement};
use crate::diff::ObjectKind;
use crate::model::{qualified, quote_ident, Objects, TypeDef, TypeKind};
use std::collections::BTreeSet;

/// Columns (`table`, `column`) of `objects` whose type is `name` or its array.
fn columns_of_type<'a>(
    objects: &'a Objects,
    t: &TypeDef,
) -> Vec<(&'a crate::model::Table, String)> {
    let names = [
        qualified(&t.schema, &t.name),
        format!("{}.{}", t.schema, t.name),
    ];
    let mut out = Vec::new();
    for table in &objects.tables {
        for c in table.columns.iter().filter(|c| !c.inherited) {
            let base = c.data_type.trim_end_matches("[]");
            if names.iter().any(|n| n == base) {
                out.push((table, c.name.clone()));
            }
        }
    }
    out
}

pub(super) fn types(from: &Objects, to: &Objects, forced: &mut BTreeSet<String>, out: &mut Out) {
    let (a, b) = pair(&from.types, &to.types);
    for (k, t) in &a {
        if !b.contains_key(k) {
            out.push(
                Phase::LateDrops,
                format!("DROP {} {};", type_word(t), qualified(&t.schema, &t.name)),
                &[],
            );
        }
    }
    for (k, t) in &b {
        let name = qualified(&t.schema, &t.name);
        let Some(old) = a.get(k) else {
            out.push(Phase::Types, create_type(t), &[]);
            owner(out, type_word(t), &name, None, &t.owner);
            comment(out, type_word(t), &name, None, t.comment.as_ref());
            acl(
                out,
                "TYPE",
                &name,
                None,
                &public_defaults(ObjectKind::Type),
                &t.acl,
                &t.owner,
            );
            continue;
        };
        match (&old.kind, &t.kind) {
            (TypeKind::Enum { labels: before }, TypeKind::Enum { labels: after })
                if before != after =>
            {
                alter_enum(old, t, before, after, to, forced, out);
            }
            (TypeKind::Enum { .. }, TypeKind::Enum { .. }) => {}
            (
                TypeKind::Domain {
                    base_type: b1,
                    collation: c1,
                    not_null: n1,
                    default: d1,
                    constraints: k1,
                    ..
                },
                TypeKind::Domain {
                    base_type: b2,
                    collation: c2,
                    not_null: n2,
                    default: d2,
                    constraints: k2,
                    ..
                },
            ) => {
                if b1 != b2 || c1 != c2 {
                    out.unsupported(Phase::Types, format!("domain {name}: base type changed"));
                }
                if d1 != d2 {
                    out.push(
                        Phase::Types,
                        match d2 {
                            Some(d) => format!("ALTER DOMAIN {name} SET DEFAULT {d};"),
                            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
                        },
                        &[],
                    );
                }
                if n1 != n2 {
                    out.push(
                        Phase::Types,
                        format!(
                            "ALTER DOMAIN {name} {} NOT NULL;",
                            if *n2 { "SET" } else { "DROP" }
                        ),
                        if *n2 { &[Hazard::MayFail] } else { &[] },
                    );
                }
                for c in k1 {
                    if k2.iter().find(|x| x.name == c.name) != Some(c) {
                        out.push(
                            Phase::DropConstraints,
                            format!(
                                "ALTER DOMAIN {name} DROP CONSTRAINT {};",
                                quote_ident(&c.name)
                            ),
                            &[],
                        );
                    }
                }
                for c in k2 {
                    if k1.iter().find(|x| x.name == c.name) != Some(c) {
                        out.push(
                            Phase::Types,
                            format!(
                                "ALTER DOMAIN {name} ADD CONSTRAINT {} CHECK {}{};",
                                quote_ident(&c.name),
                                c.check,
                                if c.validated { "" } else { " NOT VALID" }
                            ),
                            &[Hazard::MayFail],
                        );
                    }
                }
            }
            (TypeKind::Composite { attributes: x }, TypeKind::Composite { attributes: y }) => {
                for at in x {
                    match y.iter().find(|n| n.name == at.name) {
                        None => out.push(
                            Phase::Types,
                            format!(
                                "ALTER TYPE {name} DROP ATTRIBUTE {};",
                                quote_ident(&at.name)
                            ),
                            &[Hazard::DeletesData],
                        ),
                        Some(n) if n != at => out.push(
                            Phase::Types,
                            format!(
                                "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {};",
                                quote_ident(&n.name),
                                n.data_type
                            ),
                            &[Hazard::ChangesType],
                        ),
                        _ => {}
                    }
                }
                for n in y.iter().filter(|n| !x.iter().any(|a| a.name == n.name)) {
                    out.push(
                        Phase::Types,
                        format!(
                            "ALTER TYPE {name} ADD ATTRIBUTE {} {};",
                            quote_ident(&n.name),
                            n.data_type
                        ),
                        &[],
                    );
                }
            }
            (x, y) if x != y => {
                out.unsupported(Phase::Types, format!("type {name}: definition changed"));
            }
            _ => {}
        }
        owner(out, type_word(t), &name, Some(&old.owner), &t.owner);
        comment(
            out,
            type_word(t),
            &name,
            old.comment.as_ref(),
            t.comment.as_ref(),
        );
        acl(out, "TYPE", &name, None, &old.acl, &t.acl, &t.owner);
    }
}

fn type_word(t: &TypeDef) -> &'static str {
    if matches!(t.kind, TypeKind::Domain { .. }) {
        "DOMAIN"
    } else {
        "TYPE"
    }
}

/// CREATE TYPE / DOMAIN alone (no comment, no grants).
fn create_type(t: &TypeDef) -> String {
    if let Some(range) = super::global::create_range(t) {
        return range;
    }
    let full = crate::ddl::type_def(t);
    let mut sql = String::new();
    for line in full.lines() {
        if line.starts_with("COMMENT ON ") || line.starts_with("GRANT ") {
            break;
        }
        sql.push_str(line);
        sql.push('\n');
    }
    sql.trim_end().to_string()
}

/// New labels inserted in place when the old ones keep their order;
/// otherwise the type is re-created and its columns converted.
fn alter_enum(
    old: &TypeDef,
    t: &TypeDef,
    before: &[String],
    after: &[String],
    to: &Objects,
    forced: &mut BTreeSet<String>,
    out: &mut Out,
) {
    let name = qualified(&t.schema, &t.name);
    let kept: Vec<&String> = after.iter().filter(|l| before.contains(l)).collect();
    let in_order = kept.len() == before.len() && kept.iter().zip(before).all(|(a, b)| *a == b);
    if in_order {
        for (i, l) in after.iter().enumerate() {
            if before.contains(l) {
                continue;
            }
            let place = match after[..i].iter().rev().find(|p| before.contains(p)) {
                Some(p) => format!(" AFTER {}", literal(p)),
                None => match after[i + 1..].iter().find(|p| before.contains(p)) {
                    Some(n) => format!(" BEFORE {}", literal(n)),
                    None => String::new(),
                },
            };
            // Placed by the nearest old label: a chain of new labels goes
            // in in order because each AFTER names the one before it.
            let place = match after[..i].last() {
                Some(p) if !before.contains(p) => format!(" AFTER {}", literal(p)),
                _ => place,
            };
            out.push_at(
                Phase::Types,
                format!("ALTER TYPE {name} ADD VALUE {}{place};", literal(l)),
                &[],
                Placement::Before,
            );
        }
        return;
    }
    // Labels removed or reordered: rename the old type away, create the
    // new one, convert every column through text, drop the old type.
    let temp = qualified(&t.schema, &format!("{}__driftwatch_old", t.name));
    out.push(
        Phase::DropDefaults,
        format!(
            "ALTER TYPE {name} RENAME TO {};",
            quote_ident(&format!("{}__driftwatch_old", t.name))
        ),
        &[],
    );
    out.push(Phase::Types, create_type(t), &[]);
    for (table, column) in columns_of_type(to, old) {
        let tname = qualified(&table.schema, &table.name);
        forced.insert(rel(&table.schema, &table.name));
        let col = quote_ident(&column);
        let c = table.columns.iter().find(|c| c.name == column);
        let array = c.is_some_and(|c| c.data_type.ends_with("[]"));
        let target = if array {
            format!("{name}[]")
        } else {
            name.clone()
        };
        if let Some(d) = c.and_then(|c| c.default.as_ref()) {
            out.push(
                Phase::DropDefaults,
                format!("ALTER TABLE {tname} ALTER COLUMN {col} DROP DEFAULT;"),
                &[],
            );
            out.push(
                Phase::Defaults,
                format!("ALTER TABLE {tname} ALTER COLUMN {col} SET DEFAULT {d};"),
                &[],
            );
        }
        out.push(
            Phase::Retype,
            format!(
                "ALTER TABLE {tname} ALTER COLUMN {col} TYPE {target} USING {col}::text{}::{target};",
                if array { "[]" } else { "" }
            ),
            &[Hazard::MayFail],
        );
    }
    out.push(Phase::LateFunctions, format!("DROP TYPE {temp};"), &[]);
}
