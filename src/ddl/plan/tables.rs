//! Tables: created, dropped, re-created when their partitioning or
//! inheritance changes, and otherwise altered part by part (columns,
//! constraints, indexes, triggers, policies, rules, flags, grants).

use super::columns::{alter_column, column_extras, move_columns};
use super::deps::rel;
use super::pair::by;
use super::partitions::{attach_partition_indexes, only_indexes};
use super::privileges::{comment, literal};
use super::reorder::{reorder, Reorder};
use super::rest::alter_rest;
use super::{Hazard, Out, Phase, Placement, PlanOptions};
use crate::ddl::{column_line, constraint_body, index_statement};
use crate::model::{qualified, quote_ident, Constraint, Objects, Table};
use std::collections::{BTreeMap, BTreeSet};

/// A table's parts that cannot be altered in place.
fn must_recreate(a: &Table, b: &Table) -> bool {
    a.kind != b.kind
        || a.partition_by != b.partition_by
        || a.partition_of != b.partition_of
        || a.partition_bound != b.partition_bound
        || a.inherits != b.inherits
        || a.server != b.server
}

/// Plans every table; adds to `forced` the relations whose readers (views)
/// must be re-created.
pub(super) fn plan(
    from: &Objects,
    to: &Objects,
    opts: &PlanOptions,
    forced: &mut BTreeSet<String>,
    out: &mut Out,
) {
    let relation = |t: &Table| rel(&t.schema, &t.name);
    let (a, b) = (by(&from.tables, relation), by(&to.tables, relation));
    // Unique keys a changed table loses: the foreign keys that lean on
    // them go first and come back after.
    let mut rekeyed: BTreeSet<String> = BTreeSet::new();
    // Casts between user-defined types (one enum to another) go through
    // text; built-in types cast directly.
    let user_types: BTreeSet<String> = from
        .types
        .iter()
        .chain(&to.types)
        .flat_map(|t| [qualified(&t.schema, &t.name), rel(&t.schema, &t.name)])
        .collect();
    let mut dropped = Vec::new();
    let mut created = Vec::new();
    let mut reorders: BTreeMap<String, Reorder> = BTreeMap::new();
    for (k, t) in &a {
        match b.get(k) {
            None => dropped.push(*t),
            Some(n) if must_recreate(t, n) => {
                dropped.push(*t);
                created.push(*n);
            }
            Some(n) => {
                let moves = if opts.reorder_columns {
                    reorder(t, n, &readded(t, n))
                } else {
                    None
                };
                for c in &t.constraints {
                    let moved = moves.as_ref().is_some_and(|m| touched_constraint(m, c));
                    if matches!(c.constraint_type.as_str(), "primary-key" | "unique")
                        && (moved || n.constraints.iter().find(|x| x.name == c.name) != Some(c))
                    {
                        rekeyed.insert(k.clone());
                    }
                }
                if let Some(m) = moves {
                    reorders.insert(k.clone(), m);
                }
            }
        }
    }
    for (k, t) in &b {
        if !a.contains_key(k) {
            created.push(*t);
        }
    }
    for t in &dropped {
        forced.insert(rel(&t.schema, &t.name));
    }
    let only = only_indexes(&a, &b, &created);
    drop_tables(&dropped, out);
    create_tables(&created, &only, out);
    for (k, t) in &a {
        if let Some(n) = b.get(k) {
            if !must_recreate(t, n) {
                let ctx = Context {
                    only: &only,
                    rekeyed: &rekeyed,
                    user_types: &user_types,
                    moves: reorders.get(k),
                    opts,
                };
                alter_table(t, n, &ctx, forced, out);
            }
        }
    }
    attach_partition_indexes(&b, &only, out);
}

