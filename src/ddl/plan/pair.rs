//! The one way the planner pairs the objects of its two sides: a map per
//! side from identity to object, so every kind walks "only in from"
//! (drop), "only in to" (create) and "on both" (alter) the same way.

use crate::diff::Keyed;
use std::collections::BTreeMap;

/// One side's objects by their identity ([`Keyed::key`]).
pub(super) fn by_key<T: Keyed>(list: &[T]) -> BTreeMap<String, &T> {
    by(list, T::key)
}

/// One side's objects by the identity `key` gives them (relations are
/// keyed by their unquoted `schema.name`, the form `forced` and the
/// dependency graph use).
pub(super) fn by<T>(list: &[T], key: impl Fn(&T) -> String) -> BTreeMap<String, &T> {
    list.iter().map(|x| (key(x), x)).collect()
}

/// Both sides of one kind by identity: `(from, to)`.
#[allow(clippy::type_complexity)]
pub(super) fn pair<'a, T: Keyed>(
    from: &'a [T],
    to: &'a [T],
) -> (BTreeMap<String, &'a T>, BTreeMap<String, &'a T>) {
    (by_key(from), by_key(to))
}
