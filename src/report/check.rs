//! The outcome of `driftwatch check`: data only (`Serialize`); the text,
//! Markdown and HTML renderers are beside it. JSON is this serialized
//! (`docs/check.schema.json`).

use crate::diff::{ChangeCode, ObjectRef, Severity};
use serde::{Deserialize, Serialize};

/// The `format` of a check report's JSON.
pub const CHECK_FORMAT: &str = "driftwatch.check/1";

/// What the migration history says is wrong, in Flyway's words where it
/// has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryCode {
    /// An applied migration's file changed after it ran.
    ChecksumChanged,
    /// Applied, and its file is gone.
    AppliedMissing,
    /// A file not applied yet (not drift).
    Pending,
    /// The tool recorded the migration as failed or dirty.
    Failed,
    /// Applied after a migration with a higher version.
    OutOfOrder,
    /// Applied, newer than every file (the directory is behind the database).
    Future,
    /// A repeatable migration changed since it last ran.
    OutdatedRepeatable,
    /// No applied version has a file: the directory is probably not this
    /// database's.
    HistoryMatchesNoFile,
}

impl HistoryCode {
    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryCode::ChecksumChanged => "checksum-changed",
            HistoryCode::AppliedMissing => "applied-missing",
            HistoryCode::Pending => "pending",
            HistoryCode::Failed => "failed",
            HistoryCode::OutOfOrder => "out-of-order",
            HistoryCode::Future => "future",
            HistoryCode::OutdatedRepeatable => "outdated-repeatable",
            HistoryCode::HistoryMatchesNoFile => "history-matches-no-file",
        }
    }

    /// How much it matters.
    pub fn severity(self) -> Severity {
        match self {
            HistoryCode::Pending | HistoryCode::OutdatedRepeatable => Severity::Info,
            HistoryCode::Failed | HistoryCode::HistoryMatchesNoFile => Severity::Critical,
            _ => Severity::Warning,
        }
    }
}

/// A finding's code: a schema change (`diff`'s codes), a history finding,
/// or `migration-in-progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingCode {
    /// The live schema differs from the expected one.
    Schema(ChangeCode),
    /// The history table against the migration files.
    History(HistoryCode),
    /// The migration tool holds its lock: a deployment is running.
    MigrationInProgress,
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FindingCode::Schema(c) => c.fmt(f),
            FindingCode::History(c) => f.write_str(c.as_str()),
            FindingCode::MigrationInProgress => f.write_str("migration-in-progress"),
        }
    }
}

impl Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FindingCode {
    /// True for findings that are drift; pending migrations and a running
    /// migration are not.
    pub fn is_drift(self) -> bool {
        !matches!(
            self,
            FindingCode::History(HistoryCode::Pending) | FindingCode::MigrationInProgress
        )
    }
}

/// A migration, as a finding names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationName {
    /// Version (None for repeatables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Description.
    pub description: String,
    /// The file, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl MigrationName {
    /// `3 (add orders)` style label (the version as the tool numbers it,
    /// which for most tools has no `V`).
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) if self.description.is_empty() => v.clone(),
            Some(v) => format!("{v} ({})", self.description),
            None => format!("repeatable {}", self.description),
        }
    }
}

/// Who is responsible for a schema finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Attribution {
    /// The migration that last touched the object (from the changelog).
    Migration {
        /// That migration.
        migration: MigrationName,
    },
    /// No migration touched it: changed by hand or by something else.
    OutOfBand,
    /// The expected state is an accepted snapshot and no replayed
    /// migrations precede it: the migration cannot be told.
    Unknown,
}

impl Attribution {
    /// One line for people.
    pub fn label(&self) -> String {
        match self {
            Attribution::Migration { migration } => {
                format!("last touched by migration {}", migration.label())
            }
            Attribution::OutOfBand => "out-of-band (no migration touched it)".into(),
            Attribution::Unknown => "unknown (no replayed history)".into(),
        }
    }
}

/// One finding of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable kebab-case code.
    pub code: FindingCode,
    /// How much it matters.
    pub severity: Severity,
    /// The object (schema findings, as `diff` reports it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// The migration (history findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationName>,
    /// One line for people.
    pub message: String,
    /// Who is responsible (schema findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
    /// The first scan of the unbroken run of scans that had this finding,
    /// RFC 3339 UTC (this scan's time when it is new).
    pub since: String,
    /// What to do about it.
    pub hint: String,
    /// The attribute that changed, for attribute-level schema findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Expected value (schema findings; null when added).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub expected: serde_json::Value,
    /// Live value (schema findings; null when removed).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub actual: serde_json::Value,
    /// Unified diff of the object's DDL, expected → live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ddl: Option<String>,
}

impl Finding {
    /// The id that says "the same finding" across scans: code and object
    /// (or migration).
    pub fn id(&self) -> String {
        let what = match (&self.object, &self.migration) {
            (Some(o), _) => format!("{}:{}", o.kind.as_str(), o.name),
            (None, Some(m)) => format!(
                "migration:{}",
                m.version
                    .clone()
                    .unwrap_or_else(|| format!("R:{}", m.description))
            ),
            (None, None) => String::new(),
        };
        format!("{} {what}", self.code)
    }
}

/// Where the expected state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectedFrom {
    /// The replay of the migration files up to the applied version.
    Replay,
    /// The newest accepted snapshot (`driftwatch baseline`, or a first scan).
    Baseline,
    /// Nothing yet: this scan's live schema was recorded as the accepted state.
    FirstScan,
}

