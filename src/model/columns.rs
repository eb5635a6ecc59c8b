//! Columns: the few attributes most columns set inline, the rest boxed
//! apart (a 10,000-table schema holds about 100,000 of them, and `check`
//! and `diff` hold two snapshots at once).

use super::relations::{exact, is_false, yes};
use super::{Grant, Identity};
use serde::{Deserialize, Serialize};

/// A column of a table, view or materialized view.
///
/// The fields most columns set are inline; the rest sit in one boxed
/// [`ColumnDetails`], absent while all of them are at their defaults: a
/// column is about half the size it was with every field inline, which on
/// a 10,000-table schema (100,000 columns, two snapshots at once in `check`
/// and `diff`) is tens of megabytes. The JSON is the same field for field,
/// in the same order (see `layout_tests.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ColumnFields")]
pub struct Column {
    /// Column name (its identity inside the relation).
    pub name: String,
    /// Rank among the live columns, from 1 (dropped columns do not count).
    pub position: u32,
    /// Type as format_type prints it, with its modifier.
    pub data_type: String,
    /// COLLATE, when not the type's default.
    pub collation: Option<String>,
    /// NOT NULL.
    pub not_null: bool,
    /// DEFAULT expression.
    pub default: Option<String>,
    /// Inherited from a parent table and not declared locally.
    pub inherited: bool,
    /// COMMENT ON COLUMN.
    pub comment: Option<String>,
    /// Column privileges.
    pub acl: Vec<Grant>,
    /// The rarely set attributes; `None` when all are at their defaults
    /// (read them through [`Column::details`]).
    pub details: Option<Box<ColumnDetails>>,
}

/// The attributes few columns set, boxed apart from [`Column`].
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDetails {
    /// The name of the NOT NULL constraint (18 names them), when a user
    /// chose it (not PostgreSQL's `…_not_null`).
    pub not_null_name: Option<String>,
    /// False for a NOT NULL constraint added NOT VALID (18) and not yet
    /// validated.
    pub not_null_valid: bool,
    /// NOT NULL … NO INHERIT (18).
    pub not_null_no_inherit: bool,
    /// GENERATED … AS IDENTITY.
    pub identity: Option<Identity>,
    /// GENERATED ALWAYS AS (…) expression (STORED unless `virtual`).
    pub generated: Option<String>,
    /// A VIRTUAL generated column (18), computed when read.
    pub generated_virtual: bool,
    /// SET STATISTICS target, when set.
    pub statistics_target: Option<i32>,
    /// SET STORAGE, when not the type's default.
    pub storage: Option<String>,
    /// SET COMPRESSION, when set.
    pub compression: Option<String>,
    /// Attribute options (n_distinct, …), sorted.
    pub options: Vec<String>,
    /// Foreign-table column OPTIONS, sorted.
    pub server_options: Vec<String>,
}

/// What a column without details reads as.
static NO_DETAILS: ColumnDetails = ColumnDetails::NONE;

impl ColumnDetails {
    /// Every attribute at its default.
    pub const NONE: ColumnDetails = ColumnDetails {
        not_null_name: None,
        not_null_valid: true,
        not_null_no_inherit: false,
        identity: None,
        generated: None,
        generated_virtual: false,
        statistics_target: None,
        storage: None,
        compression: None,
        options: Vec::new(),
        server_options: Vec::new(),
    };

    /// Boxed, or `None` when every attribute is at its default.
    pub fn boxed(self) -> Option<Box<ColumnDetails>> {
        (self != ColumnDetails::NONE).then(|| Box::new(self))
    }
}

impl Default for ColumnDetails {
    fn default() -> Self {
        ColumnDetails::NONE
    }
}

impl Column {
    /// The rarely set attributes (their defaults when none is set).
    pub fn details(&self) -> &ColumnDetails {
        self.details.as_deref().unwrap_or(&NO_DETAILS)
    }

