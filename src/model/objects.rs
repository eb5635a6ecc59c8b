//! Schema-level object kinds other than relations.

use super::{
    sort_keyed, Grant, MaterializedView, Sequence, Table, TextSearchConfiguration,
    TextSearchDictionary, View,
};
use serde::{Deserialize, Serialize};

/// Every object of a snapshot, one list per kind, each in canonical order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Objects {
    /// Schemas (namespaces).
    pub schemas: Vec<Schema>,
    /// Installed extensions with their versions.
    pub extensions: Vec<Extension>,
    /// User-defined collations.
    pub collations: Vec<Collation>,
    /// Enums, domains, composite and range types.
    pub types: Vec<TypeDef>,
    /// Free-standing and serial-owned sequences (identity sequences belong to their column).
    pub sequences: Vec<Sequence>,
    /// Tables, partitioned tables and foreign tables.
    pub tables: Vec<Table>,
    /// Views.
    pub views: Vec<View>,
    /// Materialized views.
    pub materialized_views: Vec<MaterializedView>,
    /// Functions, procedures and aggregates.
    pub functions: Vec<Function>,
    /// Extended statistics objects.
    pub statistics: Vec<Statistics>,
    /// Event triggers (database-wide).
    pub event_triggers: Vec<EventTrigger>,
    /// Publications for logical replication.
    pub publications: Vec<Publication>,
    /// Foreign-data wrappers not owned by an extension.
    pub foreign_data_wrappers: Vec<ForeignDataWrapper>,
    /// Foreign servers with their user mappings.
    pub foreign_servers: Vec<ForeignServer>,
    /// ALTER DEFAULT PRIVILEGES entries.
    pub default_privileges: Vec<DefaultPrivilege>,
    /// Text search dictionaries. Added after the snapshot format was fixed:
    /// left out while empty, as the configurations below.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub text_search_dictionaries: Vec<TextSearchDictionary>,
    /// Text search configurations. Added after the snapshot format was
    /// fixed: left out while empty (see [`OPTIONAL_LISTS`](super::OPTIONAL_LISTS)),
    /// so every snapshot without one stays byte for byte what it was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub text_search_configurations: Vec<TextSearchConfiguration>,
}

impl Objects {
    /// Sorts every list (and every nested list) into canonical order: each
    /// top-level list by its objects' identity ([`Keyed`](super::Keyed)).
    pub fn canonicalize(&mut self) {
        macro_rules! sort {
            ($list:ident, $kind:ident) => {
                sort_keyed(&mut self.$list);
                // Lists are built one push at a time: no spare room kept.
                self.$list.shrink_to_fit();
            };
        }
        crate::each_kind!(sort);
    }

    /// Keeps only the objects of the wanted schemas. Database-wide objects
    /// (event triggers, publications, foreign servers) are kept only when no
    /// schema list narrows the capture.
    pub fn retain_schemas(&mut self, only: &[String], exclude: &[String]) {
        let objects = self;
        if only.is_empty() && exclude.is_empty() {
            return;
        }
        let keep = |schema: &str| {
            (only.is_empty() || only.iter().any(|s| s == schema))
                && !exclude.iter().any(|s| s == schema)
        };
        objects.schemas.retain(|s| keep(&s.name));
        // Extensions are database-wide (a kept schema's columns may need
        // them): only excluding their schema drops them.
        objects.extensions.retain(|e| !exclude.contains(&e.schema));
        objects.collations.retain(|c| keep(&c.schema));
        objects.types.retain(|t| keep(&t.schema));
        objects.sequences.retain(|s| keep(&s.schema));
        objects.tables.retain(|t| keep(&t.schema));
        objects.views.retain(|v| keep(&v.schema));
        objects.materialized_views.retain(|v| keep(&v.schema));
        objects.functions.retain(|f| keep(&f.schema));
        objects.statistics.retain(|s| keep(&s.schema));
        objects.text_search_dictionaries.retain(|d| keep(&d.schema));
        objects
            .text_search_configurations
            .retain(|c| keep(&c.schema));
        objects
            .default_privileges
            .retain(|d| d.schema.as_deref().map(keep).unwrap_or(only.is_empty()));
        if !only.is_empty() {
            objects.event_triggers.clear();
            objects.publications.clear();
            objects.foreign_data_wrappers.clear();
            objects.foreign_servers.clear();
        }
    }

