//! Everything but tables: schemas, extensions, collations, types,
//! sequences, functions, statistics, default privileges, and the views and
//! materialized views (planned last: they depend on everything else).

use super::deps::{rel, Graph};
use super::privileges::{acl, comment, literal, owner, public_defaults};
use super::{phase, Hazard, Out, Placement};
use crate::ddl::{index_statement, trigger_state, trigger_statement};
use crate::diff::Keyed;
use crate::model::{
    qualified, quote_ident, Function, MaterializedView, Objects, Sequence, TypeDef, TypeKind, View,
};
use std::collections::{BTreeMap, BTreeSet};

fn by_key<T: Keyed>(list: &[T]) -> BTreeMap<String, &T> {
    list.iter().map(|x| (x.key(), x)).collect()
}

/// Plans the kinds other than tables and views; adds to `forced` the
/// relations and functions (`fn:schema.name`) whose readers must be
/// re-created.
pub(super) fn plan(from: &Objects, to: &Objects, forced: &mut BTreeSet<String>, out: &mut Out) {
    schemas_and_extensions(from, to, out);
    types(from, to, forced, out);
    sequences(from, to, out);
    functions(from, to, forced, out);
    statistics(from, to, out);
}

fn schemas_and_extensions(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = (by_key(&from.extensions), by_key(&to.extensions));
    for (k, e) in &a {
        if !b.contains_key(k) {
            out.push(
                phase::DROP_SCHEMAS,
                format!("DROP EXTENSION {};", quote_ident(&e.name)),
                &[Hazard::DeletesData],
            );
        }
    }
    for (k, e) in &b {
        match a.get(k) {
            None => out.push(
                phase::EXTENSIONS,
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {};",
                    quote_ident(&e.name),
                    quote_ident(&e.schema),
                    literal(&e.version)
                ),
                &[],
            ),
            Some(old) => {
                if old.schema != e.schema {
                    out.push(
                        phase::EXTENSIONS,
                        format!(
                            "ALTER EXTENSION {} SET SCHEMA {};",
                            quote_ident(&e.name),
                            quote_ident(&e.schema)
                        ),
                        &[],
                    );
                }
                if old.version != e.version {
                    out.push(
                        phase::EXTENSIONS,
                        format!(
                            "ALTER EXTENSION {} UPDATE TO {};",
                            quote_ident(&e.name),
                            literal(&e.version)
                        ),
                        &[Hazard::UpgradesExtension],
                    );
                }
            }
        }
    }
    let (a, b) = (by_key(&from.schemas), by_key(&to.schemas));
    for (k, s) in &a {
        if !b.contains_key(k) {
            out.push(
                phase::DROP_SCHEMAS,
                format!("DROP SCHEMA {};", quote_ident(&s.name)),
                &[Hazard::DeletesData],
            );
        }
    }
    for (k, s) in &b {
        let name = quote_ident(&s.name);
        let old = a.get(k);
        if old.is_none() {
            out.push(phase::SCHEMAS, format!("CREATE SCHEMA {name};"), &[]);
        }
        owner(
            out,
            "SCHEMA",
            &name,
            old.map(|o| o.owner.as_str()),
            &s.owner,
        );
        comment(
            out,
            "SCHEMA",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            s.comment.as_ref(),
        );
        acl(
            out,
            "SCHEMA",
            &name,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &s.acl,
            &s.owner,
        );
    }
    let (a, b) = (by_key(&from.collations), by_key(&to.collations));
    for (k, c) in &a {
        if b.get(k) != Some(c) {
            // A removed collation goes once no column uses it; a changed
            // one before its new definition takes the name.
            out.push(
                if b.contains_key(k) {
                    phase::DROP_TYPES
                } else {
                    phase::LATE_DROP_COLLATIONS
                },
                format!("DROP COLLATION {};", qualified(&c.schema, &c.name)),
                &[],
            );
        }
    }
    for (k, c) in &b {
        if a.get(k) == Some(c) {
            continue;
        }
        let mut parts = vec![format!("provider = {}", c.provider)];
        if let Some(l) = &c.icu_locale {
            parts.push(format!("locale = {}", literal(l)));
        }
        if let Some(l) = &c.builtin_locale {
            parts.push(format!("locale = {}", literal(l)));
        }
        if let Some(l) = &c.lc_collate {
            parts.push(format!("lc_collate = {}", literal(l)));
        }
        if let Some(l) = &c.lc_ctype {
            parts.push(format!("lc_ctype = {}", literal(l)));
        }
        if let Some(r) = &c.icu_rules {
            parts.push(format!("rules = {}", literal(r)));
        }
        if !c.deterministic {
            parts.push("deterministic = false".into());
        }
        let name = qualified(&c.schema, &c.name);
        out.push(
            phase::SCHEMAS,
            format!("CREATE COLLATION {name} ({});", parts.join(", ")),
            &[],
        );
        owner(out, "COLLATION", &name, None, &c.owner);
        comment(out, "COLLATION", &name, None, c.comment.as_ref());
    }
}

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

