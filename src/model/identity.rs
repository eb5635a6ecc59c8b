//! The identity of every top-level object kind, defined once: snapshots are
//! sorted by it ([`Objects::canonicalize`](super::Objects::canonicalize)),
//! the differ pairs objects by it, and reports name objects by it. And the
//! one list of those kinds ([`each_kind!`](crate::each_kind)).

/// Calls `$m!(field, Kind)` for every top-level list of
/// [`Objects`](crate::model::Objects): its field and the `ObjectKind` variant
/// its objects are. The one registration of a kind: sorting, the differ's
/// flattening and DDL lookup expand it, and a test fails when a list of
/// `Objects` is missing here.
#[macro_export]
macro_rules! each_kind {
    ($m:ident) => {
        $m!(schemas, Schema);
        $m!(extensions, Extension);
        $m!(collations, Collation);
        $m!(types, Type);
        $m!(sequences, Sequence);
        $m!(tables, Table);
        $m!(views, View);
        $m!(materialized_views, MaterializedView);
        $m!(functions, Function);
        $m!(statistics, Statistics);
        $m!(event_triggers, EventTrigger);
        $m!(publications, Publication);
        $m!(foreign_data_wrappers, ForeignDataWrapper);
        $m!(foreign_servers, ForeignServer);
        $m!(default_privileges, DefaultPrivilege);
        $m!(text_search_dictionaries, TextSearchDictionary);
        $m!(text_search_configurations, TextSearchConfiguration);
    };
}

/// The lists of [`Objects`](crate::model::Objects) added after the
/// snapshot format was fixed: written only when they hold something (in
/// snapshots, fingerprints and store manifests alike), so that every
/// snapshot taken before a kind existed, and every one without an object
/// of that kind, keeps its bytes and its fingerprint.
pub const OPTIONAL_LISTS: &[&str] = &["text_search_dictionaries", "text_search_configurations"];

/// Whether the list `field` is left out of a snapshot: an optional list
/// ([`OPTIONAL_LISTS`]) with nothing in it.
pub fn skipped_when_empty(field: &str, len: usize) -> bool {
    len == 0 && OPTIONAL_LISTS.contains(&field)
}

use super::{self as m, qualified, quote_ident};

/// The identity of a top-level object.
pub trait Keyed {
    /// `schema.name`, `schema.f(args)`, `name`, …
    fn key(&self) -> String;
    /// The raw parts snapshots are sorted by (`Objects::canonicalize`).
    fn sort_key(&self) -> (&str, &str, &str);
    /// Puts the object's own lists (columns, labels, options…) in canonical
    /// order; most kinds have none.
    fn canonicalize_parts(&mut self) {}
}

macro_rules! keyed_in_schema {
    ($($t:ty $(=> $parts:ident)?),*) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                qualified(&self.schema, &self.name)
            }
            fn sort_key(&self) -> (&str, &str, &str) {
                (&self.schema, &self.name, "")
            }
            $(fn canonicalize_parts(&mut self) {
                self.$parts()
            })?
        }
    )*};
}
macro_rules! keyed_by_name {
    ($($t:ty $(=> $parts:ident)?),*) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                quote_ident(&self.name)
            }
            fn sort_key(&self) -> (&str, &str, &str) {
                (&self.name, "", "")
            }
            $(fn canonicalize_parts(&mut self) {
                self.$parts()
            })?
        }
    )*};
}
keyed_in_schema!(
    m::Collation,
    m::TypeDef => sort_parts,
    m::Sequence,
    m::Table => canonicalize,
    m::View => canonicalize,
    m::MaterializedView => canonicalize,
    m::Statistics,
    m::TextSearchDictionary,
    m::TextSearchConfiguration
);
keyed_by_name!(
    m::Schema,
    m::Extension,
    m::EventTrigger,
    m::Publication => sort_parts,
    m::ForeignDataWrapper,
    m::ForeignServer => sort_parts
);

impl Keyed for m::Function {
    fn key(&self) -> String {
        format!(
            "{}({})",
            qualified(&self.schema, &self.name),
            self.arguments
        )
    }
    fn sort_key(&self) -> (&str, &str, &str) {
        (&self.schema, &self.name, &self.arguments)
    }
}

