//! Relations and the objects that live inside them: tables, views,
//! materialized views, sequences; columns, constraints, indexes, triggers,
//! policies and rules keyed by name inside their relation.

use super::Grant;
use serde::{Deserialize, Serialize};

fn is_false(v: &bool) -> bool {
    !*v
}

/// A list read with no spare capacity. serde grows a list by doubling as
/// it reads (a table's 9 columns end in room for 16, and a column is a few
/// hundred bytes): on a 10,000-table snapshot the slack was half of all
/// the memory its objects held.
fn exact<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut list = Vec::<T>::deserialize(deserializer)?;
    list.shrink_to_fit();
    Ok(list)
}

/// A table: ordinary, partitioned or foreign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Schema.
    pub schema: String,
    /// Table name.
    pub name: String,
    /// `table`, `partitioned-table` or `foreign-table`.
    pub kind: String,
    /// Owning role.
    pub owner: String,
    /// UNLOGGED.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlogged: bool,
    /// PARTITION BY clause of a partitioned table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_by: Option<String>,
    /// Parent of a partition, schema-qualified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<String>,
    /// Bound of a partition (`FOR VALUES …`, `DEFAULT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_bound: Option<String>,
    /// INHERITS parents, schema-qualified, in inheritance order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<String>,
    /// ENABLE ROW LEVEL SECURITY.
    #[serde(default, skip_serializing_if = "is_false")]
    pub row_security: bool,
    /// FORCE ROW LEVEL SECURITY.
    #[serde(default, skip_serializing_if = "is_false")]
    pub force_row_security: bool,
    /// REPLICA IDENTITY when not `default`: `full`, `nothing`, or
    /// `using index <name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<String>,
    /// CLUSTER ON this index (which may be a constraint's index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_on: Option<String>,
    /// Table access method when not `heap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// TABLESPACE when not the database default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// WITH (storage parameters), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Foreign server of a foreign table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// OPTIONS of a foreign table, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_options: Vec<String>,
    /// COMMENT ON TABLE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default, deserialize_with = "exact")]
    pub acl: Vec<Grant>,
    /// Columns by position.
    #[serde(default, deserialize_with = "exact")]
    pub columns: Vec<Column>,
    /// Constraints by name.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub constraints: Vec<Constraint>,
    /// Indexes by name (those that implement a constraint are part of it).
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub indexes: Vec<Index>,
    /// Triggers by name (internal ones left out).
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub triggers: Vec<Trigger>,
    /// Row-level security policies by name.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub policies: Vec<Policy>,
    /// Rewrite rules by name.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rules: Vec<Rule>,
}

impl Table {
    /// Sorts the nested lists into canonical order.
    pub fn canonicalize(&mut self) {
        self.columns.sort_by_key(|c| c.position);
        self.constraints.sort_by(|a, b| a.name.cmp(&b.name));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.triggers.sort_by(|a, b| a.name.cmp(&b.name));
        self.policies.sort_by(|a, b| a.name.cmp(&b.name));
        self.rules.sort_by(|a, b| a.name.cmp(&b.name));
        self.options.sort();
        self.server_options.sort();
        // Assembly pushes into these one by one: no spare room kept.
        self.columns.shrink_to_fit();
        self.constraints.shrink_to_fit();
        self.indexes.shrink_to_fit();
        self.triggers.shrink_to_fit();
    }
}

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

/// An identity column's generation and its sequence options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// `always` or `by-default`.
    pub generation: String,
    /// The identity sequence's parameters.
    pub sequence: SequenceOptions,
}

/// Sequence parameters (never its current value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceOptions {
    /// AS type.
    pub data_type: String,
    /// START WITH.
    pub start: i64,
    /// INCREMENT BY.
    pub increment: i64,
    /// MINVALUE.
    pub min: i64,
    /// MAXVALUE.
    pub max: i64,
    /// CACHE.
    pub cache: i64,
    /// CYCLE.
    pub cycle: bool,
}

/// A free-standing sequence, or one owned by a serial column (OWNED BY).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Parameters.
    #[serde(flatten)]
    pub options: SequenceOptions,
    /// OWNED BY `schema.table.column`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// UNLOGGED.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlogged: bool,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON SEQUENCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default, deserialize_with = "exact")]
    pub acl: Vec<Grant>,
}