fn types(from: &Objects, to: &Objects, forced: &mut BTreeSet<String>, out: &mut Out) {
    let (a, b) = (by_key(&from.types), by_key(&to.types));
    for (k, t) in &a {
        if !b.contains_key(k) {
            out.push(
                phase::LATE_DROPS,
                format!("DROP {} {};", type_word(t), qualified(&t.schema, &t.name)),
                &[],
            );
        }
    }
    for (k, t) in &b {
        let name = qualified(&t.schema, &t.name);
        let Some(old) = a.get(k) else {
            out.push(phase::TYPES, create_type(t), &[]);
            owner(out, type_word(t), &name, None, &t.owner);
            comment(out, type_word(t), &name, None, t.comment.as_ref());
            acl(
                out,
                "TYPE",
                &name,
                None,
                &public_defaults("TYPE"),
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
                    out.unsupported(phase::TYPES, format!("domain {name}: base type changed"));
                }
                if d1 != d2 {
                    out.push(
                        phase::TYPES,
                        match d2 {
                            Some(d) => format!("ALTER DOMAIN {name} SET DEFAULT {d};"),
                            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
                        },
                        &[],
                    );
                }
                if n1 != n2 {
                    out.push(
                        phase::TYPES,
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
                            phase::DROP_CONSTRAINTS,
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
                            phase::TYPES,
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
                            phase::TYPES,
                            format!(
                                "ALTER TYPE {name} DROP ATTRIBUTE {};",
                                quote_ident(&at.name)
                            ),
                            &[Hazard::DeletesData],
                        ),
                        Some(n) if n != at => out.push(
                            phase::TYPES,
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
                        phase::TYPES,
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
                out.unsupported(phase::TYPES, format!("type {name}: definition changed"));
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
                phase::TYPES,
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
        phase::DROP_DEFAULTS,
        format!(
            "ALTER TYPE {name} RENAME TO {};",
            quote_ident(&format!("{}__driftwatch_old", t.name))
        ),
        &[],
    );
    out.push(phase::TYPES, create_type(t), &[]);
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
                phase::DROP_DEFAULTS,
                format!("ALTER TABLE {tname} ALTER COLUMN {col} DROP DEFAULT;"),
                &[],
            );
            out.push(
                phase::DEFAULTS,
                format!("ALTER TABLE {tname} ALTER COLUMN {col} SET DEFAULT {d};"),
                &[],
            );
        }
        out.push(
            phase::RETYPE,
            format!(
                "ALTER TABLE {tname} ALTER COLUMN {col} TYPE {target} USING {col}::text{}::{target};",
                if array { "[]" } else { "" }
            ),
            &[Hazard::MayFail],
        );
    }
    out.push(phase::LATE_FUNCTIONS, format!("DROP TYPE {temp};"), &[]);
}