fn drop_tables(dropped: &[&Table], out: &mut Out) {
    // Their foreign keys first, so dropped tables that reference each
    // other go in any order; partitions and children before parents.
    for t in dropped {
        let name = qualified(&t.schema, &t.name);
        for c in t
            .constraints
            .iter()
            .filter(|c| c.constraint_type == "foreign-key" && !c.inherited)
        {
            out.push(
                Phase::DropForeignKeys,
                format!(
                    "ALTER TABLE {name} DROP CONSTRAINT {};",
                    quote_ident(&c.name)
                ),
                &[],
            );
        }
    }
    // Their triggers too: a trigger function dropped with them must go
    // even when the DROP TABLE, which loses data, is written commented out.
    for t in dropped {
        let name = qualified(&t.schema, &t.name);
        for tr in &t.triggers {
            out.push(
                Phase::DropTriggers,
                format!("DROP TRIGGER {} ON {name};", quote_ident(&tr.name)),
                &[],
            );
        }
    }
    for t in dropped {
        for c in &t.columns {
            out.drops_column(rel(&t.schema, &t.name), &c.name);
        }
    }
    let mut order: Vec<&&Table> = dropped.iter().collect();
    order.sort_by_key(|t| {
        (
            t.partition_of.is_none() && t.inherits.is_empty(),
            t.name.clone(),
        )
    });
    for t in order {
        let what = if t.kind == "foreign-table" {
            "FOREIGN TABLE"
        } else {
            "TABLE"
        };
        out.push(
            Phase::DropTables,
            format!("DROP {what} {};", qualified(&t.schema, &t.name)),
            &[Hazard::DeletesData],
        );
    }
}

fn create_tables(created: &[&Table], only: &BTreeSet<String>, out: &mut Out) {
    // Parents before partitions and children.
    let mut order: Vec<&&Table> = created.iter().collect();
    order.sort_by_key(|t| {
        (
            t.partition_of.is_some() || !t.inherits.is_empty(),
            t.name.clone(),
        )
    });
    for t in order {
        let name = qualified(&t.schema, &t.name);
        let kind = match (t.kind.as_str(), t.unlogged) {
            ("foreign-table", _) => "FOREIGN TABLE",
            (_, true) => "UNLOGGED TABLE",
            _ => "TABLE",
        };
        // NOT VALID only exists in ALTER TABLE: such constraints are added
        // after the table, with the foreign keys.
        let inline: Vec<&Constraint> = t
            .constraints
            .iter()
            .filter(|c| c.constraint_type != "foreign-key" && !c.inherited && c.validated)
            .collect();
        let mut sql =
            if let (Some(parent), Some(bound)) = (&t.partition_of, &t.partition_bound) {
                format!("CREATE {kind} {name} PARTITION OF {parent} {bound}")
            } else {
                let mut lines: Vec<String> = t
                    .columns
                    .iter()
                    .filter(|c| !c.inherited)
                    .map(|c| {
                        format!(
                            "{}{}",
                            column_line(c),
                            super::global::options_clause(&c.details().server_options)
                        )
                    })
                    .collect();
                lines.extend(inline.iter().map(|c| {
                    format!("CONSTRAINT {} {}", quote_ident(&c.name), constraint_body(c))
                }));
                let mut s = format!("CREATE {kind} {name} (\n    {}\n)", lines.join(",\n    "));
                if !t.inherits.is_empty() {
                    s.push_str(&format!(" INHERITS ({})", t.inherits.join(", ")));
                }
                s
            };
        if let Some(p) = &t.partition_by {
            sql.push_str(&format!(" PARTITION BY {p}"));
        }
        if let Some(server) = &t.server {
            sql.push_str(&format!(" SERVER {}", quote_ident(server)));
            sql.push_str(&super::global::options_clause(&t.server_options));
        }
        if !t.options.is_empty() {
            sql.push_str(&format!(" WITH ({})", t.options.join(", ")));
        }
        sql.push(';');
        out.push(Phase::Tables, sql, &[]);
        if t.partition_of.is_some() {
            // A partition's own constraints and defaults beyond its parent's.
            for c in &inline {
                add_constraint(&name, c, out);
            }
            // NOT NULL and defaults of its own (setting the parent's again
            // changes nothing).
            for c in t.columns.iter().filter(|c| c.inherited) {
                let at = |s: &str| {
                    format!(
                        "ALTER TABLE {name} ALTER COLUMN {} {s};",
                        quote_ident(&c.name)
                    )
                };
                if let Some(d) = &c.default {
                    out.push(Phase::Defaults, at(&format!("SET DEFAULT {d}")), &[]);
                }
                if c.not_null {
                    out.push(Phase::Defaults, at("SET NOT NULL"), &[]);
                }
            }
        } else {
            for c in &inline {
                if let Some(text) = &c.comment {
                    out.push(
                        Phase::Comments,
                        format!(
                            "COMMENT ON CONSTRAINT {} ON {name} IS {};",
                            quote_ident(&c.name),
                            literal(text)
                        ),
                        &[],
                    );
                }
            }
        }
        for i in t.indexes.iter().filter(|i| i.partition_of.is_none()) {
            let on = if only.contains(&qualified(&t.schema, &i.name)) {
                format!("ONLY {name}")
            } else {
                name.clone()
            };
            out.push(Phase::Indexes, index_statement(i, &on, false), &[]);
            comment(
                out,
                "INDEX",
                &qualified(&t.schema, &i.name),
                None,
                i.comment.as_ref(),
            );
        }
        let empty = Table {
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
            policies: Vec::new(),
            rules: Vec::new(),
            acl: Vec::new(),
            comment: None,
            row_security: false,
            force_row_security: false,
            replica_identity: None,
            cluster_on: None,
            options: t.options.clone(),
            unlogged: t.unlogged,
            ..(*t).clone()
        };
        // Everything else is what an empty table with the same name lacks.
        for c in t
            .constraints
            .iter()
            .filter(|c| (c.constraint_type == "foreign-key" || !c.validated) && !c.inherited)
        {
            add_constraint(&name, c, out);
        }
        alter_rest(&empty, t, &name, true, None, out);
        for c in t.columns.iter().filter(|c| !c.inherited) {
            column_extras(&name, None, c, out);
        }
    }
}