/// A table constraint. NOT NULL is a column attribute (18 stores it as a
/// constraint too: its name and flags are the column's `not_null_*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// Constraint name (its identity inside the table).
    pub name: String,
    /// `primary-key`, `unique`, `check`, `foreign-key` or `exclusion`.
    #[serde(rename = "type")]
    pub constraint_type: String,
    /// Constrained columns, in key order.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub columns: Vec<String>,
    /// INCLUDE columns of a primary key or unique constraint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// NULLS NOT DISTINCT of a unique constraint.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
    /// CHECK expression, or the full definition of an exclusion constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Referenced table and columns of a foreign key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<Box<References>>,
    /// DEFERRABLE.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    /// INITIALLY DEFERRED.
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
    /// False for NOT VALID constraints not yet validated.
    pub validated: bool,
    /// NOT ENFORCED (18; check and foreign-key constraints). Not the same
    /// as NOT VALID: the constraint is not checked at all.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_enforced: bool,
    /// A foreign key some of whose system triggers are disabled
    /// (`ALTER TABLE … DISABLE TRIGGER ALL`, say for a bulk load never
    /// undone): rows are no longer checked, though the catalog and
    /// `pg_dump -s` still show the key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub triggers_disabled: bool,
    /// WITHOUT OVERLAPS on the last key column of a primary key or unique
    /// constraint (18).
    #[serde(default, skip_serializing_if = "is_false")]
    pub without_overlaps: bool,
    /// NO INHERIT (check constraints).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_inherit: bool,
    /// Inherited from a parent and not declared locally.
    #[serde(default, skip_serializing_if = "is_false")]
    pub inherited: bool,
    /// COMMENT ON CONSTRAINT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The referenced side of a foreign key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct References {
    /// Referenced table, schema-qualified.
    pub table: String,
    /// Referenced columns.
    pub columns: Vec<String>,
    /// ON UPDATE action (`no-action`, `restrict`, `cascade`, `set-null`, `set-default`).
    pub on_update: String,
    /// ON DELETE action.
    pub on_delete: String,
    /// The columns of ON DELETE SET NULL / SET DEFAULT (…) (15), when limited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_delete_columns: Vec<String>,
    /// PERIOD on the last column of both sides (18, temporal keys).
    #[serde(default, skip_serializing_if = "is_false")]
    pub period: bool,
    /// MATCH type (`simple`, `full`, `partial`).
    #[serde(rename = "match")]
    pub match_type: String,
}

/// An index that does not implement a constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Index name (its identity inside the table).
    pub name: String,
    /// UNIQUE.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Access method (`btree`, `gin`, …).
    pub method: String,
    /// Key columns or expressions with COLLATE, opclass, DESC, NULLS.
    pub keys: Vec<String>,
    /// INCLUDE columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// NULLS NOT DISTINCT.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
    /// WHERE predicate of a partial index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// WITH (storage parameters), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// TABLESPACE when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// Parent index this partition index is attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<String>,
    /// False for an index left invalid by a failed CREATE INDEX CONCURRENTLY.
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub valid: bool,
    /// COMMENT ON INDEX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

fn yes() -> bool {
    true
}

/// A trigger on a table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Trigger name (its identity inside the relation).
    pub name: String,
    /// `before`, `after` or `instead-of`.
    pub timing: String,
    /// Events (`insert`, `update`, `update of a, b`, `delete`, `truncate`).
    pub events: Vec<String>,
    /// `row` or `statement`.
    pub level: String,
    /// The function it executes, schema-qualified.
    pub function: String,
    /// Arguments passed to the function.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// WHEN condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// CONSTRAINT trigger.
    #[serde(default, skip_serializing_if = "is_false")]
    pub constraint: bool,
    /// DEFERRABLE (constraint triggers).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    /// INITIALLY DEFERRED (constraint triggers).
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
    /// REFERENCING OLD TABLE AS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_table: Option<String>,
    /// REFERENCING NEW TABLE AS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_table: Option<String>,
    /// `origin` (the default), `always`, `replica` or `disabled`.
    pub enabled: String,
    /// COMMENT ON TRIGGER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A row-level security policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Policy name (its identity inside the table).
    pub name: String,
    /// `all`, `select`, `insert`, `update` or `delete`.
    pub command: String,
    /// PERMISSIVE (true) or RESTRICTIVE.
    pub permissive: bool,
    /// TO roles, sorted, as [`Grantee::key`](super::Grantee::key) writes
    /// them (`PUBLIC` for everyone, `"PUBLIC"` for a role of that name).
    pub roles: Vec<String>,
    /// USING expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// WITH CHECK expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
    /// COMMENT ON POLICY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A rewrite rule (CREATE RULE), other than a view's own `_RETURN` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Rule name (its identity inside the relation).
    pub name: String,
    /// Definition as the server prints it.
    pub definition: String,
    /// `origin`, `always`, `replica` or `disabled`.
    pub enabled: String,
    /// COMMENT ON RULE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The query, as the server prints it.
    pub definition: String,
    /// WITH options (check_option, security_barrier, security_invoker), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON VIEW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default, deserialize_with = "exact")]
    pub acl: Vec<Grant>,
    /// Output columns (types follow from the query; comments, defaults and
    /// grants are the view's own).
    #[serde(default, deserialize_with = "exact")]
    pub columns: Vec<Column>,
    /// INSTEAD OF and other triggers.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub triggers: Vec<Trigger>,
    /// Rules other than `_RETURN`.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rules: Vec<Rule>,
}

impl View {
    /// Sorts the nested lists into canonical order.
    pub fn canonicalize(&mut self) {
        self.columns.sort_by_key(|c| c.position);
        self.triggers.sort_by(|a, b| a.name.cmp(&b.name));
        self.rules.sort_by(|a, b| a.name.cmp(&b.name));
        self.options.sort();
        self.columns.shrink_to_fit();
    }
}

/// A materialized view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaterializedView {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The query, as the server prints it.
    pub definition: String,
    /// WITH (storage parameters), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// TABLESPACE when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// Access method when not `heap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON MATERIALIZED VIEW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default, deserialize_with = "exact")]
    pub acl: Vec<Grant>,
    /// Output columns.
    #[serde(default, deserialize_with = "exact")]
    pub columns: Vec<Column>,
    /// Indexes by name.
    #[serde(
        default,
        deserialize_with = "exact",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub indexes: Vec<Index>,
}

impl MaterializedView {
    /// Sorts the nested lists into canonical order.
    pub fn canonicalize(&mut self) {
        self.columns.sort_by_key(|c| c.position);
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.options.sort();
        self.columns.shrink_to_fit();
        self.indexes.shrink_to_fit();
    }
}