fn sequences(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = (by_key(&from.sequences), by_key(&to.sequences));
    let column_survives = |owned: &str| {
        let mut parts = owned.rsplitn(2, '.');
        let (Some(col), Some(table)) = (parts.next(), parts.next()) else {
            return false;
        };
        to.tables.iter().any(|t| {
            (qualified(&t.schema, &t.name) == table || rel(&t.schema, &t.name) == table)
                && t.columns
                    .iter()
                    .any(|c| quote_ident(&c.name) == col || c.name == col)
        })
    };
    for (k, s) in &a {
        if b.contains_key(k) {
            continue;
        }
        // A serial's sequence goes with its column.
        if s.owned_by.as_deref().is_some_and(|o| !column_survives(o)) {
            continue;
        }
        out.push(
            phase::DROP_SEQUENCES,
            format!("DROP SEQUENCE {};", qualified(&s.schema, &s.name)),
            &[],
        );
    }
    for (k, s) in &b {
        let name = qualified(&s.schema, &s.name);
        let old = a.get(k);
        match old {
            None => {
                out.push(phase::SEQUENCES, create_sequence(s), &[]);
                if let Some(by) = &s.owned_by {
                    out.push(
                        phase::SEQUENCE_OWNERS,
                        format!("ALTER SEQUENCE {name} OWNED BY {by};"),
                        &[],
                    );
                }
            }
            Some(o) => {
                let (x, y) = (&o.options, &s.options);
                let mut parts = Vec::new();
                if x.data_type != y.data_type {
                    parts.push(format!("AS {}", y.data_type));
                }
                if x.increment != y.increment {
                    parts.push(format!("INCREMENT BY {}", y.increment));
                }
                if x.min != y.min {
                    parts.push(format!("MINVALUE {}", y.min));
                }
                if x.max != y.max {
                    parts.push(format!("MAXVALUE {}", y.max));
                }
                if x.start != y.start {
                    parts.push(format!("START WITH {}", y.start));
                }
                if x.cache != y.cache {
                    parts.push(format!("CACHE {}", y.cache));
                }
                if x.cycle != y.cycle {
                    parts.push(if y.cycle { "CYCLE" } else { "NO CYCLE" }.into());
                }
                if !parts.is_empty() {
                    out.push(
                        phase::SEQUENCES,
                        format!("ALTER SEQUENCE {name} {};", parts.join(" ")),
                        &[],
                    );
                }
                if o.owned_by != s.owned_by {
                    out.push(
                        phase::SEQUENCE_OWNERS,
                        format!(
                            "ALTER SEQUENCE {name} OWNED BY {};",
                            s.owned_by.as_deref().unwrap_or("NONE")
                        ),
                        &[],
                    );
                }
            }
        }
        // A sequence owned by a column follows its table's owner (ALTER
        // TABLE … OWNER TO moves it; ALTER SEQUENCE … OWNER TO is refused).
        if s.owned_by.is_none() {
            owner(
                out,
                "SEQUENCE",
                &name,
                old.map(|o| o.owner.as_str()),
                &s.owner,
            );
        }
        comment(
            out,
            "SEQUENCE",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            s.comment.as_ref(),
        );
        acl(
            out,
            "SEQUENCE",
            &name,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &s.acl,
            &s.owner,
        );
    }
}

