//! The differ: `Snapshot × Snapshot → Vec<Change>`. Pure: no I/O.
//!
//! Every object of both snapshots is flattened into an [`entries::Entry`]
//! keyed by kind and identity (children such as columns are entries of their
//! own under their relation), then one generic keyed differ compares the
//! maps: added, removed, renamed, and attribute by attribute for the rest.
//! Expressions compare by their canonical parse (see `normalize`), while the
//! report shows the original text.

mod compare;
mod entries;
mod ignore;
mod outcome;
mod renames;
mod summary;

pub use crate::model::Keyed;
pub(crate) use compare::public_default_privilege;
pub use compare::{diff, diff_with};
pub use ignore::{IgnoreRule, IgnoreRules};
pub use outcome::{compare, version_warning, Compared};
pub use renames::Renames;

use serde::{Deserialize, Serialize};

/// The kinds of object a change can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    /// A schema.
    Schema,
    /// An extension.
    Extension,
    /// A collation.
    Collation,
    /// An enum, domain, composite or range type.
    Type,
    /// A sequence.
    Sequence,
    /// A table (ordinary, partitioned, foreign).
    Table,
    /// A column of a table, view or materialized view.
    Column,
    /// A table constraint.
    Constraint,
    /// An index.
    Index,
    /// A trigger.
    Trigger,
    /// A row-level security policy.
    Policy,
    /// A rewrite rule.
    Rule,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A function, procedure or aggregate.
    Function,
    /// An extended statistics object.
    Statistics,
    /// An event trigger.
    EventTrigger,
    /// A publication.
    Publication,
    /// A foreign-data wrapper.
    ForeignDataWrapper,
    /// A foreign server.
    ForeignServer,
    /// An ALTER DEFAULT PRIVILEGES entry.
    DefaultPrivilege,
    /// A text search configuration.
    TextSearchConfiguration,
    /// A text search dictionary.
    TextSearchDictionary,
}

impl ObjectKind {
    /// Every kind, in report order.
    pub const ALL: [ObjectKind; 23] = [
        ObjectKind::Schema,
        ObjectKind::Extension,
        ObjectKind::Collation,
        ObjectKind::Type,
        ObjectKind::Sequence,
        ObjectKind::Table,
        ObjectKind::Column,
        ObjectKind::Constraint,
        ObjectKind::Index,
        ObjectKind::Trigger,
        ObjectKind::Policy,
        ObjectKind::Rule,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Function,
        ObjectKind::Statistics,
        ObjectKind::EventTrigger,
        ObjectKind::Publication,
        ObjectKind::ForeignDataWrapper,
        ObjectKind::ForeignServer,
        ObjectKind::DefaultPrivilege,
        ObjectKind::TextSearchConfiguration,
        ObjectKind::TextSearchDictionary,
    ];

