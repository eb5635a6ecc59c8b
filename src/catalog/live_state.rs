//! The positions of a live capture: what the next capture of the same
//! database needs to read only what changed since (see
//! [`super::incremental`] for how they are used and why a change cannot
//! be missed). Pure data and decisions, no I/O.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` of a stored [`LiveState`]; another format is read as no
/// state (the next capture is a full one).
pub const STATE_FORMAT: &str = "driftwatch.live-state/1";

/// An object's identity in a snapshot list: (list, schema, name, arguments).
pub type Identity = (String, String, String, String);

/// Where a live capture stood, recorded beside its snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// The driftwatch that captured (another one may capture differently).
    pub driftwatch_version: String,
    /// A digest of the capture options that shape a snapshot.
    pub options: String,
    /// The running server the positions belong to.
    pub server: ServerPosition,
    /// The capture snapshot's xmin, a 64-bit transaction id: every catalog
    /// row written by a transaction the capture could not see has an xmin
    /// at or above it.
    pub marker: u64,
    /// The fingerprint of the snapshot these positions describe.
    pub snapshot: String,
    /// When the last full capture ran (RFC 3339 UTC).
    pub full_at: String,
    /// Per catalog, as the capture's own transaction saw it: its row count
    /// and the sum of its rows' `(ctid, xmin)` hashes (the probe's query).
    pub sums: BTreeMap<String, CatalogPosition>,
    /// Per keyed catalog: (row key, top-level object it is part of) pairs,
    /// sorted (a key may name two objects): rows deleted since are found by
    /// comparing keys. Pairs, not a map of lists: 16 bytes a row on
    /// 280,000 rows of a 10,000-table schema.
    pub keys: BTreeMap<String, Vec<(i64, i64)>>,
    /// Every top-level object by oid: its identity in the snapshot lists.
    pub identities: BTreeMap<i64, Identity>,
}

/// One catalog's row count and hash sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogPosition {
    /// Rows.
    pub rows: u64,
    /// Sum of the rows' hashes, as the server printed it.
    pub hash_sum: String,
}

/// Which running server a capture read: another postmaster (a restart, a
/// failover, a restore, an upgrade) makes transaction positions meaningless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerPosition {
    /// `pg_postmaster_start_time()`, to the microsecond.
    pub started: String,
    /// `server_version_num`.
    pub version_num: i32,
    /// The database's oid (a dropped and re-created database has another).
    pub database_oid: i64,
    /// Whether the server was a standby (a promotion changes it).
    pub in_recovery: bool,
    /// `datfrozenxid` of the database, for the logs.
    pub frozen_xid: String,
}

/// Why a live capture read everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "kebab-case")]
pub enum FullReason {
    /// No previous state (a first scan, or a store without one).
    First,
    /// Asked for (`--full-capture`).
    Forced,
    /// The periodic full capture (`full_capture_every`, and the daemon's
    /// first scan of a target).
    Scheduled,
    /// Another running server than the positions were read on.
    Server(String),
    /// A catalog changed whose changes the incremental path does not
    /// follow object by object (roles, settings, operators, casts, …).
    Catalog(String),
    /// The positions are too old to compare 32-bit transaction ids with.
    Wraparound,
    /// The state does not describe the stored snapshot, or was written by
    /// another driftwatch or with other capture options.
    Stale(String),
}

impl std::fmt::Display for FullReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FullReason::First => write!(f, "no previous state"),
            FullReason::Forced => write!(f, "asked for"),
            FullReason::Scheduled => write!(f, "scheduled"),
            FullReason::Server(d) => write!(f, "another server ({d})"),
            FullReason::Catalog(d) => write!(f, "{d} changed"),
            FullReason::Wraparound => write!(f, "positions older than 2^31 transactions"),
            FullReason::Stale(d) => write!(f, "state is stale ({d})"),
        }
    }
}

/// How a live capture read the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CaptureKind {
    /// Everything.
    Full {
        /// Why.
        reason: FullReason,
    },
    /// What changed since the previous capture, merged into it.
    Incremental {
        /// Top-level objects read again.
        objects: usize,
    },
    /// Nothing: the catalog probe saw no change since the stored snapshot,
    /// which is the live schema still.
    Reused,
}

impl std::fmt::Display for CaptureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureKind::Full { reason } => write!(f, "full capture: {reason}"),
            CaptureKind::Incremental { objects } => {
                write!(f, "incremental capture: {objects} objects read again")
            }
            CaptureKind::Reused => write!(f, "unchanged since the stored snapshot"),
        }
    }
}

/// How the incremental path follows a catalog's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// New rows by xmin, deleted rows by key inventory.
    Keyed,
    /// New rows by xmin; its rows are only deleted with a keyed row (an
    /// index's pg_index row goes with its pg_class row).
    Fresh,
    /// Only kinds read whole every time read it.
    Whole,
}

/// How a catalog of the probe is followed; None: a change there means a
/// full capture (roles, settings, operators, casts, collations, …: rare,
/// and what they change is printed across objects).
pub fn tracking(catalog: &str) -> Option<Tracking> {
    use Tracking::*;
    Some(match catalog {
        "pg_class" | "pg_type" | "pg_proc" | "pg_namespace" | "pg_statistic_ext"
        | "pg_constraint" | "pg_trigger" | "pg_policy" | "pg_rewrite" | "pg_attrdef"
        | "pg_inherits" | "pg_depend" | "pg_description" => Keyed,
        "pg_attribute"
        | "pg_index"
        | "pg_sequence"
        | "pg_partitioned_table"
        | "pg_foreign_table"
        | "pg_enum"
        | "pg_range"
        | "pg_ts_config"
        | "pg_ts_dict"
        | "pg_foreign_server"
        | "pg_foreign_data_wrapper" => Fresh,
        "pg_extension"
        | "pg_event_trigger"
        | "pg_publication"
        | "pg_publication_rel"
        | "pg_publication_namespace"
        | "pg_user_mappings"
        | "pg_default_acl"
        | "pg_ts_config_map"
        | "pg_ts_parser"
        | "pg_ts_template" => Whole,
        _ => return None,
    })
}

