//! The identity of every top-level object kind, defined once: snapshots are
//! sorted by it ([`Objects::canonicalize`](super::Objects::canonicalize)),
//! the differ pairs objects by it, and reports name objects by it.

use super::{self as m, qualified, quote_ident};

/// The identity of a top-level object.
pub trait Keyed {
    /// `schema.name`, `schema.f(args)`, `name`, …
    fn key(&self) -> String;
    /// The raw parts snapshots are sorted by (`Objects::canonicalize`).
    fn sort_key(&self) -> (&str, &str, &str);
}

macro_rules! keyed_in_schema {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                qualified(&self.schema, &self.name)
            }
            fn sort_key(&self) -> (&str, &str, &str) {
                (&self.schema, &self.name, "")
            }
        }
    )*};
}
macro_rules! keyed_by_name {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                quote_ident(&self.name)
            }
            fn sort_key(&self) -> (&str, &str, &str) {
                (&self.name, "", "")
            }
        }
    )*};
}
keyed_in_schema!(
    m::Collation,
    m::TypeDef,
    m::Sequence,
    m::Table,
    m::View,
    m::MaterializedView,
    m::Statistics
);
keyed_by_name!(
    m::Schema,
    m::Extension,
    m::EventTrigger,
    m::Publication,
    m::ForeignDataWrapper,
    m::ForeignServer
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

/// Sorts a list of objects by their identity.
pub fn sort_keyed<T: Keyed>(list: &mut [T]) {
    list.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}