impl Keyed for m::DefaultPrivilege {
    fn key(&self) -> String {
        let mut id = format!("for role {}", quote_ident(&self.role));
        if let Some(s) = &self.schema {
            id.push_str(&format!(" in schema {}", quote_ident(s)));
        }
        id.push_str(&format!(" on {}", self.object_type));
        id
    }
    fn sort_key(&self) -> (&str, &str, &str) {
        (
            &self.role,
            self.schema.as_deref().unwrap_or(""),
            &self.object_type,
        )
    }
}

/// How an incremental capture (a replay's capture after each migration)
/// reads a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Its query is narrowed to the changed objects: the unchanged ones are
    /// kept from the previous capture (by the inventory's identity,
    /// [`Keyed::sort_key`]).
    Narrowed,
    /// Its query reads it whole every time: the fresh list is complete.
    Whole,
}

/// A top-level kind's place in a snapshot: its list and how captures read
/// it. Implemented once per kind, beside its identity.
pub trait Listed: Keyed + Clone {
    /// Its field in [`Objects`](crate::model::Objects), which is also the
    /// list the capture's `inventory.sql` names.
    const LIST: &'static str;
    /// How an incremental capture reads it.
    const CAPTURE: Capture;
}

macro_rules! listed {
    ($($t:ty, $list:ident, $capture:ident;)*) => {$(
        impl Listed for $t {
            const LIST: &'static str = stringify!($list);
            const CAPTURE: Capture = Capture::$capture;
        }
    )*};
}
listed! {
    m::Schema, schemas, Whole;
    m::Extension, extensions, Whole;
    m::Collation, collations, Whole;
    m::TypeDef, types, Narrowed;
    m::Sequence, sequences, Narrowed;
    m::Table, tables, Narrowed;
    m::View, views, Narrowed;
    m::MaterializedView, materialized_views, Narrowed;
    m::Function, functions, Narrowed;
    m::Statistics, statistics, Narrowed;
    m::EventTrigger, event_triggers, Whole;
    m::Publication, publications, Whole;
    m::ForeignDataWrapper, foreign_data_wrappers, Whole;
    m::ForeignServer, foreign_servers, Whole;
    m::DefaultPrivilege, default_privileges, Whole;
    m::TextSearchDictionary, text_search_dictionaries, Whole;
    m::TextSearchConfiguration, text_search_configurations, Whole;
}

/// Puts a list of objects (and each object's own lists) in canonical order:
/// by identity.
pub fn sort_keyed<T: Keyed>(list: &mut [T]) {
    for object in list.iter_mut() {
        object.canonicalize_parts();
    }
    list.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

impl m::TypeDef {
    fn sort_parts(&mut self) {
        if let m::TypeKind::Domain { constraints, .. } = &mut self.kind {
            constraints.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
}

impl m::Publication {
    fn sort_parts(&mut self) {
        self.tables.sort_by(|a, b| a.table.cmp(&b.table));
        self.schemas.sort();
    }
}

impl m::ForeignServer {
    fn sort_parts(&mut self) {
        self.user_mappings.sort();
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Objects;

    /// Every list of `Objects` is registered in `each_kind!`.
    #[test]
    fn every_list_is_registered() {
        let lists = match serde_json::to_value(Objects::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect::<Vec<_>>(),
            _ => panic!("objects serialize to a map"),
        };
        // Optional lists are absent while empty, and only they are.
        for optional in super::OPTIONAL_LISTS {
            assert!(
                !lists.iter().any(|l| l == optional),
                "{optional} written empty"
            );
        }
        let lists: Vec<String> = lists
            .into_iter()
            .chain(super::OPTIONAL_LISTS.iter().map(|l| l.to_string()))
            .collect();
        let mut registered: Vec<String> = Vec::new();
        macro_rules! name {
            ($list:ident, $kind:ident) => {
                registered.push(stringify!($list).to_string());
            };
        }
        crate::each_kind!(name);
        // And each list's objects name it as theirs.
        fn listed<T: super::Listed>(_: &[T], list: &str) {
            assert_eq!(T::LIST, list);
        }
        let objects = Objects::default();
        macro_rules! check {
            ($list:ident, $kind:ident) => {
                listed(&objects.$list, stringify!($list));
            };
        }
        crate::each_kind!(check);
        let mut lists = lists;
        lists.sort();
        registered.sort();
        assert_eq!(
            lists, registered,
            "a list of Objects missing from each_kind!"
        );
    }
}
