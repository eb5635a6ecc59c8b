//! The snapshot model: every schema object driftwatch knows, their identities,
//! the canonical JSON form and its fingerprint. Pure: no I/O here.

mod acl;
mod columns;
pub mod compact;
mod compat;
mod identity;
pub mod json;
#[cfg(test)]
mod layout_tests;
mod objects;
mod relations;
mod text_search;

pub use acl::{parse_acl, Grant, Grantee};
pub use columns::*;
pub use identity::{skipped_when_empty, sort_keyed, Capture, Keyed, Listed, OPTIONAL_LISTS};
pub use objects::*;
pub use relations::*;
pub use text_search::*;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `format` value written into every snapshot this version produces.
pub const SNAPSHOT_FORMAT: &str = "driftwatch.snapshot/1";

/// A schema snapshot: canonical objects plus the metadata of the capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`] for snapshots this version writes.
    pub format: String,
    /// Where and when the snapshot was taken; not part of the fingerprint.
    pub meta: Meta,
    /// `sha256:<hex>` over the canonical JSON of `objects`.
    pub fingerprint: String,
    /// The schema itself, in canonical order.
    pub objects: Objects,
}

/// Capture metadata. Volatile data lives here, never in `objects`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// UTC capture time, RFC 3339; empty (and not written) for replayed
    /// snapshots, which the migration files determine: a replay writes the
    /// same store files byte for byte.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub captured_at: String,
    /// The driftwatch version that captured it.
    pub driftwatch_version: String,
    /// Where the schema came from, with any password hidden.
    pub source: String,
    /// Database name, when captured from a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// `server_version` of the PostgreSQL server (e.g. `15.18`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// `server_version_num` (e.g. `150018`), for major-version checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version_num: Option<u32>,
    /// Only these schemas were captured (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// These schemas were left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_schemas: Vec<String>,
    /// The migration this snapshot belongs to, for replayed snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationRef>,
}

/// Which migration a stored snapshot was taken around.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationRef {
    /// Migration version as its tool writes it.
    pub version: String,
    /// Migration description.
    pub name: String,
    /// Taken before or after the migration ran.
    pub phase: Phase,
}

/// Before or after a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Taken before the migration ran.
    Before,
    /// Taken after the migration ran.
    After,
}

impl Snapshot {
    /// Builds a snapshot from objects: sorts them into canonical order and
    /// computes the fingerprint.
    pub fn new(meta: Meta, mut objects: Objects) -> Snapshot {
        objects.canonicalize();
        let fingerprint = fingerprint(&objects);
        Snapshot {
            format: SNAPSHOT_FORMAT.to_string(),
            meta,
            fingerprint,
            objects,
        }
    }

    /// Re-sorts the objects and recomputes the fingerprint (for snapshots read
    /// from files that may have been edited by hand).
    pub fn recanonicalize(self) -> Snapshot {
        Snapshot::new(self.meta, self.objects)
    }

    /// The snapshot as a capture by this version reads the same schema:
    /// snapshots written before the majors were aligned (captured on a
    /// major older than 17) get the newest major's reading, and a new
    /// fingerprint when that changed anything.
    pub fn aligned(mut self) -> Snapshot {
        match self.meta.server_version_num {
            Some(num) if num < 170_000 => {
                self.objects.align_to_newest(num / 10_000);
                Snapshot::new(self.meta, self.objects)
            }
            _ => self,
        }
    }

    /// Canonical JSON in the snapshot layout ([`json::to_layout`]), ending
    /// in a newline.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// [`Snapshot::to_json`] written to `out` as it is made (a 10,000-table
    /// snapshot's text is 34 MB: the file gets it without a second copy).
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let compact = compact::snapshot(self);
        json::reformat_to(
            std::str::from_utf8(&compact).expect("serde_json writes UTF-8"),
            out,
        )
    }

    /// Object counts by kind, in a fixed order, for summaries.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        self.objects.counts()
    }
}

/// `sha256:<hex>` over the compact canonical JSON of `objects`.
pub fn fingerprint(objects: &Objects) -> String {
    let mut hasher = Sha256::new();
    compact::write_objects(objects, &mut |bytes| hasher.update(bytes));
    let digest = hasher.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether a terminal, a parser or a reader would take `c` for something
/// other than text: C0 and C1 control characters (line breaks and tabs
/// included), DEL, bidi overrides, isolates and marks, and the Unicode line
/// and paragraph separators. Every output escapes these in database text.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Quotes an SQL identifier when PostgreSQL would need it quoted. A name
/// holding a control character or bidi override is written `U&"…"` with
/// `\XXXX` escapes: the same name to PostgreSQL, one visible line to a
/// reader.
pub fn quote_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !is_reserved(name)
        // `U&"…" UESCAPE '…'`: never let a name read as that clause.
        && name != "uescape";
    if plain {
        name.to_string()
    } else if name.chars().any(is_hidden_char) {
        let mut out = String::with_capacity(name.len() + 8);
        out.push_str("U&\"");
        for c in name.chars() {
            match c {
                '"' => out.push_str("\"\""),
                '\\' => out.push_str("\\\\"),
                // Every hidden character is in the Basic Multilingual Plane.
                c if is_hidden_char(c) => out.push_str(&format!("\\{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted as needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

fn is_reserved(word: &str) -> bool {
    // The reserved key words of PostgreSQL 15 that may not be column or table
    // names unquoted (the "reserved" and "reserved (can be function or type)"
    // categories of the SQL key word appendix).
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_postgres_rules() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a b"), "\"a b\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("_x1$"), "_x1$");
        assert_eq!(qualified("public", "order"), "public.\"order\"");
    }

    #[test]
    fn fingerprint_ignores_meta_and_input_order() {
        let mut a = Objects::default();
        a.schemas.push(Schema::named("b"));
        a.schemas.push(Schema::named("a"));
        let mut b = Objects::default();
        b.schemas.push(Schema::named("a"));
        b.schemas.push(Schema::named("b"));
        let sa = Snapshot::new(Meta::default(), a);
        let meta = Meta {
            source: "elsewhere".into(),
            ..Meta::default()
        };
        let sb = Snapshot::new(meta, b);
        assert_eq!(sa.fingerprint, sb.fingerprint);
        assert!(sa.fingerprint.starts_with("sha256:"));
        assert_eq!(sa.fingerprint.len(), 7 + 64);
    }
}