    /// Object counts by kind, children included, in a fixed order.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let sum = |f: &dyn Fn(&Table) -> usize| self.tables.iter().map(f).sum::<usize>();
        let matview_indexes: usize = self
            .materialized_views
            .iter()
            .map(|m| m.indexes.len())
            .sum();
        vec![
            ("schemas", self.schemas.len()),
            ("extensions", self.extensions.len()),
            ("collations", self.collations.len()),
            ("types", self.types.len()),
            ("sequences", self.sequences.len()),
            ("tables", self.tables.len()),
            ("columns", sum(&|t| t.columns.len())),
            ("constraints", sum(&|t| t.constraints.len())),
            ("indexes", sum(&|t| t.indexes.len()) + matview_indexes),
            (
                "triggers",
                sum(&|t| t.triggers.len())
                    + self.views.iter().map(|v| v.triggers.len()).sum::<usize>(),
            ),
            ("policies", sum(&|t| t.policies.len())),
            (
                "rules",
                sum(&|t| t.rules.len()) + self.views.iter().map(|v| v.rules.len()).sum::<usize>(),
            ),
            ("views", self.views.len()),
            ("materialized_views", self.materialized_views.len()),
            ("functions", self.functions.len()),
            ("statistics", self.statistics.len()),
            ("event_triggers", self.event_triggers.len()),
            ("publications", self.publications.len()),
            ("foreign_data_wrappers", self.foreign_data_wrappers.len()),
            ("foreign_servers", self.foreign_servers.len()),
            ("default_privileges", self.default_privileges.len()),
            (
                "text_search_dictionaries",
                self.text_search_dictionaries.len(),
            ),
            (
                "text_search_configurations",
                self.text_search_configurations.len(),
            ),
        ]
    }
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// A schema (namespace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Schema name.
    pub name: String,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON SCHEMA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default)]
    pub acl: Vec<Grant>,
}

impl Schema {
    /// A schema with only a name (for tests and synthetic snapshots).
    pub fn named(name: &str) -> Schema {
        Schema {
            name: name.to_string(),
            owner: String::new(),
            comment: None,
            acl: Vec::new(),
        }
    }
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    /// Extension name.
    pub name: String,
    /// Schema its objects live in.
    pub schema: String,
    /// Installed version.
    pub version: String,
}

/// A user-defined collation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collation {
    /// Schema.
    pub schema: String,
    /// Collation name.
    pub name: String,
    /// `libc`, `icu`, `builtin` (17) or `default`.
    pub provider: String,
    /// False for nondeterministic (e.g. case-insensitive ICU) collations.
    pub deterministic: bool,
    /// LC_COLLATE (libc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lc_collate: Option<String>,
    /// LC_CTYPE (libc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lc_ctype: Option<String>,
    /// ICU locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icu_locale: Option<String>,
    /// ICU tailoring rules (16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icu_rules: Option<String>,
    /// Locale of the builtin provider (17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin_locale: Option<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON COLLATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A user-defined type: enum, domain, composite or range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeDef {
    /// Schema.
    pub schema: String,
    /// Type name.
    pub name: String,
    /// What kind of type, with its definition.
    #[serde(flatten)]
    pub kind: TypeKind,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON TYPE / DOMAIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default)]
    pub acl: Vec<Grant>,
}

/// The definition of a user-defined type, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TypeKind {
    /// CREATE TYPE … AS ENUM.
    Enum {
        /// Labels in their sort order (never the float sort keys).
        labels: Vec<String>,
    },
    /// CREATE DOMAIN.
    Domain {
        /// Underlying type, as format_type prints it.
        base_type: String,
        /// COLLATE clause, when not the base type's default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        /// NOT NULL.
        #[serde(default, skip_serializing_if = "is_false")]
        not_null: bool,
        /// The NOT NULL constraint's name (17 names them), when a user
        /// chose it (not PostgreSQL's `…_not_null`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_null_name: Option<String>,
        /// DEFAULT expression.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// CHECK constraints.
        #[serde(default)]
        constraints: Vec<DomainConstraint>,
    },
    /// CREATE TYPE … AS (…).
    Composite {
        /// Attributes in order.
        attributes: Vec<TypeAttribute>,
    },
    /// CREATE TYPE … AS RANGE.
    Range {
        /// Element type.
        subtype: String,
        /// Subtype operator class, when not the default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subtype_opclass: Option<String>,
        /// Collation, when set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        /// Canonical function.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        canonical: Option<String>,
        /// Subtype difference function.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subtype_diff: Option<String>,
        /// Name of the multirange type created with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        multirange: Option<String>,
    },
}

