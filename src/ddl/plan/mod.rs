//! Migration SQL: the statements that turn schema A into schema B, for
//! `diff --sql` and `baseline --write-migration`. Pure: two snapshots in,
//! a [`Plan`] out.
//!
//! The planner works on the model's typed objects (a `Table` against a
//! `Table`), not on the diff's JSON changes: every decision (ALTER or drop
//! and re-create, which views a change forces out and back) matches on
//! fields. Statements go in phases (drops in reverse dependency order, then
//! creates and alters forward: schemas, types, sequences, functions,
//! tables, constraints, indexes, defaults, foreign keys, views, triggers,
//! policies, grants, comments); views and materialized views are ordered
//! among themselves by what their queries read (pg_query), and a view is
//! dropped and re-created whenever something it reads is.

mod casts;
mod columns;
mod deps;
mod functions;
mod global;
mod others;
mod pair;
mod partitions;
mod phase;
mod privileges;
mod renames;
mod reorder;
mod rest;
mod tables;
mod text_search;
mod types;
mod views;

use crate::ddl::quote;
use crate::model::{Objects, Snapshot};
pub(crate) use phase::Phase;
use serde::Serialize;

/// Why a statement deserves a second look, in pg-schema-diff's spirit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hazard {
    /// Data is deleted (DROP TABLE, DROP COLUMN, a re-created table).
    DeletesData,
    /// A column's type changes: the table is rewritten, or the cast fails
    /// on existing rows.
    ChangesType,
    /// Every row is rewritten (columns moved to restore their order).
    RewritesTable,
    /// A generated column becomes a plain one (its values stop following
    /// their expression).
    DropsGeneration,
    /// May fail on existing rows (SET NOT NULL, a new CHECK, a UNIQUE
    /// index, enum values removed).
    MayFail,
    /// Builds an index while blocking writes to the table (use
    /// `--concurrently` on a big table).
    IndexBuild,
    /// Changes who may do what (grants, owners, RLS, policies).
    AuthzUpdate,
    /// A function body changed: what it reads is not tracked by PostgreSQL.
    UntrackableDependencies,
    /// An extension's version changes.
    UpgradesExtension,
    /// driftwatch cannot write this change yet: done by hand.
    Unsupported,
}

impl Hazard {
    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Hazard::DeletesData => "deletes-data",
            Hazard::ChangesType => "changes-type",
            Hazard::RewritesTable => "rewrites-table",
            Hazard::DropsGeneration => "drops-generation",
            Hazard::MayFail => "may-fail",
            Hazard::IndexBuild => "index-build",
            Hazard::AuthzUpdate => "authz-update",
            Hazard::UntrackableDependencies => "untrackable-dependencies",
            Hazard::UpgradesExtension => "upgrades-extension",
            Hazard::Unsupported => "unsupported",
        }
    }

    /// Hazards that lose data: their statements are written commented out
    /// unless drops are allowed.
    pub fn loses_data(self) -> bool {
        matches!(
            self,
            Hazard::DeletesData | Hazard::ChangesType | Hazard::DropsGeneration
        )
    }
}

/// Where a statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Before the transaction, committed on its own (a new enum value must
    /// be committed before anything can use it).
    Before,
    /// Inside the migration's transaction.
    Transaction,
    /// After the transaction (CREATE INDEX CONCURRENTLY).
    After,
}

/// One statement of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// The SQL, ending with `;`.
    pub sql: String,
    /// Its hazards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<Hazard>,
    /// Where it runs.
    pub placement: Placement,
    /// False when it loses data and drops were not allowed: written
    /// commented out.
    pub enabled: bool,
    #[serde(skip)]
    phase: Phase,
    #[serde(skip)]
    seq: usize,
}

/// Planner settings.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Emit statements that lose data (otherwise commented out).
    pub allow_drops: bool,
    /// Build new indexes on existing tables CONCURRENTLY (after the
    /// transaction).
    pub concurrently: bool,
    /// Move columns so the table ends in the target's column order
    /// (rewrites the table); otherwise the order is left, with a warning.
    pub reorder_columns: bool,
    /// `SET lock_timeout` at the top.
    pub lock_timeout: String,
    /// `SET statement_timeout` at the top.
    pub statement_timeout: String,
    /// The major of the server the migration runs on (GRANT MAINTAIN
    /// exists from 17 on); None: the newest.
    pub server_major: Option<u32>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            allow_drops: false,
            concurrently: false,
            reorder_columns: false,
            lock_timeout: "3s".into(),
            statement_timeout: "20min".into(),
            server_major: None,
        }
    }
}