fn create_sequence(s: &Sequence) -> String {
    let o = &s.options;
    format!(
        "CREATE {}SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{};",
        if s.unlogged { "UNLOGGED " } else { "" },
        qualified(&s.schema, &s.name),
        o.data_type,
        o.increment,
        o.min,
        o.max,
        o.start,
        o.cache,
        if o.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

fn function_word(f: &Function) -> &'static str {
    match f.kind.as_str() {
        "procedure" => "PROCEDURE",
        "aggregate" => "AGGREGATE",
        _ => "FUNCTION",
    }
}

/// `schema.name(identity arguments)`.
fn function_id(f: &Function) -> String {
    format!("{}({})", qualified(&f.schema, &f.name), f.arguments)
}

/// CREATE [OR REPLACE] FUNCTION / PROCEDURE with every attribute.
fn create_function(f: &Function, replace: bool) -> String {
    let word = function_word(f);
    let mut s = format!(
        "CREATE {}{word} {}({})",
        if replace { "OR REPLACE " } else { "" },
        qualified(&f.schema, &f.name),
        f.signature
    );
    if let Some(r) = &f.returns {
        s.push_str(&format!(" RETURNS {r}"));
    }
    s.push_str(&format!("\n    LANGUAGE {}", quote_ident(&f.language)));
    if f.kind == "window" {
        s.push_str(" WINDOW");
    }
    if word == "FUNCTION" {
        s.push_str(&format!(
            " {} PARALLEL {}",
            f.volatility.to_uppercase(),
            f.parallel.to_uppercase()
        ));
        if f.strict {
            s.push_str(" STRICT");
        }
        if f.leakproof {
            s.push_str(" LEAKPROOF");
        }
        s.push_str(&format!(" COST {}", f.cost));
        if let Some(r) = f.rows {
            s.push_str(&format!(" ROWS {r}"));
        }
    }
    if f.security_definer {
        s.push_str(" SECURITY DEFINER");
    }
    for c in &f.config {
        let (k, v) = c.split_once('=').unwrap_or((c, ""));
        // List settings print as their list (`app, pg_temp`): quoting it
        // would make one odd schema name of it.
        let list =
            k.ends_with("search_path") || k.ends_with("_tablespaces") || k.ends_with("_libraries");
        let v = if list { v.to_string() } else { literal(v) };
        s.push_str(&format!(" SET {k} = {v}"));
    }
    let body = f.body.clone().unwrap_or_default();
    let mut tag = "$body$".to_string();
    while body.contains(&tag) {
        tag = format!("${}x$", &tag[1..tag.len() - 1]);
    }
    if standard_body(f) {
        s.push_str(&format!("\n{};", body.trim_end().trim_end_matches(';')));
    } else {
        s.push_str(&format!("\nAS {tag}{body}{tag};"));
    }
    s
}

/// A SQL-standard body (`RETURN …`, `BEGIN ATOMIC … END`): parsed when
/// the function is created, and tracked as a dependency of what it reads.
fn standard_body(f: &Function) -> bool {
    let body = f
        .body
        .as_deref()
        .unwrap_or_default()
        .trim_start()
        .to_uppercase();
    f.language == "sql" && (body.starts_with("RETURN ") || body.starts_with("BEGIN ATOMIC"))
}

fn functions(from: &Objects, to: &Objects, forced: &mut BTreeSet<String>, out: &mut Out) {
    let (a, b) = (by_key(&from.functions), by_key(&to.functions));
    // Functions whose signature names a relation this migration creates
    // wait for it.
    let new_relations: Vec<String> = to
        .tables
        .iter()
        .map(|t| (&t.schema, &t.name))
        .chain(to.views.iter().map(|v| (&v.schema, &v.name)))
        .filter(|(s, n)| {
            !from.tables.iter().any(|t| &t.schema == *s && &t.name == *n)
                && !from.views.iter().any(|v| &v.schema == *s && &v.name == *n)
        })
        .flat_map(|(s, n)| [qualified(s, n), rel(s, n)])
        .collect();
    // Functions whose signature names a relation that goes are dropped
    // before it; the others after the tables (whose triggers and defaults
    // may call them).
    let gone_relations: Vec<String> = from
        .tables
        .iter()
        .map(|t| (&t.schema, &t.name))
        .chain(from.views.iter().map(|v| (&v.schema, &v.name)))
        .filter(|(s, n)| {
            !to.tables.iter().any(|t| &t.schema == *s && &t.name == *n)
                && !to.views.iter().any(|v| &v.schema == *s && &v.name == *n)
        })
        .flat_map(|(s, n)| [qualified(s, n), rel(s, n)])
        .collect();
    let recreated = |o: &Function, f: &Function| {
        o.kind != f.kind || o.returns != f.returns || o.signature != f.signature
    };
    for (k, f) in &a {
        let gone = match b.get(k) {
            None => true,
            Some(n) => recreated(f, n),
        };
        if gone {
            forced.insert(format!("fn:{}.{}", f.schema, f.name));
            let early = standard_body(f)
                || gone_relations.iter().any(|r| {
                    f.signature.contains(r.as_str())
                        || f.returns.as_deref().is_some_and(|x| x.contains(r.as_str()))
                });
            out.push(
                if early {
                    phase::DROP_FUNCTIONS
                } else {
                    phase::DROP_LATE_FUNCTIONS
                },
                format!("DROP {} {};", function_word(f), function_id(f)),
                &[],
            );
        }
    }
    for (k, f) in &b {
        let id = function_id(f);
        let word = function_word(f);
        let old = a.get(k).filter(|o| !recreated(o, f));
        if f.aggregate.is_some() {
            if old.is_none_or_changed(f) {
                if let Some(o) = old {
                    out.push(
                        phase::DROP_FUNCTIONS,
                        format!("DROP AGGREGATE {};", function_id(o)),
                        &[],
                    );
                }
                if let Some(sql) = super::global::create_aggregate(f) {
                    out.push(phase::LATE_FUNCTIONS, sql, &[]);
                }
                comment(out, "AGGREGATE", &id, None, f.comment.as_ref());
                let defaults = public_defaults("FUNCTION");
                acl(out, "FUNCTION", &id, None, &defaults, &f.acl, &f.owner);
            }
            continue;
        }
        let late = standard_body(f)
            || new_relations.iter().any(|r| {
                f.signature.contains(r.as_str())
                    || f.returns.as_deref().is_some_and(|x| x.contains(r.as_str()))
            });
        let at = if late {
            phase::LATE_FUNCTIONS
        } else {
            phase::FUNCTIONS
        };
        match old {
            None => out.push(at, create_function(f, false), &[]),
            Some(o) => {
                let same_code = Function {
                    owner: String::new(),
                    comment: None,
                    acl: Vec::new(),
                    ..(*o).clone()
                } == Function {
                    owner: String::new(),
                    comment: None,
                    acl: Vec::new(),
                    ..(*f).clone()
                };
                if !same_code {
                    out.push(
                        at,
                        create_function(f, true),
                        &[Hazard::UntrackableDependencies],
                    );
                }
            }
        }
        owner(out, word, &id, old.map(|o| o.owner.as_str()), &f.owner);
        comment(
            out,
            word,
            &id,
            old.and_then(|o| o.comment.as_ref()),
            f.comment.as_ref(),
        );
        let defaults = public_defaults(word);
        acl(
            out,
            word,
            &id,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&defaults),
            &f.acl,
            &f.owner,
        );
    }
}

