//! Canonical forms of SQL text for comparison: parsed with PostgreSQL's own
//! grammar and printed back, so whitespace, comments, redundant parentheses
//! and cast spellings do not count, while any change to the meaning does.
//! Text that does not parse falls back to whitespace-collapsed text.

use pg_query::{DeparseOptions, ParserOptions};

fn deparse(sql: &str) -> Option<String> {
    let mut parsed = pg_query::parse(sql, ParserOptions::DEFAULT).ok()?;
    for stmt in &mut parsed.protobuf.stmts {
        if let Some(node) = stmt.stmt.as_mut() {
            super::arrays::push_array_casts(node);
        }
    }
    parsed.protobuf.deparse(DeparseOptions::default()).ok()
}

/// Collapses runs of white space to one space and trims.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Canonical text of a scalar expression (a default, a CHECK, a predicate).
pub fn canonical_expression(expr: &str) -> String {
    deparse(&format!("SELECT {expr}"))
        .map(|s| s.trim_start_matches("SELECT ").to_string())
        .unwrap_or_else(|| collapse_whitespace(expr))
}

/// Canonical text of a query (a view's definition), in the spelling of
/// PostgreSQL 16 and newer (see [`super::unqualify_single_relation`]), so a
/// snapshot stored from an older major compares equal.
pub fn canonical_query(query: &str) -> String {
    let unqualified = super::unqualify_single_relation(query);
    let trimmed = unqualified.trim().trim_end_matches(';');
    deparse(trimmed).unwrap_or_else(|| collapse_whitespace(trimmed))
}

/// Canonical text of one index key (`lower(note) text_pattern_ops DESC`).
pub fn canonical_index_key(key: &str) -> String {
    deparse(&format!("CREATE INDEX i ON t ({key})"))
        .and_then(|s| {
            let start = s.find(" (")? + 2;
            Some(s[start..s.len().saturating_sub(1)].to_string())
        })
        .unwrap_or_else(|| collapse_whitespace(key))
}

/// Canonical text of a function body in `language`: SQL bodies parse as
/// statements; other bodies (PL/pgSQL first) compare token by token with
/// PostgreSQL's scanner: comments and layout dropped, key words and unquoted
/// identifiers case-folded, literals kept exactly. (pg_query's PL/pgSQL
/// parser rejects trigger bodies outside a real function, so it cannot be
/// used here.)
pub fn canonical_function_body(language: &str, body: &str) -> String {
    match language {
        "sql" => deparse(body.trim()).unwrap_or_else(|| canonical_tokens(body)),
        _ => canonical_tokens(body),
    }
}

/// The tokens of `text` joined by single spaces, without comments, with key
/// words and unquoted identifiers in lower case.
pub fn canonical_tokens(text: &str) -> String {
    use pg_query::protobuf::{KeywordKind, Token};
    let Ok(tokens) = pg_query::scan_tokens(text) else {
        return collapse_whitespace(text);
    };
    let mut out = String::with_capacity(text.len());
    for t in tokens {
        if t.token == Token::SqlComment as i32 || t.token == Token::CComment as i32 {
            continue;
        }
        let (start, end) = (t.start.max(0) as usize, t.end.max(0) as usize);
        let Some(piece) = text.get(start..end) else {
            continue;
        };
        if !out.is_empty() {
            out.push(' ');
        }
        let fold = t.keyword_kind != KeywordKind::NoKeyword as i32
            || (t.token == Token::Ident as i32 && !piece.starts_with('"'));
        if fold {
            out.push_str(&piece.to_lowercase());
        } else {
            out.push_str(piece);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reformatting_is_not_a_change_but_a_new_predicate_is() {
        assert_eq!(
            canonical_expression("((total)::numeric < (1000000)::numeric)"),
            canonical_expression("total::numeric<1000000::numeric")
        );
        assert_ne!(
            canonical_expression("(qty > 0)"),
            canonical_expression("(qty > 1)")
        );
        assert_eq!(
            canonical_query(
                " SELECT orders.id\n   FROM app.orders\n  WHERE (orders.status = 'paid');"
            ),
            canonical_query("select orders.id from app.orders where orders.status = 'paid'")
        );
        assert_eq!(
            canonical_index_key("lower(note) text_pattern_ops"),
            canonical_index_key("lower( note )  text_pattern_ops")
        );
    }

    #[test]
    fn an_array_cast_reads_as_the_cast_of_its_elements() {
        // pg_get_constraintdef of `c IN ('a', 'b')` on varchar, and what
        // PostgreSQL prints once that text ran again.
        let first =
            "((c)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))";
        let again = "((c)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text]))";
        assert_eq!(canonical_expression(first), canonical_expression(again));
        let other = "((c)::text = ANY (ARRAY[('a'::character varying)::text, ('z'::character varying)::text]))";
        assert_ne!(canonical_expression(first), canonical_expression(other));
        assert_eq!(
            canonical_query(&format!("SELECT 1 FROM t WHERE {first}")),
            canonical_query(&format!("SELECT 1 FROM t WHERE {again}"))
        );
        // A cast of a two-dimension literal is left as it is.
        let nested = "(ARRAY[ARRAY[1, 2]])::bigint[]";
        assert_eq!(canonical_expression(nested), canonical_expression(nested));
        assert_ne!(
            canonical_expression(nested),
            canonical_expression("ARRAY[ARRAY[(1)::bigint, (2)::bigint]]")
        );
    }

    #[test]
    fn function_bodies_ignore_layout_and_comments() {
        let a = "\nBEGIN\n  -- stamp\n  NEW.x := 1;\n  RETURN NEW;\nEND ";
        let b = " BEGIN NEW.x := 1; RETURN NEW; END ";
        assert_eq!(
            canonical_function_body("plpgsql", a),
            canonical_function_body("plpgsql", b)
        );
        let c = " BEGIN NEW.x := 2; RETURN NEW; END ";
        assert_eq!(
            canonical_function_body("plpgsql", a),
            canonical_function_body("plpgsql", "begin new.X := 1; return NEW; end")
        );
        assert_ne!(
            canonical_function_body("plpgsql", "BEGIN RAISE 'a  b'; END"),
            canonical_function_body("plpgsql", "BEGIN RAISE 'a b'; END")
        );
        assert_ne!(
            canonical_function_body("plpgsql", a),
            canonical_function_body("plpgsql", c)
        );
        assert_eq!(
            canonical_function_body("sql", "SELECT x + 1"),
            canonical_function_body("sql", "select x+1 -- one more")
        );
    }
}