/// A CHECK constraint on a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainConstraint {
    /// Constraint name.
    pub name: String,
    /// The CHECK expression.
    pub check: String,
    /// False when added NOT VALID and not yet validated.
    pub validated: bool,
    /// COMMENT ON CONSTRAINT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeAttribute {
    /// Attribute name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub data_type: String,
    /// COLLATE clause, when not the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A function, procedure or aggregate. Identity: schema, name and argument types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Identity arguments (`pg_get_function_identity_arguments`).
    pub arguments: String,
    /// `function`, `procedure`, `aggregate` or `window`.
    pub kind: String,
    /// Full argument list with names and defaults.
    pub signature: String,
    /// Result type (absent for procedures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    /// Implementation language.
    pub language: String,
    /// Source text (or the SQL-standard body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `immutable`, `stable` or `volatile`.
    pub volatility: String,
    /// STRICT.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
    /// SECURITY DEFINER.
    #[serde(default, skip_serializing_if = "is_false")]
    pub security_definer: bool,
    /// LEAKPROOF.
    #[serde(default, skip_serializing_if = "is_false")]
    pub leakproof: bool,
    /// `safe`, `restricted` or `unsafe`.
    pub parallel: String,
    /// COST.
    pub cost: f32,
    /// ROWS (set-returning functions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<f32>,
    /// SET clauses (`search_path=public`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Aggregate details, for aggregates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON FUNCTION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges (defaults made explicit).
    #[serde(default)]
    pub acl: Vec<Grant>,
}

/// The parts of CREATE AGGREGATE beyond the function header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// `normal`, `ordered-set` or `hypothetical`.
    pub kind: String,
    /// SFUNC.
    pub transition_function: String,
    /// STYPE.
    pub state_type: String,
    /// FINALFUNC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_function: Option<String>,
    /// COMBINEFUNC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_function: Option<String>,
    /// INITCOND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_condition: Option<String>,
    /// SORTOP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_operator: Option<String>,
}

/// An extended statistics object (CREATE STATISTICS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The table it is on, schema-qualified.
    pub table: String,
    /// Statistics kinds (`ndistinct`, `dependencies`, `mcv`, `expressions`).
    pub kinds: Vec<String>,
    /// Columns and expressions, in order.
    pub keys: Vec<String>,
    /// STATISTICS target, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i32>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON STATISTICS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An event trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTrigger {
    /// Name.
    pub name: String,
    /// Event (`ddl_command_start`, …).
    pub event: String,
    /// The function it executes, schema-qualified.
    pub function: String,
    /// WHEN TAG IN (…), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `origin`, `always`, `replica` or `disabled`.
    pub enabled: String,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON EVENT TRIGGER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publication {
    /// Name.
    pub name: String,
    /// FOR ALL TABLES.
    pub all_tables: bool,
    /// Published operations (`insert`, `update`, `delete`, `truncate`).
    pub publish: Vec<String>,
    /// publish_via_partition_root.
    pub via_root: bool,
    /// publish_generated_columns (18), when not `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_columns: Option<String>,
    /// Published tables with their column lists and row filters.
    #[serde(default)]
    pub tables: Vec<PublicationTable>,
    /// FOR TABLES IN SCHEMA.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON PUBLICATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A table in a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicationTable {
    /// Schema-qualified table.
    pub table: String,
    /// Column list, when restricted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Row filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_filter: Option<String>,
}

/// A foreign-data wrapper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignDataWrapper {
    /// Name.
    pub name: String,
    /// HANDLER function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// VALIDATOR function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    /// OPTIONS, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges.
    #[serde(default)]
    pub acl: Vec<Grant>,
}

/// A foreign server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignServer {
    /// Name.
    pub name: String,
    /// Its foreign-data wrapper.
    pub wrapper: String,
    /// TYPE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_type: Option<String>,
    /// VERSION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// OPTIONS, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Roles with a user mapping (`PUBLIC` for the public mapping). Mapping
    /// options are not captured: they hold passwords and are hidden from
    /// non-owners anyway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_mappings: Vec<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges.
    #[serde(default)]
    pub acl: Vec<Grant>,
}

/// One ALTER DEFAULT PRIVILEGES entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefaultPrivilege {
    /// The role whose future objects get the privileges.
    pub role: String,
    /// IN SCHEMA, when limited to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `tables`, `sequences`, `functions`, `types` or `schemas`.
    pub object_type: String,
    /// The privileges future objects get.
    pub grants: Vec<Grant>,
}
