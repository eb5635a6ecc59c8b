//! Columns of a table that stays: type, default, NOT NULL, identity and
//! generation changes, their extras (statistics, storage, options,
//! comments, grants), and the moves `--reorder-columns` makes.

use super::casts::{self, Cast};
use super::privileges::{acl, comment, literal};
use super::reorder::{temporary, Reorder};
use super::{Hazard, Out, Phase};
use crate::ddl::{column_line, identity_clause};
use crate::model::{quote_ident, Column, Identity, Table};
use std::collections::BTreeSet;

#[allow(clippy::too_many_arguments)]
pub(super) fn alter_column(
    table: &str,
    key: &str,
    c: &Column,
    n: &Column,
    user_types: &BTreeSet<String>,
    moved: bool,
    forced: &mut BTreeSet<String>,
    out: &mut Out,
) {
    let col = quote_ident(&n.name);
    let at = |s: &str| format!("ALTER TABLE {table} ALTER COLUMN {col} {s};");
    if !moved
        && (c.details().generated != n.details().generated
            || c.details().generated_virtual != n.details().generated_virtual)
    {
        match (&c.details().generated, &n.details().generated) {
            (Some(_), None) => out.push(
                Phase::Columns,
                at("DROP EXPRESSION"),
                &[Hazard::DropsGeneration],
            ),
            _ => {
                // A plain column made generated, or another expression:
                // dropped and added again (its values are computed anew).
                forced.insert(key.to_string());
                out.drops_column(key.to_string(), &n.name);
                out.push(
                    Phase::DropColumns,
                    format!("ALTER TABLE {table} DROP COLUMN {col};"),
                    &[Hazard::DeletesData],
                );
                // A new expression may read columns re-typed here.
                out.push(
                    Phase::GeneratedColumns,
                    format!("ALTER TABLE {table} ADD COLUMN {};", column_line(n)),
                    &[],
                );
                column_extras(table, Some(c), n, out);
                return;
            }
        }
    }
    let retyped = c.data_type != n.data_type || c.collation != n.collation;
    // A widening keeps every value: it runs without --allow-drops, and its
    // default casts as the column does, so it is not dropped around it.
    let cast = if c.collation == n.collation {
        casts::classify(&c.data_type, &n.data_type)
    } else {
        Cast::MayLose
    };
    let widened = retyped && cast != Cast::MayLose;
    if c.default != n.default || (retyped && !widened && c.default.is_some()) {
        if c.default.is_some() {
            out.push(Phase::DropDefaults, at("DROP DEFAULT"), &[]);
        }
        if let Some(d) = &n.default {
            out.push(Phase::Defaults, at(&format!("SET DEFAULT {d}")), &[]);
        }
    }
    if widened {
        forced.insert(key.to_string());
        let hazards: &[Hazard] = match cast {
            Cast::Rewrite => &[Hazard::RewritesTable],
            _ => &[],
        };
        // No USING: the assignment cast is what lets PostgreSQL see that a
        // catalog-only widening needs no rewrite.
        out.push(Phase::Retype, at(&format!("TYPE {}", n.data_type)), hazards);
    } else if retyped {
        forced.insert(key.to_string());
        let collate = n
            .collation
            .as_ref()
            .map(|c| format!(" COLLATE {c}"))
            .unwrap_or_default();
        let user = |t: &str| user_types.contains(t.trim_end_matches("[]"));
        // Through text when no direct cast is known: every type converts
        // to and from it, so the statement plans, and values that do not
        // read as the new type stop it (driftwatch cannot guess a
        // conversion such as to_timestamp(col); write it by hand).
        let via = if user(&c.data_type)
            || user(&n.data_type)
            || !casts::direct(&c.data_type, &n.data_type)
        {
            if c.data_type.ends_with("[]") && n.data_type.ends_with("[]") {
                "::text[]"
            } else {
                "::text"
            }
        } else {
            ""
        };
        if via == "::text" && !user(&c.data_type) && !user(&n.data_type) {
            out.note(
                Phase::Retype,
                format!(
                    "{table}.{col}: no cast from {} to {} is known, so USING converts through text; write your own conversion if the values need one",
                    c.data_type, n.data_type
                ),
            );
        }
        out.push(
            Phase::Retype,
            at(&format!(
                "TYPE {}{collate} USING {col}{via}::{}",
                n.data_type, n.data_type
            )),
            &[Hazard::ChangesType],
        );
    }
    let mut not_null_done = false;
    match (&c.details().identity, &n.details().identity) {
        (None, Some(id)) => {
            // An identity column must be NOT NULL first; both after the
            // re-type, so the sequence's bounds fit the column's new type.
            if !c.not_null {
                out.push(Phase::Defaults, at("SET NOT NULL"), &[Hazard::MayFail]);
                not_null_done = true;
            }
            out.push(
                Phase::Defaults,
                at(&format!("ADD {}", identity_clause(id))),
                &[],
            )
        }
        (Some(_), None) => out.push(Phase::Columns, at("DROP IDENTITY"), &[]),
        (Some(x), Some(y)) => {
            // One ALTER COLUMN for every option, checked together (a new
            // MINVALUE and START are valid only as a pair). The re-type
            // gives the sequence the column's type: bounds for a wider
            // type are set after it, bounds that fit a narrower one before.
            let options = identity_options(x, y);
            let width = |t: &str| {
                ["smallint", "integer", "bigint"]
                    .iter()
                    .position(|w| *w == t)
            };
            let narrower = width(&y.sequence.data_type) < width(&x.sequence.data_type);
            // Tighter bounds refuse a current value outside them (the
            // value is data: driftwatch does not RESTART the sequence).
            let tighter = y.sequence.min > x.sequence.min || y.sequence.max < x.sequence.max;
            if !options.is_empty() {
                out.push(
                    if narrower {
                        Phase::Columns
                    } else {
                        Phase::Defaults
                    },
                    at(&options.join(" ")),
                    if tighter { &[Hazard::MayFail] } else { &[] },
                );
            }
        }
        _ => {}
    }
    if c.not_null != n.not_null && !not_null_done {
        if n.not_null {
            out.push(Phase::Defaults, at("SET NOT NULL"), &[Hazard::MayFail]);
        } else {
            out.push(Phase::Columns, at("DROP NOT NULL"), &[]);
        }
    }
    column_extras(table, Some(c), n, out);
}