/// The migration from one schema to another.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Session settings that precede everything.
    pub settings: Vec<String>,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Things the reader must know (statements left commented out, kinds
    /// not generated).
    pub warnings: Vec<String>,
}

/// Collects statements as the planners find them.
pub(crate) struct Out {
    statements: Vec<Statement>,
    warnings: Vec<String>,
    /// The role that owns most of the target schema: presumably the one
    /// that runs migrations, so new objects it owns need no ALTER OWNER.
    default_owner: String,
    /// False before 17: MAINTAIN (read into older snapshots so that they
    /// compare with newer ones) is left out of GRANT and REVOKE.
    maintain: bool,
    /// Columns the plan drops, whether to remove them or to add them again
    /// (`schema.table`, column): a sequence they own would go with them.
    dropped_columns: std::collections::BTreeSet<(String, String)>,
}

impl Out {
    /// Adds a statement to run in the transaction.
    pub(crate) fn push(&mut self, phase: Phase, sql: String, hazards: &[Hazard]) {
        self.push_at(phase, sql, hazards, Placement::Transaction);
    }

    /// Adds a statement with its placement.
    pub(crate) fn push_at(
        &mut self,
        phase: Phase,
        sql: String,
        hazards: &[Hazard],
        placement: Placement,
    ) {
        let seq = self.statements.len();
        self.statements.push(Statement {
            // Text the server deparsed (views, defaults, index definitions)
            // keeps the raw characters of the names it quotes.
            sql: crate::ddl::quote::display_safe(&sql),
            hazards: hazards.to_vec(),
            placement,
            enabled: true,
            phase,
            seq,
        });
    }

    /// Something the reader must know about the statements around it: a
    /// warning, and the same words as a comment line in the SQL.
    pub(crate) fn note(&mut self, phase: Phase, what: String) {
        let comment = crate::ddl::quote::comment(&format!("note: {what}"));
        self.warnings.push(what);
        self.push(phase, comment, &[]);
    }

    /// Records that the plan drops column `column` of `table` (`schema.name`).
    pub(crate) fn drops_column(&mut self, table: String, column: &str) {
        self.dropped_columns.insert((table, column.to_string()));
    }

    /// A change driftwatch cannot write: a comment and a warning.
    pub(crate) fn unsupported(&mut self, phase: Phase, what: String) {
        let comment = crate::ddl::quote::comment(&format!("driftwatch cannot generate: {what}"));
        self.warnings
            .push(format!("{what}: not generated, write it by hand"));
        self.push(phase, comment, &[Hazard::Unsupported]);
    }
}

/// The statements that turn `from` into `to`.
pub fn plan(from: &Snapshot, to: &Snapshot, opts: &PlanOptions) -> Plan {
    let mut out = Out {
        statements: Vec::new(),
        warnings: Vec::new(),
        default_owner: most_frequent_owner(&to.objects),
        maintain: opts.server_major.map_or(true, |m| m >= 17),
        dropped_columns: Default::default(),
    };
    let renamed = renames::apply(from, to, &mut out);
    let from: &Objects = &renamed;
    let to = &to.objects;
    let graph = deps::Graph::new(from, to);
    // Relations and functions (`fn:schema.name`) dropped, re-created or
    // re-typed: the views that read them are re-created.
    let mut forced = std::collections::BTreeSet::new();
    others::plan(from, to, &mut forced, &mut out);
    global::plan(from, to, &mut out);
    text_search::plan(from, to, &mut out);
    tables::plan(from, to, opts, &mut forced, &mut out);
    others::sequence_owners(from, to, &mut out);
    views::plan_views(from, to, &graph, &forced, &mut out);
    out.statements.sort_by_key(|s| (s.phase, s.seq));
    let mut blocked = 0;
    for s in &mut out.statements {
        if !opts.allow_drops && s.hazards.iter().any(|h| h.loses_data()) {
            s.enabled = false;
            blocked += 1;
        }
    }
    if blocked > 0 {
        out.warnings.push(format!(
            "{blocked} {} written commented out: review them, then run again with --allow-drops",
            if blocked == 1 {
                "statement that loses data is"
            } else {
                "statements that lose data are"
            }
        ));
    }
    Plan {
        settings: vec![
            // Every literal below is written for it, whatever the server's
            // default: with it off, a backslash in '…' would be an escape.
            "SET standard_conforming_strings = on;".into(),
            format!("SET lock_timeout = {};", quote::literal(&opts.lock_timeout)),
            format!(
                "SET statement_timeout = {};",
                quote::literal(&opts.statement_timeout)
            ),
            // As pg_dump does: function bodies may name tables created later.
            "SET check_function_bodies = off;".into(),
        ],
        statements: out.statements,
        warnings: out.warnings,
    }
}