/// `None`, or an old version unlike `f`.
trait ChangedFrom {
    fn is_none_or_changed(&self, f: &Function) -> bool;
}

impl ChangedFrom for Option<&&Function> {
    fn is_none_or_changed(&self, f: &Function) -> bool {
        match self {
            None => true,
            Some(o) => **o != f,
        }
    }
}

fn statistics(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = (by_key(&from.statistics), by_key(&to.statistics));
    for (k, s) in &a {
        if b.get(k) != Some(s) {
            out.push(
                phase::DROP_CONSTRAINTS,
                format!("DROP STATISTICS {};", qualified(&s.schema, &s.name)),
                &[],
            );
        }
    }
    for (k, s) in &b {
        if a.get(k) == Some(s) {
            continue;
        }
        let name = qualified(&s.schema, &s.name);
        let kinds = if s.kinds.is_empty() || s.kinds == ["expressions"] {
            String::new()
        } else {
            format!(
                " ({})",
                s.kinds
                    .iter()
                    .filter(|k| *k != "expressions")
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(
            phase::OTHERS,
            format!(
                "CREATE STATISTICS {name}{kinds} ON {} FROM {};",
                s.keys.join(", "),
                s.table
            ),
            &[],
        );
        if let Some(t) = s.target {
            out.push(
                phase::OTHERS,
                format!("ALTER STATISTICS {name} SET STATISTICS {t};"),
                &[],
            );
        }
        comment(out, "STATISTICS", &name, None, s.comment.as_ref());
    }
}

/// A relation a view plan handles: a view or a materialized view.
enum Relation<'a> {
    View(&'a View),
    Matview(&'a MaterializedView),
}

impl Relation<'_> {
    /// Alike in what a re-creation would change (query, options, columns).
    fn same_shape(&self, other: &Relation<'_>) -> bool {
        let cols = |c: &[crate::model::Column]| -> Vec<(String, String)> {
            c.iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect()
        };
        match (self, other) {
            (Relation::View(a), Relation::View(b)) => {
                a.definition == b.definition
                    && a.options == b.options
                    && cols(&a.columns) == cols(&b.columns)
            }
            (Relation::Matview(a), Relation::Matview(b)) => {
                a.definition == b.definition
                    && a.options == b.options
                    && a.tablespace == b.tablespace
                    && a.access_method == b.access_method
                    && cols(&a.columns) == cols(&b.columns)
            }
            _ => false,
        }
    }
}

fn relations(objects: &Objects) -> BTreeMap<String, Relation<'_>> {
    let mut out = BTreeMap::new();
    for v in &objects.views {
        out.insert(rel(&v.schema, &v.name), Relation::View(v));
    }
    for m in &objects.materialized_views {
        out.insert(rel(&m.schema, &m.name), Relation::Matview(m));
    }
    out
}

/// Views and materialized views: dropped when gone, changed, or reading
/// something dropped, re-typed or re-created (and so on up the chain);
/// created in dependency order; altered in place otherwise.
pub(super) fn plan_views(
    from: &Objects,
    to: &Objects,
    graph: &Graph,
    forced: &BTreeSet<String>,
    out: &mut Out,
) {
    let (a, b) = (relations(from), relations(to));
    let mut drop: BTreeSet<String> = a
        .iter()
        .filter(|(k, v)| !b.get(*k).is_some_and(|n| v.same_shape(n)))
        .map(|(k, _)| k.clone())
        .collect();
    loop {
        let before = drop.len();
        for k in a.keys() {
            if drop.contains(k) {
                continue;
            }
            let reads = graph.reads_from(k);
            let hit =
                reads.is_some_and(|r| r.iter().any(|x| forced.contains(x) || drop.contains(x)));
            if hit {
                drop.insert(k.clone());
            }
        }
        if drop.len() == before {
            break;
        }
    }
    for k in graph.drop_order(&drop) {
        let sql = match &a[&k] {
            Relation::View(v) => format!("DROP VIEW {};", qualified(&v.schema, &v.name)),
            Relation::Matview(m) => {
                format!("DROP MATERIALIZED VIEW {};", qualified(&m.schema, &m.name))
            }
        };
        let hazards: &[Hazard] = if matches!(a[&k], Relation::Matview(_)) && !b.contains_key(&k) {
            &[Hazard::DeletesData]
        } else {
            &[]
        };
        out.push(phase::DROP_VIEWS, sql, hazards);
    }
    let create: BTreeSet<String> = b
        .keys()
        .filter(|k| !a.contains_key(*k) || drop.contains(*k))
        .cloned()
        .collect();
    for k in graph.create_order(&create) {
        let recreated = a.contains_key(&k);
        match &b[&k] {
            Relation::View(v) => create_view(v, recreated, out),
            Relation::Matview(m) => create_matview(m, recreated, out),
        }
    }
    for (k, v) in &b {
        if create.contains(k) {
            continue;
        }
        match (&a[k], v) {
            (Relation::View(o), Relation::View(n)) => alter_view(o, n, out),
            (Relation::Matview(o), Relation::Matview(n)) => alter_matview(o, n, out),
            _ => {}
        }
    }
}

fn create_view(v: &View, recreated: bool, out: &mut Out) {
    let name = qualified(&v.schema, &v.name);
    let with = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    out.push(
        phase::VIEWS,
        format!(
            "CREATE VIEW {name}{with} AS\n{};",
            v.definition.trim_end().trim_end_matches(';')
        ),
        &[],
    );
    let empty = View {
        acl: Vec::new(),
        comment: None,
        triggers: Vec::new(),
        columns: v
            .columns
            .iter()
            .map(|c| crate::model::Column {
                comment: None,
                acl: Vec::new(),
                default: None,
                ..c.clone()
            })
            .collect(),
        owner: if recreated {
            String::new()
        } else {
            v.owner.clone()
        },
        ..v.clone()
    };
    alter_view(&empty, v, out);
}

fn alter_view(o: &View, v: &View, out: &mut Out) {
    let name = qualified(&v.schema, &v.name);
    for c in &v.columns {
        let old = o.columns.iter().find(|x| x.name == c.name);
        let col = quote_ident(&c.name);
        let before_default = old.and_then(|o| o.default.as_ref());
        if before_default != c.default.as_ref() {
            out.push(
                phase::VIEWS,
                match &c.default {
                    Some(d) => format!("ALTER VIEW {name} ALTER COLUMN {col} SET DEFAULT {d};"),
                    None => format!("ALTER VIEW {name} ALTER COLUMN {col} DROP DEFAULT;"),
                },
                &[],
            );
        }
        comment(
            out,
            "COLUMN",
            &format!("{name}.{col}"),
            old.and_then(|o| o.comment.as_ref()),
            c.comment.as_ref(),
        );
        acl(
            out,
            "TABLE",
            &name,
            Some(&col),
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &c.acl,
            "",
        );
    }
    for t in &o.triggers {
        if v.triggers.iter().find(|x| x.name == t.name) != Some(t) {
            out.push(
                phase::DROP_TRIGGERS,
                format!("DROP TRIGGER {} ON {name};", quote_ident(&t.name)),
                &[],
            );
        }
    }
    for t in &v.triggers {
        if o.triggers.iter().find(|x| x.name == t.name) != Some(t) {
            out.push(phase::TRIGGERS, trigger_statement(t, &name), &[]);
            if let Some(s) = trigger_state(t, &name) {
                out.push(phase::TRIGGERS, s, &[]);
            }
        }
    }
    let before_owner = (!o.owner.is_empty()).then_some(o.owner.as_str());
    owner(out, "VIEW", &name, before_owner, &v.owner);
    comment(out, "VIEW", &name, o.comment.as_ref(), v.comment.as_ref());
    acl(out, "TABLE", &name, None, &o.acl, &v.acl, &v.owner);
}

fn create_matview(m: &MaterializedView, recreated: bool, out: &mut Out) {
    let name = qualified(&m.schema, &m.name);
    let with = if m.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", m.options.join(", "))
    };
    out.push(
        phase::VIEWS,
        format!(
            "CREATE MATERIALIZED VIEW {name}{with} AS\n{};",
            m.definition.trim_end().trim_end_matches(';')
        ),
        &[],
    );
    for i in &m.indexes {
        out.push(
            phase::VIEWS,
            index_statement(i, &name, false),
            &[Hazard::IndexBuild],
        );
    }
    let empty = MaterializedView {
        acl: Vec::new(),
        comment: None,
        indexes: m.indexes.clone(),
        columns: m
            .columns
            .iter()
            .map(|c| crate::model::Column {
                comment: None,
                ..c.clone()
            })
            .collect(),
        owner: if recreated {
            String::new()
        } else {
            m.owner.clone()
        },
        ..m.clone()
    };
    alter_matview(&empty, m, out);
}

