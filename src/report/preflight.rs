//! The report of `driftwatch preflight`: will the pending migrations
//! apply to what the target really is, what each will do there, and which
//! drift survives the deploy. Data only; renderers in `preflight_text.rs`.

use serde::Serialize;

/// The report format's name and version.
pub const PREFLIGHT_FORMAT: &str = "driftwatch.preflight/1";

/// The answer, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreflightResult {
    /// Every pending migration applies and no drift survives: exit 0.
    Ok,
    /// A pending migration fails on the live schema: exit 1.
    Fails,
    /// Every migration applies, but the end state differs from the
    /// history's: exit 1.
    DriftSurvives,
}

impl PreflightResult {
    /// The kebab-case word reports show.
    pub fn as_str(self) -> &'static str {
        match self {
            PreflightResult::Ok => "ok",
            PreflightResult::Fails => "fails",
            PreflightResult::DriftSurvives => "drift-survives",
        }
    }
}

/// What a pending migration did on the shadow built from the live schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum PendingOutcome {
    /// It ran to the end.
    Applies,
    /// It failed.
    Fails {
        /// `file:line` of the statement that failed.
        at: String,
        /// The statement (its first line) and the server's message.
        message: String,
        /// Drift findings about the objects the failure names: why it
        /// fails here but not on the history's own schema.
        explained_by: Vec<Explanation>,
        /// The objects the failing statement touches (`schema.name` or a
        /// bare name as written), for the explanation.
        #[serde(skip)]
        touches: Vec<String>,
    },
    /// Not run: an earlier migration failed.
    NotRun,
}

/// A drift finding that explains a failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The finding's one line (`index public.orders_created_idx was added`).
    pub finding: String,
    /// The object, as `diff` names it.
    pub object: String,
    /// Since when the drift is there (the first scan that saw it), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// Why a pending migration deserves a look before it runs in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreflightHazardCode {
    /// The table is rewritten (its storage was replaced on the shadow).
    RewritesTable,
    /// ACCESS EXCLUSIVE lock on an existing table: reads and writes wait
    /// for the whole migration.
    AccessExclusiveLock,
    /// An index is built without CONCURRENTLY: writes wait for the build.
    BlocksWrites,
    /// A constraint is checked against every row (VALIDATE CONSTRAINT, or
    /// a constraint added without NOT VALID).
    ValidatesConstraint,
}

impl PreflightHazardCode {
    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            PreflightHazardCode::RewritesTable => "rewrites-table",
            PreflightHazardCode::AccessExclusiveLock => "access-exclusive-lock",
            PreflightHazardCode::BlocksWrites => "blocks-writes",
            PreflightHazardCode::ValidatesConstraint => "validates-constraint",
        }
    }
}

/// One hazard of a pending migration, on one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreflightHazard {
    /// What.
    pub code: PreflightHazardCode,
    /// The table (`schema.name`).
    pub table: String,
    /// Its size in the target, from the catalog statistics, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<TableSize>,
}

/// A table's size as the target's statistics estimate it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TableSize {
    /// `pg_class.reltuples`; None when the table was never analyzed.
    pub rows: Option<i64>,
    /// `pg_class.relpages`, 8 kB each.
    pub pages: i64,
}

impl TableSize {
    /// `~1.2M rows, 96 MB`.
    pub fn describe(&self) -> String {
        let rows = match self.rows {
            None => "rows unknown (never analyzed)".to_string(),
            Some(n) => format!("~{} rows", human(n as f64, "")),
        };
        let bytes = self.pages as f64 * 8192.0;
        format!("{rows}, {}B", human(bytes, " "))
    }
}

fn human(n: f64, space: &str) -> String {
    for (limit, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if n >= limit {
            return format!("{:.1}{space}{suffix}", n / limit);
        }
    }
    format!("{n:.0}{space}")
}

/// One pending migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingMigration {
    /// Its version.
    pub version: String,
    /// Its file.
    pub file: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: PendingOutcome,
    /// What it changes in the schema, as `diff` says it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Its hazards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<PreflightHazard>,
    /// Locks were not read: it runs outside one transaction.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub locks_unmeasured: bool,
}

/// The report of one preflight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreflightReport {
    /// [`PREFLIGHT_FORMAT`].
    pub format: &'static str,
    /// The target.
    pub target: String,
    /// Where the live schema came from (a capture now, or `store:NAME@live`
    /// with its time).
    pub live: String,
    /// The newest applied version.
    pub applied_version: Option<String>,
    /// The answer.
    pub result: PreflightResult,
    /// The target's drift now (findings against the applied version).
    pub drift: Vec<Explanation>,
    /// The pending migrations, in run order.
    pub migrations: Vec<PendingMigration>,
    /// What the end state has that the replay of the same files on an
    /// empty database has not (the drift that survives the deploy); None
    /// when a migration failed and nothing was compared.
    pub surviving_drift: Option<Vec<String>>,
    /// What the reader must know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl PreflightReport {
    /// The exit code: 0 all apply and nothing survives, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self.result {
            PreflightResult::Ok => 0,
            PreflightResult::Fails | PreflightResult::DriftSurvives => 1,
        }
    }
}