impl ExpectedFrom {
    /// The expected state as headlines name it: the live schema differs
    /// from (or matches) "its migrations" or "the accepted baseline".
    pub fn words(self) -> &'static str {
        match self {
            ExpectedFrom::Replay => "its migrations",
            ExpectedFrom::Baseline | ExpectedFrom::FirstScan => "the accepted baseline",
        }
    }
}

/// The expected state a scan compared with.
#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    /// Where it came from.
    pub from: ExpectedFrom,
    /// The store file (or migration) it is.
    pub source: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// The outcome of one scan of one target.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Always [`CHECK_FORMAT`].
    pub format: &'static str,
    /// The target's name.
    pub target: String,
    /// The database, password hidden.
    pub url: String,
    /// When the scan started, RFC 3339 UTC.
    pub time: String,
    /// How it ended.
    pub result: ScanResult,
    /// `server_version` of the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The history tool and table, when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// The newest applied version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_version: Option<String>,
    /// The expected state compared with (none when the scan stopped before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    /// Fingerprint of the live schema, when captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_fingerprint: Option<String>,
    /// How the live schema was read: incremental, full (and why), or
    /// reused (the probe saw no change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_capture: Option<crate::catalog::CaptureKind>,
    /// The severity at which the check fails.
    pub fail_on: Severity,
    /// Counts by severity.
    pub counts: Counts,
    /// Things the reader should know.
    pub warnings: Vec<String>,
    /// Every finding: history first, then schema changes in report order.
    pub findings: Vec<Finding>,
    /// Why the scan failed (result `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CheckReport {
    /// Counts of `findings` by severity.
    pub fn count(findings: &[Finding]) -> Counts {
        let n = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Counts {
            critical: n(Severity::Critical),
            warning: n(Severity::Warning),
            info: n(Severity::Info),
        }
    }

    /// What the live schema was compared with, as headlines name it;
    /// "the expected state" when the scan compared none.
    pub fn compared_with(&self) -> &'static str {
        self.expected
            .as_ref()
            .map_or("the expected state", |e| e.from.words())
    }

    /// True when a drift finding is at or above `fail_on`.
    pub fn fails(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.code.is_drift() && f.severity >= self.fail_on)
    }

    /// SHA-256 over the sorted finding ids: the drift state.
    pub fn findings_fingerprint(&self) -> String {
        let mut ids: Vec<String> = self.findings.iter().map(Finding::id).collect();
        ids.sort();
        use sha2::Digest;
        let digest = sha2::Sha256::digest(ids.join("\n").as_bytes());
        crate::util::hex(&digest)
    }
}

/// Schema findings from the changes expected → live: one per change, the
/// DDL diff of its top-level object on the first finding of that object.
/// Attribution is set later (it needs the store).
pub fn schema_findings(
    changes: &[crate::diff::Change],
    expected: &crate::model::Snapshot,
    live: &crate::model::Snapshot,
    time: &str,
) -> Vec<Finding> {
    use crate::diff::ChangeCode;
    let mut out = Vec::with_capacity(changes.len());
    for (top, group) in super::by_top_object(changes) {
        let ddl = super::object_diff(expected, live, &top);
        for (i, c) in group.into_iter().enumerate() {
            let hint = match c.code {
                ChangeCode::Added(_) | ChangeCode::PrivilegeGranted => {
                    "made outside the migrations: write a migration that does it, undo it, or accept it with driftwatch baseline"
                }
                ChangeCode::Removed(_) | ChangeCode::PrivilegeRevoked => {
                    "undone outside the migrations: restore it (see the DDL), write a migration that does it, or accept it with driftwatch baseline"
                }
                _ => "changed outside the migrations: write a migration that makes the change, revert it, or accept it with driftwatch baseline",
            };
            out.push(Finding {
                code: FindingCode::Schema(c.code),
                severity: c.severity,
                object: Some(c.object.clone()),
                migration: None,
                message: c.summary(),
                attribution: None,
                since: time.to_string(),
                hint: hint.to_string(),
                attribute: c.attribute.clone(),
                expected: c.before.clone(),
                actual: c.after.clone(),
                ddl: if i == 0 { ddl.clone() } else { None },
            });
        }
    }
    out
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanResult {
    /// The live schema is the expected one and the history is in order.
    Clean,
    /// Findings at or above the target's `fail_on`.
    Drift,
    /// Findings, all below `fail_on` (pending migrations, info only).
    Notice,
    /// The migration tool held its lock: a deployment was running, no
    /// schema comparison was made.
    MigrationInProgress,
    /// No expected state existed: the live schema was recorded as the
    /// accepted state (first scan of a target without replayable files).
    Recorded,
    /// The scan could not be made (target down, bad credentials, …).
    Failed,
}

impl ScanResult {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanResult::Clean => "clean",
            ScanResult::Drift => "drift",
            ScanResult::Notice => "notice",
            ScanResult::MigrationInProgress => "migration-in-progress",
            ScanResult::Recorded => "recorded",
            ScanResult::Failed => "failed",
        }
    }

    /// True when the scan compared the schema (its findings say something
    /// about drift).
    pub fn compared(self) -> bool {
        matches!(
            self,
            ScanResult::Clean | ScanResult::Drift | ScanResult::Notice | ScanResult::Recorded
        )
    }
}

/// Findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Info.
    pub info: usize,
}
