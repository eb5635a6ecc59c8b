//! CHECK expressions that reference columns need the server's deparser,
//! which opens (and locks) the table. Two constraints print the same text
//! when their expression trees agree (source positions aside) and their
//! referenced columns have the same names, so only one constraint of each
//! such group is deparsed.

use super::build::Lookups;
use super::runner::Rows;
use crate::error::Result;
use std::collections::HashMap;

/// A CHECK constraint whose text the catalog phase could not print.
#[derive(sqlx::FromRow)]
pub(crate) struct PendingCheck {
    pub oid: i64,
    pub relid: i64,
    pub check_tree: Option<String>,
}

/// The key under which constraints share one deparsed text: the node tree
/// without `:location` fields, the names of the columns it references, and
/// the table itself when a whole-row reference (varattno 0) prints its name.
pub(crate) fn signature(tree: &str, relid: i64, column_name: impl Fn(i32) -> String) -> String {
    let mut stripped = String::with_capacity(tree.len());
    let mut attnums = Vec::new();
    let mut rest = tree;
    while let Some(pos) = rest.find(" :") {
        stripped.push_str(&rest[..pos]);
        let after = &rest[pos + 2..];
        let field_end = after.find(' ').unwrap_or(after.len());
        let field = &after[..field_end];
        let value_str = &after[field_end..];
        let value_len = value_str
            .trim_start()
            .find([' ', ')', '}'])
            .map(|n| n + (value_str.len() - value_str.trim_start().len()))
            .unwrap_or(value_str.len());
        let value = value_str[..value_len].trim();
        match field {
            "location" => {}
            "varattno" => {
                if let Ok(n) = value.parse::<i32>() {
                    attnums.push(n);
                }
                stripped.push_str(&rest[pos..pos + 2 + field_end + value_len]);
            }
            _ => stripped.push_str(&rest[pos..pos + 2 + field_end + value_len]),
        }
        rest = &after[field_end + value_len..];
    }
    stripped.push_str(rest);
    attnums.sort_unstable();
    attnums.dedup();
    if attnums.contains(&0) {
        stripped.push_str(&format!("|rel={relid}"));
    }
    for n in attnums.into_iter().filter(|n| *n > 0) {
        stripped.push_str(&format!("|{n}={}", column_name(n)));
    }
    stripped
}

/// Each pending check's signature, and one representative oid per signature.
pub(crate) struct CheckGroups {
    /// Constraint oid → signature.
    pub signature_of: HashMap<i64, String>,
    /// Signature → the constraint oid deparsed for it.
    pub representative: HashMap<String, i64>,
}

/// Groups the checks of constraints.sql that need the server's deparser.
pub(crate) fn groups(rows: &Rows, lookups: &Lookups) -> Result<CheckGroups> {
    let mut out = CheckGroups {
        signature_of: HashMap::new(),
        representative: HashMap::new(),
    };
    for c in rows.peek::<PendingCheck>("constraints.sql")? {
        let Some(tree) = c.check_tree else { continue };
        let key = signature(&tree, c.relid, |n| {
            lookups
                .columns
                .get(&(c.relid, n))
                .map(|x| x.0.clone())
                .unwrap_or_default()
        });
        let rep = out.representative.entry(key.clone()).or_insert(c.oid);
        *rep = (*rep).min(c.oid);
        out.signature_of.insert(c.oid, key);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::signature;

    const A: &str = "{OPEXPR :opno 521 :opfuncid 147 :args ({VAR :varno 1 :varattno 2 :vartype 23 :location 79} {CONST :consttype 23 :location 81 :constvalue 4 [ 0 0 0 0 0 0 0 0 ]}) :location 80}";

    #[test]
    fn positions_do_not_matter_but_columns_and_constants_do() {
        let name = |n: i32| format!("col{n}");
        let moved = A
            .replace(":location 79", ":location 12")
            .replace(":location 80", ":location 3");
        assert_eq!(signature(A, 1, name), signature(&moved, 2, name));
        let other_column = A.replace(":varattno 2", ":varattno 3");
        assert_ne!(signature(A, 1, name), signature(&other_column, 1, name));
        let renamed = |n: i32| format!("other{n}");
        assert_ne!(signature(A, 1, name), signature(A, 1, renamed));
        let other_const = A.replace("[ 0 0 0 0", "[ 1 0 0 0");
        assert_ne!(signature(A, 1, name), signature(&other_const, 1, name));
    }

    #[test]
    fn whole_row_references_key_on_the_table() {
        let whole = A.replace(":varattno 2", ":varattno 0");
        let name = |_: i32| String::new();
        assert_ne!(signature(&whole, 1, name), signature(&whole, 2, name));
    }
}