/// The catalogs whose sums differ between two states (either side).
pub fn changed_catalogs(
    before: &BTreeMap<String, CatalogPosition>,
    now: &BTreeMap<String, CatalogPosition>,
) -> Vec<String> {
    let mut out: Vec<String> = now
        .iter()
        .filter(|(c, p)| before.get(*c) != Some(p))
        .map(|(c, _)| c.clone())
        .collect();
    out.extend(before.keys().filter(|c| !now.contains_key(*c)).cloned());
    out
}

/// Why positions read on `before`'s server cannot be used on `now`'s, if so.
pub fn server_moved(before: &ServerPosition, now: &ServerPosition) -> Option<String> {
    if before.version_num != now.version_num {
        return Some(format!(
            "server version {} → {}",
            before.version_num, now.version_num
        ));
    }
    if before.started != now.started {
        return Some(format!(
            "postmaster started at {} (was {}): restart, failover or restore",
            now.started, before.started
        ));
    }
    if before.database_oid != now.database_oid {
        return Some("the database was re-created".into());
    }
    if before.in_recovery != now.in_recovery {
        return Some("the server was promoted or demoted".into());
    }
    None
}

/// True when `marker` is too far behind `now` for 32-bit xid comparisons
/// (`age()`) to order them: PostgreSQL compares xids modulo 2^32 within
/// half of that; a margin keeps clear of the edge.
pub fn wrapped(marker: u64, now: u64) -> bool {
    const LIMIT: u64 = (1 << 31) - (1 << 27);
    now < marker || now - marker >= LIMIT
}

/// The keys of `before` no longer in `now` (both sorted by key), as the
/// top-level objects they belonged to.
pub fn vanished_tops(before: &[(i64, i64)], now: &[(i64, i64)]) -> Vec<i64> {
    let mut tops: Vec<i64> = before
        .iter()
        .filter(|(k, _)| now.binary_search_by(|(n, _)| n.cmp(k)).is_err())
        .map(|(_, t)| *t)
        .filter(|t| *t != 0)
        .collect();
    tops.sort_unstable();
    tops.dedup();
    tops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(rows: u64, sum: &str) -> CatalogPosition {
        CatalogPosition {
            rows,
            hash_sum: sum.into(),
        }
    }

    /// A catalog whose count or sum moved, or that one side lacks, changed.
    #[test]
    fn changed_catalogs_are_found_both_ways() {
        let before = BTreeMap::from([
            ("pg_class".to_string(), position(10, "5")),
            ("pg_proc".to_string(), position(3, "1")),
            ("pg_gone".to_string(), position(1, "1")),
        ]);
        let now = BTreeMap::from([
            ("pg_class".to_string(), position(10, "6")),
            ("pg_proc".to_string(), position(3, "1")),
            ("pg_new".to_string(), position(1, "1")),
        ]);
        let mut changed = changed_catalogs(&before, &now);
        changed.sort();
        assert_eq!(changed, ["pg_class", "pg_gone", "pg_new"]);
    }

    /// Untracked catalogs (roles, settings, casts, new ones) are None.
    #[test]
    fn untracked_catalogs_mean_a_full_capture() {
        for c in [
            "pg_roles",
            "pg_settings",
            "pg_cast",
            "pg_collation",
            "pg_whatever",
        ] {
            assert_eq!(tracking(c), None, "{c}");
        }
        assert_eq!(tracking("pg_description"), Some(Tracking::Keyed));
    }

    /// Only keys that left count, and each owner once.
    #[test]
    fn vanished_keys_give_their_owners() {
        let before = [(1, 100), (2, 100), (2, 200), (3, 300)];
        let now = [(3, 300)];
        assert_eq!(vanished_tops(&before, &now), [100, 200]);
    }

    /// Wraparound: behind by 2^31 minus the margin, or a marker ahead.
    #[test]
    fn old_markers_are_refused() {
        assert!(!wrapped(100, 100));
        assert!(!wrapped(100, 1_000_000));
        assert!(wrapped(100, 100 + (1 << 31)));
        assert!(wrapped(200, 100));
    }

    /// A restart, an upgrade or a promotion moves the server.
    #[test]
    fn other_servers_are_named() {
        let a = ServerPosition {
            started: "t1".into(),
            version_num: 150004,
            database_oid: 5,
            in_recovery: false,
            frozen_xid: "700".into(),
        };
        assert_eq!(server_moved(&a, &a), None);
        let restarted = ServerPosition {
            started: "t2".into(),
            ..a.clone()
        };
        assert!(server_moved(&a, &restarted).is_some());
        let promoted = ServerPosition {
            in_recovery: true,
            ..a.clone()
        };
        assert!(server_moved(&a, &promoted).is_some());
        let vacuumed = ServerPosition {
            frozen_xid: "900".into(),
            ..a.clone()
        };
        assert_eq!(server_moved(&a, &vacuumed), None);
    }
}
