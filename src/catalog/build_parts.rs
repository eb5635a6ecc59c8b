//! The parts of relations: constraints, indexes, triggers, policies, rules.
//! Keys, actions and flags are rendered here from raw catalog columns; only
//! expressions come from the deparse phase.

use super::build::{sorted, BuildError, Lookups, Relations};
use super::checks::CheckGroups;
use super::runner::Rows;
use super::Moved;
use crate::model::{Constraint, Index, Policy, References, Rule, Trigger};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
pub(super) struct ConstraintRow {
    oid: i64,
    relid: i64,
    name: String,
    contype: String,
    columns: Vec<i32>,
    ref_columns: Vec<i32>,
    ref_relid: i64,
    on_update: String,
    on_delete: String,
    match_type: String,
    on_delete_columns: Vec<i32>,
    enforced: bool,
    triggers_disabled: bool,
    period: bool,
    deferrable: bool,
    deferred: bool,
    validated: bool,
    no_inherit: bool,
    is_local: bool,
    include_columns: Option<Vec<i32>>,
    nulls_not_distinct: bool,
    check_expr: Option<String>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct IndexRow {
    relid: i64,
    name: String,
    method: String,
    is_unique: bool,
    nulls_not_distinct: bool,
    key_count: i32,
    columns: Vec<i32>,
    opclasses: Vec<i64>,
    collations: Vec<i64>,
    key_options: Vec<i32>,
    has_expressions: bool,
    has_predicate: bool,
    options: Vec<String>,
    tablespace: Option<String>,
    valid: bool,
    partition_of: Option<String>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct IndexDeparseRow {
    relid: i64,
    name: String,
    keys: Option<Vec<String>>,
    predicate: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct TriggerRow {
    relid: i64,
    name: String,
    tgtype: i32,
    enabled: String,
    function: String,
    args: Vec<u8>,
    nargs: i32,
    columns: Vec<i32>,
    has_when: bool,
    is_constraint: bool,
    deferrable: bool,
    initially_deferred: bool,
    old_table: Option<String>,
    new_table: Option<String>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    relid: i64,
    name: String,
    command: String,
    permissive: bool,
    roles: Vec<String>,
    has_using: bool,
    using_expr: Option<String>,
    has_with_check: bool,
    with_check_expr: Option<String>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PolicyDeparseRow {
    relid: i64,
    name: String,
    using_expr: Option<String>,
    with_check_expr: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    relid: i64,
    name: String,
    enabled: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OidText {
    oid: i64,
    text: Option<String>,
}

#[derive(sqlx::FromRow)]
struct NamedText {
    relid: i64,
    name: String,
    text: Option<String>,
}

type ByName = HashMap<(i64, String), Option<String>>;

fn by_name(rows: &Rows, query: &str) -> Result<ByName, BuildError> {
    Ok(rows
        .decode::<NamedText>(query)?
        .into_iter()
        .map(|r| ((r.relid, r.name), r.text))
        .collect())
}

fn take(map: &ByName, relid: i64, name: &str, what: &str) -> Result<String, BuildError> {
    map.get(&(relid, name.to_string()))
        .cloned()
        .flatten()
        .ok_or_else(|| BuildError::Moved(Moved(format!("{what} {name} vanished"))))
}

/// Attaches constraints, indexes, triggers, policies and rules to their relations.
pub(crate) fn attach(
    rel: &mut Relations,
    rows: &Rows,
    lookups: &Lookups,
    checks: &CheckGroups,
) -> Result<(), BuildError> {
    constraints(rel, rows, lookups, checks)?;
    indexes(rel, rows, lookups)?;
    triggers(rel, rows, lookups)?;
    policies(rel, rows)?;
    rules(rel, rows)?;
    Ok(())
}

fn action(code: &str) -> String {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set-null",
        "d" => "set-default",
        _ => "no-action",
    }
    .to_string()
}

fn constraints(
    rel: &mut Relations,
    rows: &Rows,
    lookups: &Lookups,
    checks: &CheckGroups,
) -> Result<(), BuildError> {
    let exclusions = by_name(rows, "deparse_exclusions.sql")?;
    let check_texts: HashMap<i64, Option<String>> = rows
        .decode::<OidText>("deparse_checks.sql")?
        .into_iter()
        .map(|r| (r.oid, r.text))
        .collect();
    for c in rows.decode::<ConstraintRow>("constraints.sql")? {
        let Some(table) = rel.tables.get_mut(&c.relid) else {
            continue;
        };
        let names = |attnums: &[i32], relid: i64| -> Vec<String> {
            attnums.iter().map(|a| lookups.column(relid, *a)).collect()
        };
        let constraint_type = match c.contype.as_str() {
            "p" => "primary-key",
            "u" => "unique",
            "c" => "check",
            "f" => "foreign-key",
            _ => "exclusion",
        };
        let expression = match c.contype.as_str() {
            "c" => match c.check_expr {
                Some(e) => Some(e),
                None => Some(
                    checks
                        .signature_of
                        .get(&c.oid)
                        .and_then(|sig| checks.representative.get(sig))
                        .and_then(|rep| check_texts.get(rep).cloned().flatten())
                        .ok_or_else(|| {
                            BuildError::Moved(Moved(format!("constraint {} vanished", c.name)))
                        })?,
                ),
            },
            "x" => Some(take(&exclusions, c.relid, &c.name, "constraint")?),
            _ => None,
        };
        let references = (c.contype == "f").then(|| {
            Box::new(References {
                table: lookups
                    .relation(c.ref_relid)
                    .unwrap_or_else(|| format!("#{}", c.ref_relid)),
                columns: names(&c.ref_columns, c.ref_relid),
                on_update: action(&c.on_update),
                on_delete: action(&c.on_delete),
                on_delete_columns: names(&c.on_delete_columns, c.relid),
                period: c.period,
                match_type: match c.match_type.as_str() {
                    "f" => "full",
                    "p" => "partial",
                    _ => "simple",
                }
                .to_string(),
            })
        });
        table.constraints.push(Constraint {
            name: c.name,
            constraint_type: constraint_type.to_string(),
            columns: if c.contype == "c" {
                Vec::new()
            } else {
                names(&c.columns, c.relid)
            },
            include: names(&c.include_columns.unwrap_or_default(), c.relid),
            nulls_not_distinct: c.nulls_not_distinct,
            expression,
            references,
            deferrable: c.deferrable,
            initially_deferred: c.deferred,
            validated: c.validated,
            not_enforced: !c.enforced,
            triggers_disabled: c.triggers_disabled,
            without_overlaps: c.period && matches!(c.contype.as_str(), "p" | "u"),
            // Only CHECK constraints can be NO INHERIT; PostgreSQL sets the
            // flag on keys too, where it means nothing.
            no_inherit: c.contype == "c" && c.no_inherit,
            inherited: !c.is_local,
            comment: c.comment,
        });
    }
    Ok(())
}

fn indexes(rel: &mut Relations, rows: &Rows, lookups: &Lookups) -> Result<(), BuildError> {
    let deparsed: HashMap<(i64, String), IndexDeparseRow> = rows
        .decode::<IndexDeparseRow>("deparse_indexes.sql")?
        .into_iter()
        .map(|r| ((r.relid, r.name.clone()), r))
        .collect();
    for i in rows.decode::<IndexRow>("indexes.sql")? {
        let wanted = rel.tables.contains_key(&i.relid) || rel.matviews.contains_key(&i.relid);
        if !wanted {
            continue;
        }
        let extra =
            if i.has_expressions || i.has_predicate {
                Some(deparsed.get(&(i.relid, i.name.clone())).ok_or_else(|| {
                    BuildError::Moved(Moved(format!("index {} vanished", i.name)))
                })?)
            } else {
                None
            };
        let key_count = usize::try_from(i.key_count).unwrap_or(0);
        let mut keys = Vec::with_capacity(key_count);
        for k in 0..key_count.min(i.columns.len()) {
            let attnum = i.columns[k];
            let mut key = if attnum == 0 {
                extra
                    .and_then(|e| e.keys.as_ref())
                    .and_then(|ks| ks.get(k).cloned())
                    .unwrap_or_else(|| "(?)".into())
            } else {
                lookups.column(i.relid, attnum)
            };
            let column_collation = lookups.columns.get(&(i.relid, attnum)).map(|c| c.1);
            if let Some(&coll) = i.collations.get(k) {
                // 100 is the database default collation.
                let differs = match column_collation {
                    Some(cc) => coll != cc,
                    None => coll != 100,
                };
                if coll != 0 && differs {
                    if let Some(name) = lookups.collation(coll) {
                        key.push_str(" COLLATE ");
                        key.push_str(&name);
                    }
                }
            }
            if let Some((name, is_default)) =
                i.opclasses.get(k).and_then(|o| lookups.opclasses.get(o))
            {
                if !is_default {
                    key.push(' ');
                    key.push_str(name);
                }
            }
            let option = i.key_options.get(k).copied().unwrap_or(0);
            let (desc, nulls_first) = (option & 1 != 0, option & 2 != 0);
            if desc {
                key.push_str(" DESC");
                if !nulls_first {
                    key.push_str(" NULLS LAST");
                }
            } else if nulls_first {
                key.push_str(" NULLS FIRST");
            }
            keys.push(key);
        }
        let include = i.columns[key_count.min(i.columns.len())..]
            .iter()
            .map(|a| lookups.column(i.relid, *a))
            .collect();
        let index = Index {
            name: i.name,
            unique: i.is_unique,
            method: i.method,
            keys,
            include,
            nulls_not_distinct: i.nulls_not_distinct,
            predicate: extra.and_then(|e| e.predicate.clone()),
            options: sorted(i.options),
            tablespace: i.tablespace,
            partition_of: i.partition_of,
            valid: i.valid,
            comment: i.comment,
        };
        if let Some(t) = rel.tables.get_mut(&i.relid) {
            t.indexes.push(index);
        } else if let Some(m) = rel.matviews.get_mut(&i.relid) {
            m.indexes.push(index);
        }
    }
    Ok(())
}

fn enabled(code: &str) -> String {
    match code {
        "D" => "disabled",
        "R" => "replica",
        "A" => "always",
        _ => "origin",
    }
    .to_string()
}

/// Cuts the WHEN condition out of a `pg_get_triggerdef` text: the
/// parenthesised group after ` WHEN `, without its outer parentheses.
pub(crate) fn when_clause(definition: &str) -> Option<String> {
    let start = definition.find(" WHEN (")? + " WHEN ".len();
    let bytes = definition.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    for (offset, &b) in bytes[start..].iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(definition[start + 1..start + offset].to_string());
                    }
                }
                _ => {}
            },
        }
    }
    None
}

