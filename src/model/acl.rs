//! Privileges: PostgreSQL `aclitem` text parsed into canonical grants.

use serde::{Deserialize, Serialize};

/// The privileges one grantor gave one grantee on an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// A role name, or `PUBLIC`.
    pub grantee: String,
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
        grantee: item.to_string(),
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
        grantee: if grantee.is_empty() {
            "PUBLIC".to_string()
        } else {
            unquote(grantee)
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
        assert_eq!(grants[0].grantee, "PUBLIC");
        assert_eq!(grants[0].privileges, vec!["SELECT"]);
        assert_eq!(grants[1].grantee, "odd=role");
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
}
