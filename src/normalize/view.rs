//! One spelling of a view's query on every PostgreSQL major.
//!
//! From 16 on, `pg_get_viewdef` leaves out the relation name of column
//! references in a top-level query that reads one relation (`SELECT
//! customer_id FROM orders`, where 15 printed `orders.customer_id`). Both
//! mean the same, and a diff between a 15 and a 16 database must not report
//! every view. [`unqualify_single_relation`] turns the older spelling into
//! the newer one, editing only the qualifiers so the server's layout stays.

use pg_query::protobuf::{self, node::Node as N, SetOperation};
use pg_query::ParserOptions;

/// `query` (as `pg_get_viewdef` prints it) with the qualifier dropped from
/// the column references that PostgreSQL 16 and newer print unqualified:
/// those of a top-level, non-set-operation SELECT whose FROM holds exactly
/// one relation (a table, a subquery or a function, aliased or not), outside
/// any nested query. Text that does not parse comes back unchanged.
pub fn unqualify_single_relation(query: &str) -> String {
    let Ok(parsed) = pg_query::parse(query, ParserOptions::DEFAULT) else {
        return query.to_string();
    };
    let Some(qualifier) = single_relation(&parsed.protobuf) else {
        return query.to_string();
    };
    let Ok(tokens) = pg_query::scan_tokens(query) else {
        return query.to_string();
    };
    let tokens: Vec<(usize, usize)> = tokens
        .iter()
        .map(|t| (t.start.max(0) as usize, t.end.max(0) as usize))
        .collect();
    let nested = nested_query_ranges(query, &tokens);
    let text = |i: usize| -> &str {
        tokens
            .get(i)
            .and_then(|(s, e)| query.get(*s..*e))
            .unwrap_or("")
    };
    let unquote = |t: &str| -> String {
        match t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => inner.replace("\"\"", "\""),
            None => t.to_lowercase(),
        }
    };
    // `qualifier . column` outside nested queries; not a schema-qualified
    // name (after FROM or ONLY, before `(`, after `::`, or a third part).
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for i in 0..tokens.len() {
        let (start, _) = tokens[i];
        if text(i + 1) != "." || unquote(text(i)) != qualifier {
            continue;
        }
        let previous = if i == 0 { "" } else { text(i - 1) };
        let after = text(i + 3);
        if matches!(
            previous.to_ascii_lowercase().as_str(),
            "." | "::" | "from" | "only"
        ) || after == "("
            || after == "."
            || nested.iter().any(|(s, e)| (*s..*e).contains(&start))
        {
            continue;
        }
        cuts.push((start, tokens[i + 1].1));
    }
    let mut out = query.to_string();
    for (start, end) in cuts.into_iter().rev() {
        out.replace_range(start..end, "");
    }
    out
}

/// The name column references use for the one relation a top-level SELECT
/// reads, or None when the statement is anything else.
fn single_relation(parsed: &protobuf::ParseResult) -> Option<String> {
    let stmt = parsed.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    let N::SelectStmt(select) = stmt else {
        return None;
    };
    if select.op != SetOperation::SetopNone as i32 || select.from_clause.len() != 1 {
        return None;
    }
    let alias = |a: &Option<protobuf::Alias>| a.as_ref().map(|a| a.aliasname.clone());
    match select.from_clause[0].node.as_ref()? {
        N::RangeVar(r) => alias(&r.alias).or_else(|| Some(r.relname.clone())),
        N::RangeSubselect(r) => alias(&r.alias),
        N::RangeFunction(r) => alias(&r.alias),
        _ => None,
    }
}

/// Byte ranges of the parenthesised queries inside `query` (sublinks,
/// subqueries in FROM, CTE bodies): a `(` whose next token is SELECT, WITH
/// or VALUES, up to its matching `)`.
fn nested_query_ranges(query: &str, tokens: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let text = |i: usize| -> &str {
        tokens
            .get(i)
            .and_then(|(s, e)| query.get(*s..*e))
            .unwrap_or("")
    };
    let mut ranges = Vec::new();
    let mut open: Vec<(usize, bool)> = Vec::new();
    for (i, (start, end)) in tokens.iter().enumerate() {
        match text(i) {
            "(" => {
                let next = text(i + 1).to_ascii_lowercase();
                open.push((
                    *start,
                    matches!(next.as_str(), "select" | "with" | "values"),
                ));
            }
            ")" => {
                if let Some((from, true)) = open.pop() {
                    ranges.push((from, *end));
                }
            }
            _ => {}
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs printed by pg_get_viewdef on 15 and on 16 for the same view.
    #[test]
    fn fifteen_reads_as_sixteen() {
        let pairs = [
            (
                " SELECT orders.customer_id,\n    sum(orders.total) AS sum\n   FROM orders\n  GROUP BY orders.customer_id;",
                " SELECT customer_id,\n    sum(total) AS sum\n   FROM orders\n  GROUP BY customer_id;",
            ),
            (
                " SELECT o.id\n   FROM orders o\n  WHERE (o.total > (1)::numeric);",
                " SELECT id\n   FROM orders o\n  WHERE (total > (1)::numeric);",
            ),
            (
                " SELECT orders.id\n   FROM orders\n  WHERE (EXISTS ( SELECT 1\n           FROM customers\n          WHERE (customers.id = orders.customer_id)));",
                " SELECT id\n   FROM orders\n  WHERE (EXISTS ( SELECT 1\n           FROM customers\n          WHERE (customers.id = orders.customer_id)));",
            ),
            (
                " WITH x AS (\n         SELECT orders.id,\n            orders.total\n           FROM orders\n        )\n SELECT x.id\n   FROM x;",
                " WITH x AS (\n         SELECT orders.id,\n            orders.total\n           FROM orders\n        )\n SELECT id\n   FROM x;",
            ),
            (
                " SELECT t.id\n   FROM ( SELECT orders.id\n           FROM orders) t;",
                " SELECT id\n   FROM ( SELECT orders.id\n           FROM orders) t;",
            ),
            (
                " SELECT orders.id,\n    count(*) OVER (PARTITION BY orders.customer_id ORDER BY orders.total) AS count\n   FROM orders\n  ORDER BY orders.id;",
                " SELECT id,\n    count(*) OVER (PARTITION BY customer_id ORDER BY total) AS count\n   FROM orders\n  ORDER BY id;",
            ),
        ];
        for (fifteen, sixteen) in pairs {
            assert_eq!(unqualify_single_relation(fifteen), sixteen);
            assert_eq!(unqualify_single_relation(sixteen), sixteen, "idempotent");
        }
    }

    #[test]
    fn joins_set_operations_and_schema_names_stay() {
        for kept in [
            " SELECT o.id,\n    c.name\n   FROM (orders o\n     JOIN customers c ON ((c.id = o.customer_id)));",
            " SELECT orders.id\n   FROM orders\nUNION ALL\n SELECT customers.id\n   FROM customers;",
            " SELECT orders.id\n   FROM orders.orders;",
        ] {
            let expected = if kept.contains("orders.orders") {
                " SELECT id\n   FROM orders.orders;"
            } else {
                kept
            };
            assert_eq!(unqualify_single_relation(kept), expected);
        }
    }
}
