//! The planner's phases: one ordered list, the order statements run in.
//! A variant's place in the list is its order (derived), so a phase is
//! added by writing it where it runs, never by numbering it.

/// Phases, in execution order: statements run in the order of their
/// phase (the variants' order, derived), then in the order the planners
/// pushed them. Drops first (dependents before what they depend on), then
/// creates and alters (dependencies first). A new kind takes the phase
/// its dependencies put it in, or a variant of its own inserted here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Renames the differ proves: first, so everything after uses the new names.
    Renames,
    /// Sequences that stay let go of an owning column that goes or changes
    /// (dropping the column would drop them too).
    DetachSequences,
    /// Triggers that go or change.
    DropTriggers,
    /// Views and materialized views that go or are re-created.
    DropViews,
    /// Foreign keys that go, change or lose the key they lean on.
    DropForeignKeys,
    /// Column defaults that go or change.
    DropDefaults,
    /// Constraints, indexes and extended statistics that go or change.
    DropConstraints,
    /// Functions whose signature or SQL-standard body names a relation that goes.
    DropFunctions,
    /// Columns that go (or are added again).
    DropColumns,
    /// Tables that go or are re-created.
    DropTables,
    /// Text search configurations that go or are re-created: once the
    /// columns, indexes, views and functions that named them are gone.
    DropTextSearch,
    /// Other functions: after the tables whose triggers and defaults call them.
    DropLateFunctions,
    /// Sequences that go.
    DropSequences,
    /// Types that go or are re-created, and collations that change.
    DropTypes,
    /// Schemas and collations created.
    Schemas,
    /// Extensions created, moved or updated.
    Extensions,
    /// Types created or altered.
    Types,
    /// Sequences created or altered.
    Sequences,
    /// Functions created or replaced.
    Functions,
    /// Text search dictionaries created or altered: before the
    /// configurations that map token types to them.
    TextSearchDictionaries,
    /// Text search configurations created or altered: after the functions
    /// and extensions their parsers and dictionaries come from, before the
    /// tables, indexes and views that may name them.
    TextSearch,
    /// Text search dictionaries that go or are re-created: once the
    /// configurations that used them are gone or map other dictionaries.
    DropTextSearchDictionaries,
    /// Tables created.
    Tables,
    /// Columns added or altered.
    Columns,
    /// Column types changed.
    Retype,
    /// Generated columns added: after the columns their expression reads
    /// are re-typed (PostgreSQL refuses to re-type a column one uses); and
    /// the columns added after one, so they keep their order.
    GeneratedColumns,
    /// Types and collations no column uses any more, once columns are re-typed.
    LateDrops,
    /// Collations, once the types and columns that use them are gone.
    LateDropCollations,
    /// Extensions, foreign servers and schemas, once nothing in them is left.
    DropSchemas,
    /// Functions that name a relation created here (signature or SQL-standard body).
    LateFunctions,
    /// Columns moved to the end (--reorder-columns).
    Reorder,
    /// Constraints added.
    Constraints,
    /// Indexes created.
    Indexes,
    /// Column defaults set.
    Defaults,
    /// Sequences take their owning column (OWNED BY), once it exists.
    SequenceOwners,
    /// Foreign keys added, once every key they reference exists.
    ForeignKeys,
    /// Views and materialized views created, in the order their queries read each other.
    Views,
    /// Triggers and rules created.
    Triggers,
    /// Row-level security and policies.
    Policies,
    /// Everything that hangs off the objects above (extended statistics, database-wide kinds).
    Others,
    /// Owners changed.
    Owners,
    /// Grants and revokes.
    Privileges,
    /// Comments.
    Comments,
}

impl Phase {
    /// The phase of the statements on column `n` that `column_extras`
    /// writes: a column added (or added again) may be added late (see
    /// [`Phase::GeneratedColumns`]), so they come after every add.
    pub(crate) fn column_extras(existed: bool, n: &crate::model::Column) -> Phase {
        if !existed || n.details().generated.is_some() {
            Phase::GeneratedColumns
        } else {
            Phase::Columns
        }
    }
}
