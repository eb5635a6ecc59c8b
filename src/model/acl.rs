//! Privileges: PostgreSQL `aclitem` text parsed into canonical grants.
//!
//! The PUBLIC pseudo-role and a role literally named `PUBLIC` (`CREATE
//! ROLE "PUBLIC"`) are different grantees: [`Grantee`] keeps them apart,
//! and its snapshot text does too (`"PUBLIC"` is the pseudo-role, as
//! snapshots have always written it; the role is written quoted, as SQL
//! writes it, `"\"PUBLIC\""`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;

/// Who holds a grant: every role (PUBLIC), or one role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grantee {
    /// The PUBLIC pseudo-role (an empty grantee in `aclitem`, role 0).
    Public,
    /// A role, by name (which may be `PUBLIC`).
    Role(String),
}

impl Grantee {
    /// The role `name`.
    pub fn role(name: &str) -> Grantee {
        Grantee::Role(name.to_string())
    }

    /// The text a snapshot keeps: `PUBLIC` for the pseudo-role; a role's
    /// name as it is, except that a role named `PUBLIC` (and a name that
    /// itself looks quoted, `"…"`) is written double-quoted with inner
    /// quotes doubled, so no two grantees share a text.
    pub fn key(&self) -> String {
        match self {
            Grantee::Public => "PUBLIC".to_string(),
            Grantee::Role(name) if name == "PUBLIC" || looks_quoted(name) => {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
            Grantee::Role(name) => name.clone(),
        }
    }

    /// Reads [`Grantee::key`]'s text (and every snapshot written before
    /// it: `PUBLIC` always meant the pseudo-role there).
    pub fn from_key(text: &str) -> Grantee {
        if text == "PUBLIC" {
            return Grantee::Public;
        }
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) if looks_quoted(text) => Grantee::Role(inner.replace("\"\"", "\"")),
            _ => Grantee::Role(text.to_string()),
        }
    }

    /// The grantee in GRANT and REVOKE: the keyword `PUBLIC`, or the role's
    /// quoted identifier (`"PUBLIC"` for a role of that name).
    pub fn to_sql(&self) -> String {
        match self {
            Grantee::Public => "PUBLIC".to_string(),
            Grantee::Role(name) => super::quote_ident(name),
        }
    }

    /// True for the role named `name` (never for PUBLIC).
    pub fn is_role(&self, name: &str) -> bool {
        matches!(self, Grantee::Role(r) if r == name)
    }
}

/// `"…"` with every inner double quote doubled: the shape of a quoted
/// identifier, which [`Grantee::key`] gives to a role named `PUBLIC`.
fn looks_quoted(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return false;
    };
    inner.replace("\"\"", "").find('"').is_none()
}

impl std::fmt::Display for Grantee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// Ordered by snapshot text, as grants were sorted when the grantee was a
/// string: canonical order (and fingerprints) of existing snapshots stay.
impl Ord for Grantee {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Grantee {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Grantee {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Grantee {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Grantee::from_key(&text))
    }
}

/// The privileges one grantor gave one grantee on an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// A role, or PUBLIC.
    pub grantee: Grantee,
    /// Privilege names (`SELECT`, `USAGE`, …) in PostgreSQL's fixed order.
    pub privileges: Vec<String>,
    /// The subset of `privileges` held WITH GRANT OPTION.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grantable: Vec<String>,
    /// The role that granted them.
    pub grantor: String,
}

/// Privilege letters of `aclitem`, in the order PostgreSQL prints them.
const PRIVILEGE_LETTERS: &[(char, &str)] = &[
    ('a', "INSERT"),
    ('r', "SELECT"),
    ('w', "UPDATE"),
    ('d', "DELETE"),
    ('D', "TRUNCATE"),
    ('x', "REFERENCES"),
    ('t', "TRIGGER"),
    ('X', "EXECUTE"),
    ('U', "USAGE"),
    ('C', "CREATE"),
    ('c', "CONNECT"),
    ('T', "TEMPORARY"),
    ('s', "SET"),
    ('A', "ALTER SYSTEM"),
    ('m', "MAINTAIN"),
];

/// Parses the text form of an `aclitem[]` (as `relacl::text[]` returns it)
/// into grants sorted by grantee and grantor. Items that do not parse are
/// kept verbatim as a grantee with no privileges, so nothing is lost silently.
pub fn parse_acl(items: &[String]) -> Vec<Grant> {
    let mut grants: Vec<Grant> = items.iter().map(|item| parse_item(item)).collect();
    grants.sort();
    grants.dedup();
    grants
}

