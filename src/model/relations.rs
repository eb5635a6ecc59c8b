//! Relations and the objects that live inside them: tables, views,
//! materialized views, sequences; columns, constraints, indexes, triggers,
//! policies and rules keyed by name inside their relation.

use super::{Column, Grant};
use serde::{Deserialize, Serialize};

pub(super) fn is_false(v: &bool) -> bool {
    !*v
}

/// A list read with no spare capacity. serde grows a list by doubling as
/// it reads (a table's 9 columns end in room for 16, and a column is a few
/// hundred bytes): on a 10,000-table snapshot the slack was half of all
/// the memory its objects held.
pub(super) fn exact<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
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

pub(super) fn yes() -> bool {
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
