//! Views and materialized views: planned last, since they read everything
//! else. Dropped when gone, changed, or reading something dropped,
//! re-created or re-typed (up the chain); created in the order their
//! queries read each other; altered in place otherwise.

use super::deps::{rel, Graph};
use super::privileges::{acl, comment, owner};
use super::{Hazard, Out, Phase};
use crate::ddl::{index_statement, trigger_state, trigger_statement};
use crate::model::{qualified, quote_ident, MaterializedView, Objects, View};
use std::collections::{BTreeMap, BTreeSet};

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
        out.push(Phase::DropViews, sql, hazards);
    }
    let create: BTreeSet<String> = b
        .keys()
        .filter(|k| !a.contains_key(*k) || drop.contains(*k))
        .cloned()
        .collect();
    for k in graph.create_order(&create) {
        match &b[&k] {
            Relation::View(v) => create_view(v, out),
            Relation::Matview(m) => create_matview(m, out),
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

fn create_view(v: &View, out: &mut Out) {
    out.push(Phase::Views, crate::ddl::create_view(v), &[]);
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
        // Created (or created again) by the role that runs the migration:
        // an owner other than that role's is set after.
        owner: String::new(),
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
                Phase::Views,
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
                Phase::DropTriggers,
                format!("DROP TRIGGER {} ON {name};", quote_ident(&t.name)),
                &[],
            );
        }
    }
    for t in &v.triggers {
        if o.triggers.iter().find(|x| x.name == t.name) != Some(t) {
            out.push(Phase::Triggers, trigger_statement(t, &name), &[]);
            if let Some(s) = trigger_state(t, &name) {
                out.push(Phase::Triggers, s, &[]);
            }
        }
    }
    let before_owner = (!o.owner.is_empty()).then_some(o.owner.as_str());
    owner(out, "VIEW", &name, before_owner, &v.owner);
    comment(out, "VIEW", &name, o.comment.as_ref(), v.comment.as_ref());
    acl(out, "TABLE", &name, None, &o.acl, &v.acl, &v.owner);
}

fn create_matview(m: &MaterializedView, out: &mut Out) {
    let name = qualified(&m.schema, &m.name);
    out.push(Phase::Views, crate::ddl::create_materialized_view(m), &[]);
    for i in &m.indexes {
        out.push(
            Phase::Views,
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
        // Created (or created again) by the role that runs the migration:
        // an owner other than that role's is set after.
        owner: String::new(),
        ..m.clone()
    };
    alter_matview(&empty, m, out);
}

fn alter_matview(o: &MaterializedView, m: &MaterializedView, out: &mut Out) {
    let name = qualified(&m.schema, &m.name);
    for i in &o.indexes {
        if m.indexes.iter().find(|x| x.name == i.name) != Some(i) {
            out.push(
                Phase::DropConstraints,
                format!("DROP INDEX {};", qualified(&o.schema, &i.name)),
                &[],
            );
        }
    }
    for i in &m.indexes {
        if o.indexes.iter().find(|x| x.name == i.name) != Some(i) {
            out.push(
                Phase::Views,
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