fn triggers(rel: &mut Relations, rows: &Rows, lookups: &Lookups) -> Result<(), BuildError> {
    let deparsed = by_name(rows, "deparse_triggers.sql")?;
    for t in rows.decode::<TriggerRow>("triggers.sql")? {
        let on_table = rel.tables.contains_key(&t.relid);
        if !on_table && !rel.views.contains_key(&t.relid) {
            continue;
        }
        let timing = if t.tgtype & 2 != 0 {
            "before"
        } else if t.tgtype & 64 != 0 {
            "instead-of"
        } else {
            "after"
        };
        let mut events = Vec::new();
        if t.tgtype & 4 != 0 {
            events.push("insert".to_string());
        }
        if t.tgtype & 8 != 0 {
            events.push("delete".to_string());
        }
        if t.tgtype & 16 != 0 {
            if t.columns.is_empty() {
                events.push("update".to_string());
            } else {
                let cols: Vec<String> = t
                    .columns
                    .iter()
                    .map(|a| lookups.column(t.relid, *a))
                    .collect();
                events.push(format!("update of {}", cols.join(", ")));
            }
        }
        if t.tgtype & 32 != 0 {
            events.push("truncate".to_string());
        }
        let arguments: Vec<String> = t
            .args
            .split(|b| *b == 0)
            .take(usize::try_from(t.nargs).unwrap_or(0))
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let when = if t.has_when {
            let def = take(&deparsed, t.relid, &t.name, "trigger")?;
            Some(when_clause(&def).unwrap_or(def))
        } else {
            None
        };
        let trigger = Trigger {
            name: t.name,
            timing: timing.to_string(),
            events,
            level: if t.tgtype & 1 != 0 {
                "row"
            } else {
                "statement"
            }
            .to_string(),
            function: t.function,
            arguments,
            when,
            constraint: t.is_constraint,
            deferrable: t.deferrable,
            initially_deferred: t.initially_deferred,
            old_table: t.old_table,
            new_table: t.new_table,
            enabled: enabled(&t.enabled),
            comment: t.comment,
        };
        if let Some(table) = rel.tables.get_mut(&t.relid) {
            table.triggers.push(trigger);
        } else if let Some(view) = rel.views.get_mut(&t.relid) {
            view.triggers.push(trigger);
        }
    }
    Ok(())
}