/// The `SET …` clauses of ALTER COLUMN that turn identity `x` into `y`:
/// generation and sequence options (the sequence's type follows the
/// column's, set by the re-type).
fn identity_options(x: &Identity, y: &Identity) -> Vec<String> {
    let (a, b) = (&x.sequence, &y.sequence);
    let mut parts = Vec::new();
    if x.generation != y.generation {
        parts.push(format!("SET GENERATED {}", generation(&y.generation)));
    }
    let numbers = [
        ("INCREMENT BY", a.increment, b.increment),
        ("MINVALUE", a.min, b.min),
        ("MAXVALUE", a.max, b.max),
        ("START WITH", a.start, b.start),
        ("CACHE", a.cache, b.cache),
    ];
    for (word, old, new) in numbers {
        if old != new {
            parts.push(format!("SET {word} {new}"));
        }
    }
    if a.cycle != b.cycle {
        parts.push(if b.cycle { "SET CYCLE" } else { "SET NO CYCLE" }.into());
    }
    parts
}

fn generation(g: &str) -> &'static str {
    if g == "always" {
        "ALWAYS"
    } else {
        "BY DEFAULT"
    }
}

/// Statistics, storage, options, comment and grants of a column.
pub(super) fn column_extras(table: &str, c: Option<&Column>, n: &Column, out: &mut Out) {
    let col = quote_ident(&n.name);
    let at = |s: String| format!("ALTER TABLE {table} ALTER COLUMN {col} {s};");
    if c.map(|c| c.details().statistics_target) != Some(n.details().statistics_target)
        && (c.is_some() || n.details().statistics_target.is_some())
    {
        out.push(
            Phase::column_extras(c.is_some(), n),
            at(format!(
                "SET STATISTICS {}",
                n.details().statistics_target.unwrap_or(-1)
            )),
            &[],
        );
    }
    if let Some(s) = &n.details().storage {
        if c.and_then(|c| c.details().storage.as_ref()) != Some(s) {
            out.push(
                Phase::column_extras(c.is_some(), n),
                at(format!("SET STORAGE {}", s.to_uppercase())),
                &[],
            );
        }
    }
    if c.map(|c| &c.details().compression) != Some(&n.details().compression)
        && (c.is_some() || n.details().compression.is_some())
    {
        out.push(
            Phase::column_extras(c.is_some(), n),
            at(format!(
                "SET COMPRESSION {}",
                n.details().compression.as_deref().unwrap_or("default")
            )),
            &[],
        );
    }
    let old_options: &[String] = c.map(|c| c.details().options.as_slice()).unwrap_or(&[]);
    let new_options = &n.details().options;
    if old_options != new_options.as_slice() {
        let gone: Vec<String> = old_options
            .iter()
            .filter_map(|o| o.split('=').next())
            .filter(|k| !new_options.iter().any(|o| o.split('=').next() == Some(k)))
            .map(str::to_string)
            .collect();
        if !gone.is_empty() {
            out.push(
                Phase::column_extras(c.is_some(), n),
                at(format!("RESET ({})", gone.join(", "))),
                &[],
            );
        }
        if !new_options.is_empty() {
            out.push(
                Phase::column_extras(c.is_some(), n),
                at(format!("SET ({})", new_options.join(", "))),
                &[],
            );
        }
    }
    comment(
        out,
        "COLUMN",
        &format!("{table}.{col}"),
        c.and_then(|c| c.comment.as_ref()),
        n.comment.as_ref(),
    );
    acl(
        out,
        "TABLE",
        table,
        Some(&col),
        c.map(|c| c.acl.as_slice()).unwrap_or(&[]),
        &n.acl,
        "",
    );
}

