//! One definition per object kind: what the diff calls it and the SQL a
//! report shows for one, on top of the model's identity ([`Keyed`]) and
//! list ([`Listed`]: its field of `Objects` and how captures read it). The
//! list is registered once in [`each_kind!`](crate::each_kind).
//!
//! The compiler is the checklist: a new kind is a model struct, its `.sql`,
//! its `Keyed`, `Listed` and `Kind` impls, one line in `each_kind!` and one
//! `ObjectKind` variant, which the exhaustive matches of
//! [`render`](super::render), the capture's merge and `ObjectKind::as_str`
//! then ask for; and its planner.

use crate::diff::ObjectKind;
use crate::model::json::to_layout;
use crate::model::{self as m, Listed};

/// An object kind as reports and the differ know it.
pub(crate) trait Kind: Listed + serde::Serialize {
    /// What the diff calls it.
    const KIND: ObjectKind;
    /// The object as the report's unified diff shows it: its SQL, or its
    /// snapshot JSON for a kind not written as SQL (yet).
    fn render(&self) -> String {
        to_layout(self)
    }
}

/// `impl Kind` for each kind: `type, ObjectKind` and, for a kind written
/// as SQL, the function that writes it.
macro_rules! kind {
    ($($t:ty, $kind:ident $(, $render:path)?;)*) => {$(
        impl Kind for $t {
            const KIND: ObjectKind = ObjectKind::$kind;
            $(fn render(&self) -> String {
                $render(self)
            })?
        }
    )*};
}

kind! {
    m::Schema, Schema, super::schema;
    m::Extension, Extension, super::extension;
    m::Collation, Collation;
    m::TypeDef, Type, super::type_def;
    m::Sequence, Sequence, super::sequence;
    m::Table, Table, super::table;
    m::View, View, super::view;
    m::MaterializedView, MaterializedView, super::materialized_view;
    m::Function, Function, super::function;
    m::Statistics, Statistics;
    m::EventTrigger, EventTrigger;
    m::Publication, Publication;
    m::ForeignDataWrapper, ForeignDataWrapper;
    m::ForeignServer, ForeignServer;
    m::DefaultPrivilege, DefaultPrivilege;
    m::TextSearchConfiguration, TextSearchConfiguration, super::text_search::configuration;
    m::TextSearchDictionary, TextSearchDictionary, super::text_search::dictionary;
}

#[cfg(test)]
mod tests {
    use super::Kind;
    use crate::model::Objects;

    /// Every list of `each_kind!` holds the `Kind` whose `KIND` is the one
    /// registered there (and does not compile without one), and that kind
    /// is in `ObjectKind::ALL` (which reports and ignore rules read).
    #[test]
    fn kinds_match_their_registration() {
        fn check<T: Kind>(_: &[T], kind: crate::diff::ObjectKind) {
            assert_eq!(T::KIND, kind);
            assert!(crate::diff::ObjectKind::ALL.contains(&kind), "{kind:?}");
            assert_eq!(crate::diff::ObjectKind::parse(kind.as_str()), Some(kind));
        }
        let objects = Objects::default();
        macro_rules! registered {
            ($list:ident, $kind:ident) => {
                check(&objects.$list, crate::diff::ObjectKind::$kind);
            };
        }
        crate::each_kind!(registered);
    }
}