fn parse_item(item: &str) -> Grant {
    let unparsed = || Grant {
        grantee: Grantee::Role(item.to_string()),
        privileges: Vec::new(),
        grantable: Vec::new(),
        grantor: String::new(),
    };
    let (grantee, rest) = match split_role(item, '=') {
        Some(parts) => parts,
        None => return unparsed(),
    };
    let (letters, grantor) = match rest.rsplit_once('/') {
        Some((letters, grantor)) => (letters, unquote(grantor)),
        None => return unparsed(),
    };
    let mut held = Vec::new();
    let mut grantable = Vec::new();
    let chars: Vec<char> = letters.chars().collect();
    for (letter, name) in PRIVILEGE_LETTERS {
        if let Some(pos) = chars.iter().position(|c| c == letter) {
            held.push(name.to_string());
            if chars.get(pos + 1) == Some(&'*') {
                grantable.push(name.to_string());
            }
        }
    }
    Grant {
        // aclitem writes PUBLIC as an empty grantee, and a role named
        // PUBLIC as `PUBLIC` (alphanumeric names go unquoted).
        grantee: if grantee.is_empty() {
            Grantee::Public
        } else {
            Grantee::Role(unquote(grantee))
        },
        privileges: held,
        grantable,
        grantor,
    }
}

/// Splits at the first `sep` outside double quotes.
fn split_role(text: &str, sep: char) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => return Some((&text[..i], &text[i + 1..])),
            _ => {}
        }
    }
    None
}

fn unquote(role: &str) -> String {
    match role.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => role.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_public_quoted_roles_and_grant_options() {
        let grants = parse_acl(&[
            "owner=arwdDxt/owner".to_string(),
            "=r/owner".to_string(),
            "\"odd=role\"=r*w/owner".to_string(),
        ]);
        assert_eq!(grants.len(), 3);
        assert_eq!(grants[0].grantee, Grantee::Public);
        assert_eq!(grants[0].privileges, vec!["SELECT"]);
        assert_eq!(grants[1].grantee, Grantee::role("odd=role"));
        assert_eq!(grants[1].privileges, vec!["SELECT", "UPDATE"]);
        assert_eq!(grants[1].grantable, vec!["SELECT"]);
        assert_eq!(grants[2].privileges.len(), 7);
    }

    #[test]
    fn order_of_items_does_not_matter() {
        let a = parse_acl(&["b=r/o".into(), "a=w/o".into()]);
        let b = parse_acl(&["a=w/o".into(), "b=r/o".into()]);
        assert_eq!(a, b);
    }

    #[test]
    fn the_role_named_public_is_not_public() {
        let grants = parse_acl(&["=r/o".to_string(), "PUBLIC=w/o".to_string()]);
        let by = |p: &str| grants.iter().find(|g| g.privileges == [p]).unwrap();
        assert_eq!(by("SELECT").grantee, Grantee::Public);
        assert_eq!(by("UPDATE").grantee, Grantee::role("PUBLIC"));
        assert_eq!(by("SELECT").grantee.to_sql(), "PUBLIC");
        assert_eq!(by("UPDATE").grantee.to_sql(), "\"PUBLIC\"");
        let json = serde_json::to_string(&grants).unwrap();
        assert!(json.contains(r#""grantee":"PUBLIC""#), "{json}");
        assert!(json.contains(r#""grantee":"\"PUBLIC\"""#), "{json}");
        let back: Vec<Grant> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, grants);
    }

    #[test]
    fn snapshot_text_is_one_to_one_and_reads_old_files() {
        for name in [
            "PUBLIC",
            "public",
            "\"PUBLIC\"",
            "\"",
            "\"\"",
            "\"a",
            "a\"",
            "\"x\"\"y\"",
            "\"x\"y\"",
            "odd role",
            "",
        ] {
            let role = Grantee::role(name);
            assert_ne!(role.key(), Grantee::Public.key(), "{name}");
            assert_eq!(Grantee::from_key(&role.key()), role, "{name}");
        }
        assert_eq!(Grantee::from_key("PUBLIC"), Grantee::Public);
        assert_eq!(Grantee::from_key("dw_reader"), Grantee::role("dw_reader"));
        assert_eq!(Grantee::role("dw_reader").key(), "dw_reader");
    }
}