    /// The kebab-case name (`materialized-view`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Collation => "collation",
            ObjectKind::Type => "type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Policy => "policy",
            ObjectKind::Rule => "rule",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized-view",
            ObjectKind::Function => "function",
            ObjectKind::Statistics => "statistics",
            ObjectKind::EventTrigger => "event-trigger",
            ObjectKind::Publication => "publication",
            ObjectKind::ForeignDataWrapper => "foreign-data-wrapper",
            ObjectKind::ForeignServer => "foreign-server",
            ObjectKind::DefaultPrivilege => "default-privilege",
            ObjectKind::TextSearchConfiguration => "text-search-configuration",
            ObjectKind::TextSearchDictionary => "text-search-dictionary",
        }
    }

    /// Parses a kebab-case name.
    pub fn parse(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// What happened to the object: the closed set behind every change code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeCode {
    /// `<kind>-added`.
    Added(ObjectKind),
    /// `<kind>-removed`.
    Removed(ObjectKind),
    /// `<kind>-renamed`: same definition, new name.
    Renamed(ObjectKind),
    /// `<kind>-<attribute>-changed`; attributes are the snapshot's field
    /// names, kebab-cased (`column-type-changed`, `table-row-security-changed`).
    Changed(ObjectKind, &'static str),
    /// `table-column-order-changed`: the columns both sides have are in
    /// another order.
    ColumnOrderChanged,
    /// `privilege-granted`.
    PrivilegeGranted,
    /// `privilege-revoked`.
    PrivilegeRevoked,
    /// `owner-changed`.
    OwnerChanged,
    /// `comment-changed`.
    CommentChanged,
}

impl std::fmt::Display for ChangeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangeCode::Added(k) => write!(f, "{}-added", k.as_str()),
            ChangeCode::Removed(k) => write!(f, "{}-removed", k.as_str()),
            ChangeCode::Renamed(k) => write!(f, "{}-renamed", k.as_str()),
            ChangeCode::Changed(k, attr) => {
                write!(f, "{}-{}-changed", k.as_str(), attr.replace('_', "-"))
            }
            ChangeCode::ColumnOrderChanged => f.write_str("table-column-order-changed"),
            ChangeCode::PrivilegeGranted => f.write_str("privilege-granted"),
            ChangeCode::PrivilegeRevoked => f.write_str("privilege-revoked"),
            ChangeCode::OwnerChanged => f.write_str("owner-changed"),
            ChangeCode::CommentChanged => f.write_str("comment-changed"),
        }
    }
}

impl Serialize for ChangeCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How much a change matters. Ordered: info < warning < critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Cosmetic or tuning (comments, statistics targets, column order).
    Info,
    /// Structure differs.
    Warning,
    /// Access widened: grants, RLS off, policies dropped, SECURITY DEFINER, default privileges.
    Critical,
}

impl crate::util::Named for Severity {
    const ALL: &'static [Severity] = &[Severity::Info, Severity::Warning, Severity::Critical];
    fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The object a change is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its schema, for schema-bound objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Identity: `schema.name`, `schema.table.column`, `schema.f(args)`.
    pub name: String,
    /// The top-level object it belongs to (a column's table), as `kind:name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Stable kebab-case code.
    pub code: ChangeCode,
    /// How much it matters.
    pub severity: Severity,
    /// What it is about.
    pub object: ObjectRef,
    /// The attribute that changed, for attribute-level changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Value before (null when added).
    pub before: serde_json::Value,
    /// Value after (null when removed).
    pub after: serde_json::Value,
}

/// A grant as people write it: `SELECT, INSERT to PUBLIC`.
fn grant(v: &serde_json::Value) -> String {
    let privileges: Option<Vec<&str>> = v
        .get("privileges")
        .and_then(|p| p.as_array())
        .map(|p| p.iter().filter_map(|x| x.as_str()).collect());
    match (privileges, v.get("grantee").and_then(|g| g.as_str())) {
        (Some(p), Some(grantee)) => {
            let grantable = v.get("grantable").and_then(|g| g.as_array());
            let option = if grantable.is_some_and(|g| !g.is_empty()) {
                " (some WITH GRANT OPTION)"
            } else {
                ""
            };
            format!("{} to {grantee}{option}", p.join(", "))
        }
        _ => summary::short(v),
    }
}

impl Change {
    /// One line for people: `~ column app.orders.total: type numeric → bigint`.
    pub fn summary(&self) -> String {
        let what = format!(
            "{} {}",
            self.object.kind.as_str().replace('-', " "),
            self.object.name
        );
        let short = summary::short;
        match self.code {
            ChangeCode::Added(_) => format!("+ {what} added"),
            ChangeCode::Removed(_) => format!("- {what} removed"),
            ChangeCode::Renamed(_) => format!("~ {what} renamed from {}", short(&self.before)),
            ChangeCode::PrivilegeGranted => format!("+ {what}: granted {}", grant(&self.after)),
            ChangeCode::PrivilegeRevoked => format!("- {what}: revoked {}", grant(&self.before)),
            _ => format!(
                "~ {what}: {}",
                summary::changed(
                    self.attribute.as_deref().unwrap_or("definition"),
                    &self.before,
                    &self.after
                )
            ),
        }
    }
}