/// The major of a snapshot's server (`15.18`, `17.2 (Debian …)`).
pub fn snapshot_major(s: &crate::model::Snapshot) -> Option<u32> {
    s.meta
        .server_version
        .as_deref()?
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|m| m.parse().ok())
}

/// The most frequent owner of `objects` (ties: the first name); None
/// when nothing has an owner.
pub fn main_owner(objects: &Objects) -> Option<String> {
    Some(most_frequent_owner(objects)).filter(|o| !o.is_empty())
}

/// The most frequent owner of `objects` (ties: the first name).
fn most_frequent_owner(objects: &Objects) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let owners = objects
        .schemas
        .iter()
        .map(|x| &x.owner)
        .chain(objects.tables.iter().map(|x| &x.owner))
        .chain(objects.views.iter().map(|x| &x.owner))
        .chain(objects.functions.iter().map(|x| &x.owner))
        .chain(objects.sequences.iter().map(|x| &x.owner))
        .chain(objects.types.iter().map(|x| &x.owner));
    for o in owners {
        *counts.entry(o.as_str()).or_default() += 1;
    }
    let best = counts.values().copied().max().unwrap_or(0);
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(o, _)| o.to_string())
        .unwrap_or_default()
}

impl Plan {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// True when some statement cannot run inside the migration tool's
    /// transaction (a new enum value used later, CONCURRENTLY).
    pub fn needs_no_transaction(&self) -> bool {
        self.statements
            .iter()
            .any(|s| s.placement != Placement::Transaction)
    }

    /// The plan as two: the objects, then their owners, grants and comments
    /// (statements that change the catalog and run no code of the schema's,
    /// which a superuser may run after an unprivileged role created the
    /// objects: `replay::seed`).
    pub fn split_authorization(&self) -> (Plan, Plan) {
        let (late, early): (Vec<Statement>, Vec<Statement>) = self
            .statements
            .iter()
            .cloned()
            .partition(|s| s.phase >= Phase::Owners);
        let part = |statements| Plan {
            settings: self.settings.clone(),
            statements,
            warnings: Vec::new(),
        };
        (part(early), part(late))
    }

    /// The migration as a migration file: settings and statements in order,
    /// without BEGIN/COMMIT (migration tools run a file in their own
    /// transaction).
    pub fn to_migration_sql(&self) -> String {
        let mut sql = String::new();
        for s in &self.settings {
            sql.push_str(s);
            sql.push('\n');
        }
        for placement in [Placement::Before, Placement::Transaction, Placement::After] {
            for s in self.statements.iter().filter(|s| s.placement == placement) {
                sql.push('\n');
                write_statement(&mut sql, s);
            }
        }
        sql
    }

    /// The migration as one SQL script: settings, statements that must
    /// commit first, the transaction, statements that cannot run in one.
    pub fn to_sql(&self) -> String {
        if self.statements.is_empty() {
            return String::new();
        }
        let mut sql = String::new();
        for s in &self.settings {
            sql.push_str(s);
            sql.push('\n');
        }
        let write = |sql: &mut String, placement: Placement| {
            for s in self.statements.iter().filter(|s| s.placement == placement) {
                sql.push('\n');
                write_statement(sql, s);
            }
        };
        if self
            .statements
            .iter()
            .any(|s| s.placement == Placement::Before)
        {
            sql.push_str("\n-- committed before the transaction: later statements use them\n");
            write(&mut sql, Placement::Before);
        }
        sql.push_str("\nBEGIN;\n");
        write(&mut sql, Placement::Transaction);
        sql.push_str("\nCOMMIT;\n");
        if self
            .statements
            .iter()
            .any(|s| s.placement == Placement::After)
        {
            sql.push_str("\n-- cannot run in a transaction\n");
            write(&mut sql, Placement::After);
        }
        sql
    }
}

/// A statement with its hazards as a comment; commented out when it is
/// not enabled.
fn write_statement(sql: &mut String, s: &Statement) {
    if !s.hazards.is_empty() {
        let codes: Vec<&str> = s.hazards.iter().map(|h| h.as_str()).collect();
        sql.push_str(&format!("-- hazard: {}\n", codes.join(", ")));
    }
    if s.enabled {
        sql.push_str(&s.sql);
    } else {
        sql.push_str("-- (not run: loses data; use --allow-drops)\n");
        // Split at every line break PostgreSQL ends a comment at, a bare
        // `\r` included: what follows one would run.
        sql.push_str(&crate::ddl::quote::comment(&s.sql));
    }
    sql.push('\n');
}

#[cfg(test)]
mod tests;