fn add_constraint(table: &str, c: &Constraint, out: &mut Out) {
    let fk = c.constraint_type == "foreign-key";
    let hazards: &[Hazard] = if fk || c.validated {
        &[Hazard::MayFail]
    } else {
        &[]
    };
    out.push(
        if fk {
            Phase::ForeignKeys
        } else {
            Phase::Constraints
        },
        format!(
            "ALTER TABLE {table} ADD CONSTRAINT {} {};",
            quote_ident(&c.name),
            constraint_body(c)
        ),
        hazards,
    );
    if c.triggers_disabled {
        // Re-adding the key checks every row and enables its triggers;
        // disabling them again would take DISABLE TRIGGER ALL, which
        // turns off every other trigger of both tables too.
        out.unsupported(
            Phase::ForeignKeys,
            format!(
                "foreign key {} on {table} with its triggers disabled (ALTER TABLE … DISABLE TRIGGER ALL)",
                c.name
            ),
        );
    }
    if let Some(text) = &c.comment {
        out.push(
            Phase::Comments,
            format!(
                "COMMENT ON CONSTRAINT {} ON {table} IS {};",
                quote_ident(&c.name),
                literal(text)
            ),
            &[],
        );
    }
}

/// Columns a generation change drops and adds again.
fn readded(a: &Table, b: &Table) -> Vec<String> {
    a.columns
        .iter()
        .filter_map(|c| {
            let n = b.columns.iter().find(|n| n.name == c.name)?;
            let changed = c.details().generated != n.details().generated
                || c.details().generated_virtual != n.details().generated_virtual;
            let only_dropped = c.details().generated.is_some() && n.details().generated.is_none();
            (changed && !only_dropped).then(|| c.name.clone())
        })
        .collect()
}

/// A constraint that names a moved column.
fn touched_constraint(m: &Reorder, c: &Constraint) -> bool {
    c.columns.iter().chain(&c.include).any(|x| m.moves(x)) || m.touches(c.expression.as_deref())
}

/// What altering one table needs to know about the others.
struct Context<'a> {
    /// Indexes written ON ONLY their partitioned table.
    only: &'a BTreeSet<String>,
    rekeyed: &'a BTreeSet<String>,
    user_types: &'a BTreeSet<String>,
    moves: Option<&'a Reorder>,
    opts: &'a PlanOptions,
}

