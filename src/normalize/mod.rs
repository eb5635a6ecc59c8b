//! SQL text handling with PostgreSQL's own parser (pg_query): splitting
//! files into statements with their line numbers, and canonical forms of
//! expressions, queries and function bodies for comparison. Pure: no I/O.

mod arrays;
mod classify;
mod expr;
mod renames;
mod view;

pub use classify::{
    analyze, hidden_only_by_whole_drops, migration_class, MigrationClass, StatementClass,
    StatementInfo,
};
pub use renames::{Rename, RenameKind};

pub use view::unqualify_single_relation;

pub use expr::{
    canonical_expression, canonical_function_body, canonical_index_key, canonical_query,
    canonical_tokens, collapse_whitespace,
};

/// One statement of an SQL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement text, without the terminating semicolon.
    pub text: &'a str,
    /// 1-based line of its first non-blank character.
    pub line: usize,
}

/// Splits `sql` into statements with PostgreSQL's parser, so dollar quotes,
/// comments and semicolons inside strings are handled as the server would.
pub fn split_statements(sql: &str) -> Result<Vec<Statement<'_>>, String> {
    let pieces = pg_query::split_with_parser(sql).map_err(|e| e.to_string())?;
    let base = sql.as_ptr() as usize;
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let trimmed = piece.trim_start();
        if trimmed.trim().is_empty() {
            continue;
        }
        let offset = (trimmed.as_ptr() as usize)
            .saturating_sub(base)
            .min(sql.len());
        let line = sql[..offset].bytes().filter(|b| *b == b'\n').count() + 1;
        out.push(Statement {
            text: trimmed,
            line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_lines_and_dollar_quotes() {
        let sql = "create table a (x int);\n\n-- note; here\ncreate function f() returns int language sql as $$ select 1; $$;\nselect ';';";
        let stmts = split_statements(sql).unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[0].line, 1);
        assert!(stmts[1].text.contains("$$ select 1; $$"));
        assert_eq!(stmts[2].line, 5);
    }

    #[test]
    fn reports_syntax_errors() {
        assert!(split_statements("create tabel x ();").is_err());
    }
}