fn policies(rel: &mut Relations, rows: &Rows) -> Result<(), BuildError> {
    let deparsed: HashMap<(i64, String), PolicyDeparseRow> = rows
        .decode::<PolicyDeparseRow>("deparse_policies.sql")?
        .into_iter()
        .map(|r| ((r.relid, r.name.clone()), r))
        .collect();
    for p in rows.decode::<PolicyRow>("policies.sql")? {
        let Some(table) = rel.tables.get_mut(&p.relid) else {
            continue;
        };
        let late = deparsed.get(&(p.relid, p.name.clone()));
        let pick =
            |has: bool,
             early: Option<String>,
             late: Option<&Option<String>>|
             -> Result<Option<String>, BuildError> {
                if !has {
                    return Ok(None);
                }
                match early {
                    Some(e) => Ok(Some(e)),
                    None => late.cloned().flatten().map(Some).ok_or_else(|| {
                        BuildError::Moved(Moved(format!("policy {} vanished", p.name)))
                    }),
                }
            };
        let using = pick(
            p.has_using,
            p.using_expr.clone(),
            late.map(|l| &l.using_expr),
        )?;
        let with_check = pick(
            p.has_with_check,
            p.with_check_expr.clone(),
            late.map(|l| &l.with_check_expr),
        )?;
        let command = match p.command.as_str() {
            "r" => "select",
            "a" => "insert",
            "w" => "update",
            "d" => "delete",
            _ => "all",
        };
        table.policies.push(Policy {
            name: p.name,
            command: command.to_string(),
            permissive: p.permissive,
            roles: sorted(
                p.roles
                    .iter()
                    .map(|r| match r.as_str() {
                        "" => crate::model::Grantee::Public.key(),
                        role => crate::model::Grantee::role(role).key(),
                    })
                    .collect(),
            ),
            using,
            with_check,
            comment: p.comment,
        });
    }
    Ok(())
}