fn alter_table(
    a: &Table,
    b: &Table,
    ctx: &Context<'_>,
    forced: &mut BTreeSet<String>,
    out: &mut Out,
) {
    let (rekeyed, user_types, opts) = (ctx.rekeyed, ctx.user_types, ctx.opts);
    let moves = ctx.moves;
    let moved = |c: &str| moves.is_some_and(|m| m.moves(c));
    let name = qualified(&b.schema, &b.name);
    let key = rel(&b.schema, &b.name);
    if moves.is_some() {
        forced.insert(key.clone());
    }
    // Columns.
    for c in a.columns.iter().filter(|c| !c.inherited) {
        if !b.columns.iter().any(|n| n.name == c.name && !n.inherited) {
            forced.insert(key.clone());
            out.drops_column(key.clone(), &c.name);
            out.push(
                Phase::DropColumns,
                format!("ALTER TABLE {name} DROP COLUMN {};", quote_ident(&c.name)),
                &[Hazard::DeletesData],
            );
        }
    }
    // From the first generated column added on, columns are added once
    // the table's columns are re-typed (its expression may read one), in
    // their order.
    let mut late = false;
    for n in b.columns.iter().filter(|c| !c.inherited) {
        match a.columns.iter().find(|c| c.name == n.name && !c.inherited) {
            None if moved(&n.name) => {}
            None => {
                late |= n.details().generated.is_some();
                let may_fail = n.not_null
                    && n.default.is_none()
                    && n.details().identity.is_none()
                    && n.details().generated.is_none();
                out.push(
                    if late {
                        Phase::GeneratedColumns
                    } else {
                        Phase::Columns
                    },
                    format!("ALTER TABLE {name} ADD COLUMN {};", column_line(n)),
                    if may_fail { &[Hazard::MayFail] } else { &[] },
                );
                column_extras(&name, None, n, out);
            }
            Some(c) => alter_column(&name, &key, c, n, user_types, moved(&n.name), forced, out),
        }
    }
    // A partition's or child's columns come from its parent, but NOT NULL
    // and a default of its own are its own.
    for n in b.columns.iter().filter(|c| c.inherited) {
        let Some(c) = a.columns.iter().find(|c| c.name == n.name && c.inherited) else {
            continue;
        };
        let at = |s: &str| {
            format!(
                "ALTER TABLE {name} ALTER COLUMN {} {s};",
                quote_ident(&n.name)
            )
        };
        if c.default != n.default {
            match &n.default {
                Some(d) => out.push(Phase::Defaults, at(&format!("SET DEFAULT {d}")), &[]),
                None => out.push(Phase::DropDefaults, at("DROP DEFAULT"), &[]),
            }
        }
        if c.not_null != n.not_null {
            if n.not_null {
                out.push(Phase::Defaults, at("SET NOT NULL"), &[Hazard::MayFail]);
            } else {
                out.push(Phase::Columns, at("DROP NOT NULL"), &[]);
            }
        }
    }
    if let Some(m) = moves {
        move_columns(&name, a, b, m, out);
    }
    let common_a: Vec<&str> = a
        .columns
        .iter()
        .filter(|c| b.columns.iter().any(|n| n.name == c.name))
        .map(|c| c.name.as_str())
        .collect();
    let common_b: Vec<&str> = b
        .columns
        .iter()
        .filter(|c| a.columns.iter().any(|o| o.name == c.name))
        .map(|c| c.name.as_str())
        .collect();
    let appended_only = b
        .columns
        .iter()
        .skip_while(|c| a.columns.iter().any(|o| o.name == c.name))
        .all(|c| !a.columns.iter().any(|o| o.name == c.name));
    let readded = readded(a, b);
    if moves.is_none()
        && (common_a != common_b || !appended_only || !readded.is_empty())
        && reorder(a, b, &readded).is_some()
    {
        // In the SQL too: a migration that leaves the order is read, and
        // kept, without its stderr (and with nothing else to do, it would
        // be empty and read as "no differences").
        out.note(
            Phase::Reorder,
            format!(
                "{name}: the column order will differ; ALTER TABLE only appends columns (--reorder-columns moves them, rewriting the table)"
            ),
        );
    }
    // Constraints: changed ones are dropped and added again; foreign keys
    // that lean on a re-created key of the table they reference too.
    for c in a.constraints.iter().filter(|c| !c.inherited) {
        let next = b
            .constraints
            .iter()
            .find(|x| x.name == c.name && !x.inherited);
        let leans = c.constraint_type == "foreign-key"
            && c.references
                .as_ref()
                .is_some_and(|r| rekeyed.contains(&r.table.replace('"', "")));
        let same = next.is_some_and(|n| same_constraint(c, n))
            && !moves.is_some_and(|m| touched_constraint(m, c));
        if !same || leans {
            out.push(
                if c.constraint_type == "foreign-key" {
                    Phase::DropForeignKeys
                } else {
                    Phase::DropConstraints
                },
                format!(
                    "ALTER TABLE {name} DROP CONSTRAINT {};",
                    quote_ident(&c.name)
                ),
                &[],
            );
            if let Some(n) = next {
                add_constraint(&name, n, out);
            }
        } else if let Some(n) = next {
            if c.comment != n.comment {
                out.push(
                    Phase::Comments,
                    format!(
                        "COMMENT ON CONSTRAINT {} ON {name} IS {};",
                        quote_ident(&n.name),
                        n.comment.as_deref().map_or("NULL".into(), literal)
                    ),
                    &[],
                );
            }
        }
    }
    for n in b.constraints.iter().filter(|c| !c.inherited) {
        if !a
            .constraints
            .iter()
            .any(|c| c.name == n.name && !c.inherited)
        {
            add_constraint(&name, n, out);
        }
    }
    // Indexes.
    let index_moves = |i: &crate::model::Index| {
        moves.is_some_and(|m| {
            m.touches(
                i.keys
                    .iter()
                    .chain(&i.include)
                    .map(String::as_str)
                    .chain(i.predicate.as_deref()),
            )
        })
    };
    for i in &a.indexes {
        let next = b.indexes.iter().find(|x| x.name == i.name);
        let same = !index_moves(i)
            && next.is_some_and(|n| {
                crate::model::Index {
                    comment: None,
                    ..n.clone()
                } == crate::model::Index {
                    comment: None,
                    ..i.clone()
                }
            });
        if !same && i.partition_of.is_none() {
            out.push(
                Phase::DropConstraints,
                format!("DROP INDEX {};", qualified(&a.schema, &i.name)),
                &[],
            );
        }
        if let (true, Some(n)) = (same, next) {
            comment(
                out,
                "INDEX",
                &qualified(&b.schema, &n.name),
                i.comment.as_ref(),
                n.comment.as_ref(),
            );
        }
    }
    for n in b.indexes.iter().filter(|i| i.partition_of.is_none()) {
        let old = a.indexes.iter().find(|x| x.name == n.name);
        let same = !index_moves(n)
            && old.is_some_and(|o| {
                crate::model::Index {
                    comment: None,
                    ..o.clone()
                } == crate::model::Index {
                    comment: None,
                    ..n.clone()
                }
            });
        if same {
            continue;
        }
        let concurrently = opts.concurrently && b.partition_by.is_none();
        let on_only = ctx.only.contains(&qualified(&b.schema, &n.name));
        let on = if on_only {
            format!("ONLY {name}")
        } else {
            name.clone()
        };
        let mut hazards = vec![Hazard::IndexBuild];
        if n.unique {
            hazards.push(Hazard::MayFail);
        }
        out.push_at(
            Phase::Indexes,
            index_statement(n, &on, concurrently),
            &hazards,
            if concurrently {
                Placement::After
            } else {
                Placement::Transaction
            },
        );
        if let Some(c) = &n.comment {
            out.push(
                Phase::Comments,
                format!(
                    "COMMENT ON INDEX {} IS {};",
                    qualified(&b.schema, &n.name),
                    literal(c)
                ),
                &[],
            );
        }
    }
    alter_rest(a, b, &name, false, moves, out);
}

/// Two constraints alike but for their comments.
fn same_constraint(a: &Constraint, b: &Constraint) -> bool {
    Constraint {
        comment: None,
        ..a.clone()
    } == Constraint {
        comment: None,
        ..b.clone()
    }
}