fn alter_matview(o: &MaterializedView, m: &MaterializedView, out: &mut Out) {
    let name = qualified(&m.schema, &m.name);
    for i in &o.indexes {
        if m.indexes.iter().find(|x| x.name == i.name) != Some(i) {
            out.push(
                phase::DROP_CONSTRAINTS,
                format!("DROP INDEX {};", qualified(&o.schema, &i.name)),
                &[],
            );
        }
    }
    for i in &m.indexes {
        if o.indexes.iter().find(|x| x.name == i.name) != Some(i) {
            out.push(
                phase::VIEWS,
                index_statement(i, &name, false),
                &[Hazard::IndexBuild],
            );
        }
    }
    for c in &m.columns {
        let old = o.columns.iter().find(|x| x.name == c.name);
        comment(
            out,
            "COLUMN",
            &format!("{name}.{}", quote_ident(&c.name)),
            old.and_then(|o| o.comment.as_ref()),
            c.comment.as_ref(),
        );
    }
    let before_owner = (!o.owner.is_empty()).then_some(o.owner.as_str());
    owner(out, "MATERIALIZED VIEW", &name, before_owner, &m.owner);
    comment(
        out,
        "MATERIALIZED VIEW",
        &name,
        o.comment.as_ref(),
        m.comment.as_ref(),
    );
    acl(out, "TABLE", &name, None, &o.acl, &m.acl, &m.owner);
}