fn rules(rel: &mut Relations, rows: &Rows) -> Result<(), BuildError> {
    let deparsed = by_name(rows, "deparse_rules.sql")?;
    for r in rows.decode::<RuleRow>("rules.sql")? {
        let on_table = rel.tables.contains_key(&r.relid);
        if !on_table && !rel.views.contains_key(&r.relid) {
            continue;
        }
        let rule = Rule {
            definition: take(&deparsed, r.relid, &r.name, "rule")?,
            name: r.name,
            enabled: enabled(&r.enabled),
            comment: r.comment,
        };
        if let Some(t) = rel.tables.get_mut(&r.relid) {
            t.rules.push(rule);
        } else if let Some(v) = rel.views.get_mut(&r.relid) {
            v.rules.push(rule);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::when_clause;

    #[test]
    fn when_clause_is_cut_out_with_nested_parens_and_quotes() {
        let def = "CREATE TRIGGER t BEFORE UPDATE ON public.a FOR EACH ROW WHEN ((old.x IS DISTINCT FROM new.x) AND (new.y <> ')')) EXECUTE FUNCTION public.f()";
        assert_eq!(
            when_clause(def).as_deref(),
            Some("(old.x IS DISTINCT FROM new.x) AND (new.y <> ')')")
        );
        assert_eq!(
            when_clause("CREATE TRIGGER t AFTER INSERT ON a EXECUTE FUNCTION f()"),
            None
        );
    }
}
