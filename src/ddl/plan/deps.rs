//! What views and materialized views read, from their queries (pg_query's
//! list of relations and functions): the order to create them in, the
//! order to drop them in, and which ones a change forces out.

use crate::model::Objects;
use std::collections::{BTreeMap, BTreeSet};

/// Relations and functions each view reads, on each side.
pub(crate) struct Graph {
    from: BTreeMap<String, BTreeSet<String>>,
    to: BTreeMap<String, BTreeSet<String>>,
}

/// `schema.name` of a relation.
pub(crate) fn rel(schema: &str, name: &str) -> String {
    format!("{schema}.{name}")
}

fn reads_of(objects: &Objects) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let queries = objects
        .views
        .iter()
        .map(|v| (rel(&v.schema, &v.name), &v.definition))
        .chain(
            objects
                .materialized_views
                .iter()
                .map(|v| (rel(&v.schema, &v.name), &v.definition)),
        );
    for (key, def) in queries {
        let mut reads = BTreeSet::new();
        if let Ok(parsed) = pg_query::parse(def, pg_query::ParserOptions::DEFAULT) {
            // Names come qualified (captured with search_path = pg_catalog);
            // an unqualified one is a pg_catalog object.
            reads.extend(parsed.tables());
            reads.extend(parsed.functions().into_iter().map(|f| format!("fn:{f}")));
        }
        out.insert(key, reads);
    }
    out
}

impl Graph {
    /// The reads of every view of both sides.
    pub(crate) fn new(from: &Objects, to: &Objects) -> Graph {
        Graph {
            from: reads_of(from),
            to: reads_of(to),
        }
    }

    /// What view `key` reads in `from` (relations as `schema.name`,
    /// functions as `fn:schema.name`).
    pub(crate) fn reads_from(&self, key: &str) -> Option<&BTreeSet<String>> {
        self.from.get(key)
    }

    /// `keys` in creation order for the `to` side: what a view reads first.
    pub(crate) fn create_order(&self, keys: &BTreeSet<String>) -> Vec<String> {
        topo(&self.to, keys)
    }

    /// `keys` in drop order for the `from` side: readers first.
    pub(crate) fn drop_order(&self, keys: &BTreeSet<String>) -> Vec<String> {
        let mut order = topo(&self.from, keys);
        order.reverse();
        order
    }
}

/// Depth-first order of `keys` by the edges in `reads` (dependencies
/// before dependents; ties by name, so the order is stable).
fn topo(reads: &BTreeMap<String, BTreeSet<String>>, keys: &BTreeSet<String>) -> Vec<String> {
    fn visit(
        k: &str,
        reads: &BTreeMap<String, BTreeSet<String>>,
        keys: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if !seen.insert(k.to_string()) {
            return;
        }
        if let Some(r) = reads.get(k) {
            for d in r {
                if keys.contains(d) {
                    visit(d, reads, keys, seen, out);
                }
            }
        }
        out.push(k.to_string());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for k in keys {
        visit(k, reads, keys, &mut seen, &mut out);
    }
    out
}
