//! Ignore rules: `kind:comment|privilege|owner|column-order|<object kind>`,
//! `code:<glob>`, `schema:<glob>`, and `<object kind>:<glob>` on identities
//! (`table:public.tmp_*` hides those tables and everything in them).

use super::{Change, ChangeCode, ObjectKind};

/// One parsed ignore rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreRule {
    /// Comment changes.
    Comments,
    /// Grants, revokes and default privileges.
    Privileges,
    /// Owner changes.
    Owners,
    /// Column order changes.
    ColumnOrder,
    /// Everything about one kind of object.
    Kind(ObjectKind),
    /// Change codes matching a glob.
    Code(String),
    /// Objects in schemas matching a glob.
    Schema(String),
    /// Objects of a kind whose identity matches a glob, with their children.
    Object(ObjectKind, String),
}

impl IgnoreRule {
    /// Parses `prefix:value`; the error says what is accepted.
    pub fn parse(text: &str) -> Result<IgnoreRule, String> {
        let unknown = || {
            format!(
                "unknown ignore rule {text:?}; use kind:comment|privilege|owner|column-order|<object kind>, code:GLOB, schema:GLOB or <object kind>:GLOB (e.g. table:public.tmp_*)"
            )
        };
        let (prefix, value) = text.split_once(':').ok_or_else(unknown)?;
        if value.is_empty() {
            return Err(unknown());
        }
        Ok(match prefix {
            "kind" => match value {
                "comment" => IgnoreRule::Comments,
                "privilege" => IgnoreRule::Privileges,
                "owner" => IgnoreRule::Owners,
                "column-order" => IgnoreRule::ColumnOrder,
                other => IgnoreRule::Kind(ObjectKind::parse(other).ok_or_else(unknown)?),
            },
            "code" => IgnoreRule::Code(value.to_string()),
            "schema" => IgnoreRule::Schema(value.to_string()),
            other => IgnoreRule::Object(
                ObjectKind::parse(other).ok_or_else(unknown)?,
                value.to_string(),
            ),
        })
    }

    fn matches(&self, change: &Change) -> bool {
        match self {
            IgnoreRule::Comments => change.code == ChangeCode::CommentChanged,
            IgnoreRule::Privileges => {
                matches!(
                    change.code,
                    ChangeCode::PrivilegeGranted | ChangeCode::PrivilegeRevoked
                ) || change.object.kind == ObjectKind::DefaultPrivilege
            }
            IgnoreRule::Owners => change.code == ChangeCode::OwnerChanged,
            IgnoreRule::ColumnOrder => change.code == ChangeCode::ColumnOrderChanged,
            IgnoreRule::Kind(kind) => change.object.kind == *kind,
            IgnoreRule::Code(glob) => glob_match(glob, &change.code.to_string()),
            IgnoreRule::Schema(glob) => change
                .object
                .schema
                .as_deref()
                .is_some_and(|s| glob_match(glob, s)),
            IgnoreRule::Object(kind, glob) => {
                let plain = |name: &str| glob_match(glob, &name.replace('"', ""));
                (change.object.kind == *kind && plain(&change.object.name))
                    || change
                        .object
                        .parent
                        .as_deref()
                        .and_then(|p| {
                            p.strip_prefix(kind.as_str())
                                .and_then(|r| r.strip_prefix(':'))
                        })
                        .is_some_and(plain)
            }
        }
    }
}

/// A set of rules with the text each came from.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<(String, IgnoreRule)>,
}

impl IgnoreRules {
    /// Parses every rule; the first bad one is the error.
    pub fn parse(texts: &[String]) -> Result<IgnoreRules, String> {
        let rules = texts
            .iter()
            .map(|t| IgnoreRule::parse(t).map(|r| (t.clone(), r)))
            .collect::<Result<_, _>>()?;
        Ok(IgnoreRules { rules })
    }

    /// Drops ignored changes; returns warnings for object and schema globs
    /// that matched nothing (a typo would otherwise hide nothing silently).
    pub fn apply(&self, changes: &mut Vec<Change>) -> Vec<String> {
        let mut used = vec![false; self.rules.len()];
        changes.retain(|c| {
            let mut keep = true;
            for (i, (_, rule)) in self.rules.iter().enumerate() {
                if rule.matches(c) {
                    used[i] = true;
                    keep = false;
                }
            }
            keep
        });
        self.rules
            .iter()
            .zip(used)
            .filter(|((_, rule), used)| {
                !used && matches!(rule, IgnoreRule::Object(..) | IgnoreRule::Schema(_))
            })
            .map(|((text, _), _)| format!("ignore rule {text} matched no change"))
            .collect()
    }
}

/// `*` any run, `?` one character; everything else literal.
pub fn glob_match(glob: &str, text: &str) -> bool {
    // Greedy with one backtrack point (the last `*`): O(len(glob) ×
    // len(text)) at worst. Names come from the database, and a recursive
    // matcher is exponential in the number of stars on a name that almost
    // matches (`*a*a*a*b` against "aaaa…").
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ti));
                gi += 1;
            }
            Some('?') => {
                gi += 1;
                ti += 1;
            }
            Some(c) if *c == t[ti] => {
                gi += 1;
                ti += 1;
            }
            _ => match star {
                // Let the last star take one more character, and retry.
                Some((sg, st)) => {
                    star = Some((sg, st + 1));
                    gi = sg + 1;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_rule_parsing() {
        assert!(glob_match("public.tmp_*", "public.tmp_x"));
        assert!(!glob_match("public.tmp_*", "public.orders"));
        assert!(glob_match("column-*-changed", "column-type-changed"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*", "a"));
        assert!(!glob_match("a?", "a"));
        assert!(glob_match("*x*y", "axbxcy"));
        assert!(!glob_match("*x*y", "axbxcyz"));
        assert!(glob_match("?*.t", "s.t"));
        // A name that almost matches many stars: the recursive matcher
        // took minutes here (2^n), this one a few thousand steps.
        let name = "a".repeat(60);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", &name));
        assert_eq!(IgnoreRule::parse("kind:comment"), Ok(IgnoreRule::Comments));
        assert_eq!(
            IgnoreRule::parse("schema:audit"),
            Ok(IgnoreRule::Schema("audit".into()))
        );
        assert_eq!(
            IgnoreRule::parse("table:public.tmp_*"),
            Ok(IgnoreRule::Object(ObjectKind::Table, "public.tmp_*".into()))
        );
        assert!(IgnoreRule::parse("colour:red")
            .unwrap_err()
            .contains("unknown ignore rule"));
        assert!(IgnoreRule::parse("kind:nonsense").is_err());
    }
}