/// The moves of `m`, in the target's order: new columns added, existing
/// ones copied to the end (generated ones computed anew).
pub(super) fn move_columns(name: &str, a: &Table, b: &Table, m: &Reorder, out: &mut Out) {
    for col in &m.tail {
        let Some(n) = b.columns.iter().find(|c| &c.name == col) else {
            continue;
        };
        let q = quote_ident(&n.name);
        let existing = a.columns.iter().any(|c| c.name == n.name);
        if existing {
            out.drops_column(format!("{}.{}", b.schema, b.name), &n.name);
        }
        if existing && n.details().generated.is_none() {
            let tmp = quote_ident(&temporary(n));
            let collate = n
                .collation
                .as_ref()
                .map(|c| format!(" COLLATE {c}"))
                .unwrap_or_default();
            for sql in [
                format!(
                    "ALTER TABLE {name} ADD COLUMN {tmp} {}{collate};",
                    n.data_type
                ),
                format!("UPDATE {name} SET {tmp} = {q};"),
                format!("ALTER TABLE {name} DROP COLUMN {q};"),
                format!("ALTER TABLE {name} RENAME COLUMN {tmp} TO {q};"),
            ] {
                out.push(Phase::Reorder, sql, &[Hazard::RewritesTable]);
            }
            if let Some(d) = &n.default {
                out.push(
                    Phase::Reorder,
                    format!("ALTER TABLE {name} ALTER COLUMN {q} SET DEFAULT {d};"),
                    &[],
                );
            }
            if n.not_null {
                out.push(
                    Phase::Reorder,
                    format!("ALTER TABLE {name} ALTER COLUMN {q} SET NOT NULL;"),
                    &[],
                );
            }
            if let Some(id) = &n.details().identity {
                out.push(
                    Phase::Reorder,
                    format!(
                        "ALTER TABLE {name} ALTER COLUMN {q} ADD {};",
                        identity_clause(id)
                    ),
                    &[],
                );
                // The new identity sequence starts over: past the values
                // the rows already have.
                out.push(
                    Phase::Reorder,
                    format!(
                        "SELECT setval(pg_get_serial_sequence({}, {}), max({q})) FROM {name} HAVING max({q}) IS NOT NULL;",
                        literal(name),
                        literal(&n.name)
                    ),
                    &[],
                );
            }
        } else {
            if existing {
                out.push(
                    Phase::Reorder,
                    format!("ALTER TABLE {name} DROP COLUMN {q};"),
                    &[Hazard::RewritesTable],
                );
            }
            out.push(
                Phase::Reorder,
                format!("ALTER TABLE {name} ADD COLUMN {};", column_line(n)),
                &[],
            );
        }
        column_extras(name, None, n, out);
    }
}