    /// The rarely set attributes, to change them.
    pub fn details_mut(&mut self) -> &mut ColumnDetails {
        self.details.get_or_insert_with(Box::default)
    }
}

impl PartialEq for Column {
    fn eq(&self, other: &Column) -> bool {
        // Details at their defaults equal no details.
        self.name == other.name
            && self.position == other.position
            && self.data_type == other.data_type
            && self.collation == other.collation
            && self.not_null == other.not_null
            && self.default == other.default
            && self.inherited == other.inherited
            && self.comment == other.comment
            && self.acl == other.acl
            && self.details() == other.details()
    }
}

/// A column's fields in snapshot order, as they are read.
#[derive(Deserialize)]
struct ColumnFields {
    name: String,
    position: u32,
    #[serde(rename = "type")]
    data_type: String,
    #[serde(default)]
    collation: Option<String>,
    #[serde(default)]
    not_null: bool,
    #[serde(default)]
    not_null_name: Option<String>,
    #[serde(default = "yes")]
    not_null_valid: bool,
    #[serde(default)]
    not_null_no_inherit: bool,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    identity: Option<Identity>,
    #[serde(default)]
    generated: Option<String>,
    #[serde(default, rename = "virtual")]
    generated_virtual: bool,
    #[serde(default)]
    inherited: bool,
    #[serde(default)]
    statistics_target: Option<i32>,
    #[serde(default)]
    storage: Option<String>,
    #[serde(default)]
    compression: Option<String>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    server_options: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "exact")]
    acl: Vec<Grant>,
}

impl From<ColumnFields> for Column {
    fn from(f: ColumnFields) -> Column {
        Column {
            name: f.name,
            position: f.position,
            data_type: f.data_type,
            collation: f.collation,
            not_null: f.not_null,
            default: f.default,
            inherited: f.inherited,
            comment: f.comment,
            acl: f.acl,
            details: ColumnDetails {
                not_null_name: f.not_null_name,
                not_null_valid: f.not_null_valid,
                not_null_no_inherit: f.not_null_no_inherit,
                identity: f.identity,
                generated: f.generated,
                generated_virtual: f.generated_virtual,
                statistics_target: f.statistics_target,
                storage: f.storage,
                compression: f.compression,
                options: f.options,
                server_options: f.server_options,
            }
            .boxed(),
        }
    }
}

/// A column's fields in snapshot order, borrowed, as they are written.
#[derive(Serialize)]
struct ColumnText<'a> {
    name: &'a str,
    position: u32,
    #[serde(rename = "type")]
    data_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    collation: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    not_null: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_null_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Clone::clone")]
    not_null_valid: bool,
    #[serde(skip_serializing_if = "is_false")]
    not_null_no_inherit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'a Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generated: Option<&'a str>,
    #[serde(rename = "virtual", skip_serializing_if = "is_false")]
    generated_virtual: bool,
    #[serde(skip_serializing_if = "is_false")]
    inherited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistics_target: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    options: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    server_options: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Grant]>::is_empty")]
    acl: &'a [Grant],
}

impl Serialize for Column {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.details();
        ColumnText {
            name: &self.name,
            position: self.position,
            data_type: &self.data_type,
            collation: self.collation.as_deref(),
            not_null: self.not_null,
            not_null_name: d.not_null_name.as_deref(),
            not_null_valid: d.not_null_valid,
            not_null_no_inherit: d.not_null_no_inherit,
            default: self.default.as_deref(),
            identity: d.identity.as_ref(),
            generated: d.generated.as_deref(),
            generated_virtual: d.generated_virtual,
            inherited: self.inherited,
            statistics_target: d.statistics_target,
            storage: d.storage.as_deref(),
            compression: d.compression.as_deref(),
            options: &d.options,
            server_options: &d.server_options,
            comment: self.comment.as_deref(),
            acl: &self.acl,
        }
        .serialize(serializer)
    }
}
