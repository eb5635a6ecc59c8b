//! What `driftwatch rollback` found: data that renderers and `--write`
//! consume.

use crate::ddl::plan::Plan;
use crate::diff::Change;
use crate::normalize::MigrationClass;
use serde::Serialize;

/// `format` of a rollback report.
pub const ROLLBACK_FORMAT: &str = "driftwatch.rollback/1";

/// One rollback: from the applied version back to the state before the
/// first migration rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// Always [`ROLLBACK_FORMAT`].
    pub format: &'static str,
    /// The target's name in the store.
    pub target: String,
    /// The applied migration the rollback starts from.
    pub from: MigrationName,
    /// The migration left applied afterwards; None when every replayed
    /// migration is rolled back (the schema before the first one).
    pub to: Option<MigrationName>,
    /// The migrations rolled back, newest first (the order they are undone).
    pub rolled_back: Vec<RolledBack>,
    /// The SQL from the applied state to the earlier one.
    pub plan: Plan,
    /// What applying `plan` on a shadow gave.
    pub verification: Verification,
    /// Data a rollback cannot bring back, one line each.
    pub data_loss: Vec<String>,
    /// Everything else the reader must know.
    pub warnings: Vec<String>,
    /// The history rows the migration tool's own rollback changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryEffect>,
    /// Down files written by `--write`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<WrittenFile>,
}

impl RollbackReport {
    /// True when the verification found the rollback reaches the stored
    /// `before` (exit 0), and every down file written converged too.
    pub fn converges(&self) -> bool {
        self.verification.converges() && self.written.iter().all(|w| w.verification.converges())
    }
}

/// A migration by version and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationName {
    /// Its version; None for a repeatable.
    pub version: Option<String>,
    /// Its description.
    pub description: String,
}

impl MigrationName {
    /// `V <description>`, `R:<description>` for a repeatable.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{v} {}", self.description),
            None => format!("R:{}", self.description),
        }
    }
}

/// One migration the rollback undoes.
#[derive(Debug, Clone, Serialize)]
pub struct RolledBack {
    /// Which one.
    #[serde(flatten)]
    pub name: MigrationName,
    /// Schema, data, mixed or other, from its statements.
    pub class: MigrationClass,
    /// Its file, as replayed.
    pub file: String,
}

/// What applying a rollback on a shadow gave.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verification {
    /// The shadow's schema equals the stored `before`.
    Converges {
        /// How it was shown (`on a PostgreSQL 17 shadow`, `the snapshots are equal`).
        how: String,
    },
    /// The SQL ran, and the schema still differs from the stored `before`.
    Differs {
        /// The changes from the stored `before` to the shadow's schema.
        changes: Vec<Change>,
        /// Their DDL diffs, as `diff` shows them.
        ddl: Vec<String>,
    },
    /// A statement failed.
    Fails {
        /// file:line of the failing statement.
        at: String,
        /// The server's message.
        message: String,
    },
}

impl Verification {
    /// True for [`Verification::Converges`].
    pub fn converges(&self) -> bool {
        matches!(self, Verification::Converges { .. })
    }

    /// One line: `converges`, `differs in 3 places`, `fails at …`.
    pub fn line(&self) -> String {
        match self {
            Verification::Converges { how } => format!("converges ({how})"),
            Verification::Differs { changes, .. } => format!(
                "does not converge: {} difference{} from the stored before",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" }
            ),
            Verification::Fails { at, message } => format!("fails at {at}: {message}"),
        }
    }
}

/// What the migration tool's own rollback does to its history table.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEffect {
    /// The tool (`golang-migrate`, `generic`, …).
    pub tool: crate::history::Tool,
    /// Its table.
    pub table: String,
    /// The rows removed, by version.
    pub rows_removed: Vec<String>,
    /// What the table says afterwards, in words.
    pub afterwards: String,
}

/// A down file of `--write`: written (or appended) when every one verified.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenFile {
    /// The migration it undoes.
    pub migration: MigrationName,
    /// The file.
    pub path: String,
    /// True when a dbmate section was appended to the migration's own file.
    pub appended: bool,
    /// False when nothing was written because a down file did not verify
    /// (all are written or none).
    pub written: bool,
    /// Its SQL applied after the down files of later migrations, on a
    /// shadow, against the migration's stored `before`.
    pub verification: Verification,
}
