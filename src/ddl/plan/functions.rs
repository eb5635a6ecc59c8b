//! Functions, procedures and aggregates: `CREATE OR REPLACE` while the
//! signature stays, drop and create otherwise; drops and creates placed
//! around the tables their signatures or SQL-standard bodies name.

use super::deps::rel;
use super::pair::pair;
use super::privileges::{acl, comment, owner, public_defaults};
use super::{Hazard, Out, Phase};
use crate::diff::{Keyed, ObjectKind};
use crate::model::{qualified, quote_ident, Function, Objects};
use std::collections::{BTreeMap, BTreeSet};

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
    let mut s = crate::ddl::create_function_head(word, f, replace);
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
        s.push_str(&crate::ddl::quote::function_setting(c));
    }
    let body = f.body.as_deref().unwrap_or_default();
    if standard_body(f) {
        s.push_str(&format!("\n{};", body.trim_end().trim_end_matches(';')));
    } else {
        s.push_str(&format!("\nAS {};", crate::ddl::quote::dollar_quote(body)));
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

/// The functions each SQL-standard body calls (keys of `all`), as
/// PostgreSQL records them: the body is printed with qualified names, so a
/// call reads `schema.name(`. Other bodies are not parsed when created and
/// record nothing.
fn calls(all: &BTreeMap<String, &Function>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (k, f) in all {
        if !standard_body(f) {
            continue;
        }
        let body = f.body.as_deref().unwrap_or_default();
        let called: BTreeSet<String> = all
            .iter()
            .filter(|(other, g)| {
                *other != k && body.contains(&format!("{}(", qualified(&g.schema, &g.name)))
            })
            .map(|(other, _)| other.clone())
            .collect();
        out.insert(k.clone(), called);
    }
    out
}

/// The keys of `all` with what they call first (depth first, ties by key).
fn call_order(all: &BTreeMap<String, &Function>) -> Vec<String> {
    fn visit(
        k: &str,
        calls: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if !seen.insert(k.to_string()) {
            return;
        }
        for d in calls.get(k).into_iter().flatten() {
            visit(d, calls, seen, out);
        }
        out.push(k.to_string());
    }
    let calls = calls(all);
    let (mut seen, mut out) = (BTreeSet::new(), Vec::new());
    for k in all.keys() {
        visit(k, &calls, &mut seen, &mut out);
    }
    out
}

pub(super) fn functions(
    from: &Objects,
    to: &Objects,
    forced: &mut BTreeSet<String>,
    out: &mut Out,
) {
    let (a, b) = pair(&from.functions, &to.functions);
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
    let changed = |o: &Function, f: &Function| {
        o.kind != f.kind || o.returns != f.returns || o.signature != f.signature
    };
    // A function dropped and created again takes the SQL-standard bodies
    // that call it (PostgreSQL refuses to drop it under them) along.
    let calls_a = calls(&a);
    let mut redo: BTreeSet<String> = a
        .iter()
        .filter(|(k, f)| b.get(*k).is_some_and(|n| changed(f, n)))
        .map(|(k, _)| k.clone())
        .collect();
    loop {
        let more: Vec<String> = calls_a
            .iter()
            .filter(|(k, called)| {
                b.contains_key(*k) && !redo.contains(*k) && called.iter().any(|c| redo.contains(c))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        redo.extend(more);
    }
    let recreated = |o: &Function, _: &Function| redo.contains(&o.key());
    // A function that goes while one that stays calls it goes once the
    // caller is replaced (after the creates below).
    let deferred: BTreeSet<&String> = a
        .keys()
        .filter(|k| !b.contains_key(*k))
        .filter(|k| {
            calls_a.iter().any(|(caller, called)| {
                called.contains(*k) && b.contains_key(caller) && !redo.contains(caller)
            })
        })
        .collect();
    let mut late_drops = Vec::new();
    // Callers before what they call.
    let mut drop_order = call_order(&a);
    drop_order.reverse();
    for k in &drop_order {
        let f = a[k];
        let gone = match b.get(k) {
            None => true,
            Some(n) => recreated(f, n),
        };
        if gone && deferred.contains(k) {
            forced.insert(format!("fn:{}.{}", f.schema, f.name));
            late_drops.push(format!("DROP {} {};", function_word(f), function_id(f)));
        } else if gone {
            forced.insert(format!("fn:{}.{}", f.schema, f.name));
            let early = standard_body(f)
                || gone_relations.iter().any(|r| {
                    f.signature.contains(r.as_str())
                        || f.returns.as_deref().is_some_and(|x| x.contains(r.as_str()))
                });
            out.push(
                if early {
                    Phase::DropFunctions
                } else {
                    Phase::DropLateFunctions
                },
                format!("DROP {} {};", function_word(f), function_id(f)),
                &[],
            );
        }
    }
    for k in call_order(&b) {
        let f = b[&k];
        let id = function_id(f);
        let word = function_word(f);
        let old = a.get(&k).filter(|o| !recreated(o, f));
        if f.aggregate.is_some() {
            if old.is_none_or_changed(f) {
                if let Some(o) = old {
                    out.push(
                        Phase::DropFunctions,
                        format!("DROP AGGREGATE {};", function_id(o)),
                        &[],
                    );
                }
                if let Some(sql) = super::global::create_aggregate(f) {
                    out.push(Phase::LateFunctions, sql, &[]);
                }
                comment(out, "AGGREGATE", &id, None, f.comment.as_ref());
                let defaults = public_defaults(ObjectKind::Function);
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
            Phase::LateFunctions
        } else {
            Phase::Functions
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
        let defaults = public_defaults(ObjectKind::Function);
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
    for sql in late_drops {
        out.push(Phase::LateFunctions, sql, &[]);
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
