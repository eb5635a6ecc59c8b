//! Indexes of partitioned tables that the target leaves invalid: created
//! ON ONLY the parent, with the partitions' own indexes attached one by one.

use super::deps::rel;
use super::{Hazard, Out, Phase};
use crate::ddl::index_statement;
use crate::model::{qualified, Table};
use std::collections::{BTreeMap, BTreeSet};

/// Indexes of partitioned tables that are invalid in the target (created
/// ON ONLY the parent, not every partition's index attached) and that the
/// plan creates: written ON ONLY, with the partitions' indexes that the
/// target attaches to them created and attached one by one. (A plain
/// CREATE INDEX on the parent would build and attach one on every
/// partition, and be valid.)
pub(super) fn only_indexes(
    a: &BTreeMap<String, &Table>,
    b: &BTreeMap<String, &Table>,
    created: &[&Table],
) -> BTreeSet<String> {
    let mut only = BTreeSet::new();
    for (k, t) in b {
        if t.partition_by.is_none() {
            continue;
        }
        let new_table = created.iter().any(|c| rel(&c.schema, &c.name) == *k);
        for i in t.indexes.iter().filter(|i| !i.valid) {
            let same = !new_table
                && a.get(k).is_some_and(|o| {
                    o.indexes.iter().any(|x| {
                        crate::model::Index {
                            comment: None,
                            ..x.clone()
                        } == crate::model::Index {
                            comment: None,
                            ..i.clone()
                        }
                    })
                });
            if !same {
                only.insert(qualified(&t.schema, &i.name));
            }
        }
    }
    only
}

/// The partitions' indexes attached to an index created ON ONLY: created
/// on the partition, then attached.
pub(super) fn attach_partition_indexes(
    b: &BTreeMap<String, &Table>,
    only: &BTreeSet<String>,
    out: &mut Out,
) {
    for t in b.values() {
        let name = qualified(&t.schema, &t.name);
        for i in &t.indexes {
            let Some(parent) = i.partition_of.as_ref().filter(|p| only.contains(*p)) else {
                continue;
            };
            out.push(
                Phase::Indexes,
                index_statement(i, &name, false),
                &[Hazard::IndexBuild],
            );
            out.push(
                Phase::Others,
                format!(
                    "ALTER INDEX {parent} ATTACH PARTITION {};",
                    qualified(&t.schema, &i.name)
                ),
                &[],
            );
        }
    }
}
