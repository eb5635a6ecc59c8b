//! Text from a database written into SQL: string literals, comments,
//! dollar-quoted bodies, and a last pass that makes any statement safe to
//! display. Identifiers are quoted by [`crate::model::quote_ident`].
//!
//! Two properties hold for everything written here, whatever the text:
//! - the SQL means what it says: a name, comment, label or body cannot end a
//!   literal, a comment or a dollar quote early (PostgreSQL ends a `--`
//!   comment at `\r` as well as `\n`, and closes `$tag$` at the first
//!   occurrence, even one that starts inside the body);
//! - the SQL is safe to show: no control character but the line breaks and
//!   tabs of driftwatch's own layout, and no bidi override, reaches a
//!   terminal, so a statement cannot hide or rewrite a line of its own.
//!
//! Pure: no I/O.

use crate::model::{is_hidden_char, quote_ident};

/// A string literal: `'…'`, or `E'…'` with escapes when the text holds a
/// line break, a control character or a bidi override, so the literal is
/// one visible line. Both read the same under any
/// `standard_conforming_strings` (every generated migration sets it on).
pub fn literal(text: &str) -> String {
    if text.chars().any(|c| c == '\n' || is_hidden_char(c)) {
        escape_literal(text, false)
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// An `E'…'` literal; raw newlines kept when `keep_newlines` (a function
/// body keeps its lines).
fn escape_literal(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("E'");
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if keep_newlines => out.push('\t'),
            '\t' => out.push_str("\\t"),
            c if is_hidden_char(c) => push_code_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `\xHH` for ASCII, `\uXXXX` or `\UXXXXXXXX` above: the escapes of an
/// `E'…'` literal.
fn push_code_escape(out: &mut String, c: char) {
    let code = c as u32;
    if code < 0x80 {
        out.push_str(&format!("\\x{code:02x}"));
    } else if code <= 0xFFFF {
        out.push_str(&format!("\\u{code:04x}"));
    } else {
        out.push_str(&format!("\\U{code:08x}"));
    }
}

/// `text` as `--` comment lines: split at every line break PostgreSQL
/// recognises (`\r\n`, `\n`, `\r`), every other control character and
/// bidi override made visible, so nothing after a break can run.
pub fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for (i, line) in split_lines(text).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("--");
        if !line.is_empty() {
            out.push(' ');
            out.push_str(&crate::escape::terminal(line));
        }
    }
    out
}

/// The lines of `text`, split at `\r\n`, `\n` and a bare `\r` (where
/// `str::lines` keeps a bare `\r` inside the line).
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\r', '\n']) {
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// A function body as a string constant: dollar-quoted with a tag that
/// cannot close early (`$body$`, then `$body1$`, …), or an `E'…'` literal
/// (its lines kept) when the body holds a control character other than a
/// newline or tab, or a bidi override.
pub fn dollar_quote(body: &str) -> String {
    if has_tool_directive(body) {
        return escape_literal(body, false);
    }
    if body
        .chars()
        .any(|c| c != '\n' && c != '\t' && is_hidden_char(c))
    {
        return escape_literal(body, true);
    }
    let mut n = 0u32;
    loop {
        let tag = if n == 0 {
            "$body$".to_string()
        } else {
            format!("$body{n}$")
        };
        // The closing tag is the first occurrence after the opening one:
        // it must be the one driftwatch writes, not one that begins in the
        // body (a body ending in `$body` would close at its own text).
        let closed = format!("{body}{tag}");
        if closed.find(&tag) == Some(body.len()) {
            return format!("{tag}{closed}");
        }
        n += 1;
    }
}

/// Comment lines migration tools read as directives in a file's text,
/// wherever they stand (dbmate's `-- migrate:down` starts the down section,
/// goose's and sql-migrate's `-- +goose Down` / `-- +migrate Down` too,
/// Liquibase's `--changeset` / `--rollback` start changesets).
const TOOL_DIRECTIVES: &[&str] = &["migrate:", "+migrate", "+goose", "changeset", "rollback"];

/// Whether a line of `body` would read as a migration tool's directive
/// were it written raw into a migration file: such a body is written on
/// one line, so a function's text cannot move statements between a
/// file's sections.
fn has_tool_directive(body: &str) -> bool {
    split_lines(body).any(|line| {
        line.trim_start().strip_prefix("--").is_some_and(|rest| {
            let rest = rest.trim_start().to_ascii_lowercase();
            TOOL_DIRECTIVES.iter().any(|d| rest.starts_with(d))
        })
    })
}

/// The settings whose values are lists of names: PostgreSQL stores them
/// with each element quoted as an identifier, and they are written back
/// unquoted as that list. Every other value is a string literal.
const LIST_SETTINGS: &[&str] = &[
    "search_path",
    "temp_tablespaces",
    "session_preload_libraries",
    "local_preload_libraries",
    "shared_preload_libraries",
];

/// ` SET name = value` of a function's configuration entry `name=value`
/// (as `pg_proc.proconfig` holds it). The name is quoted part by part; a
/// list setting's value is written as its list only when it reads as a
/// list of identifiers, re-quoted one by one; anything else is a literal,
/// so a value cannot end the statement.
pub fn function_setting(entry: &str) -> String {
    let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
    let name = name
        .split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".");
    let list = LIST_SETTINGS
        .contains(&name.as_str())
        .then(|| identifier_list(value))
        .flatten();
    let value = match list {
        Some(names) if !names.is_empty() => names
            .iter()
            .map(|n| quote_ident(n))
            .collect::<Vec<_>>()
            .join(", "),
        _ => literal(value),
    };
    format!(" SET {name} = {value}")
}

/// `a, "B c", d` as its names; `None` unless every element is a plain
/// lower-case identifier or a double-quoted one.
fn identifier_list(value: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = value.trim_start();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') if quoted[i + 1..].starts_with('"') => {
                        name.push('"');
                        chars.next();
                    }
                    (i, '"') => break i + 1,
                    (_, c) => name.push(c),
                }
            };
            names.push(name);
            rest = quoted[end..].trim_start();
        } else {
            let end = rest
                .find(|c: char| {
                    !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
                })
                .unwrap_or(rest.len());
            let word = &rest[..end];
            if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit() || c == '$') {
                return None;
            }
            names.push(word.to_string());
            rest = rest[end..].trim_start();
        }
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    Some(names)
}

/// `sql` with every quoted identifier and string constant that holds a
/// line break, control character or bidi override rewritten as its
/// escaped form (`U&"…"`, `E'…'`), which PostgreSQL reads as the same
/// name or value. Covers the text the server deparsed (view definitions,
/// defaults, index definitions), which quotes such names but keeps their
/// characters raw. SQL that does not scan is returned as it is.
pub fn display_safe(sql: &str) -> String {
    use pg_query::protobuf::Token;
    let raw_control = sql
        .chars()
        .any(|c| c != '\n' && c != '\t' && is_hidden_char(c));
    if !raw_control && !has_quoted_layout(sql) {
        return sql.to_string();
    }
    let Ok(scanned) = pg_query::scan(sql) else {
        return sql.to_string();
    };
    let mut out = String::with_capacity(sql.len() + 16);
    let mut at = 0usize;
    for t in &scanned.tokens {
        let (Ok(start), Ok(end)) = (usize::try_from(t.start), usize::try_from(t.end)) else {
            continue;
        };
        let Some(text) = sql.get(start..end) else {
            continue;
        };
        if !text.chars().any(|c| c == '\n' || is_hidden_char(c)) {
            continue;
        }
        let rewritten = if t.token == Token::Ident as i32 && text.starts_with('"') {
            text.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .map(|inner| quote_ident(&inner.replace("\"\"", "\"")))
        } else if t.token == Token::Sconst as i32 && text.starts_with('\'') {
            text.strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .map(|inner| literal(&inner.replace("''", "'")))
        } else if t.token == Token::Sconst as i32 && text.starts_with('$') {
            dollar_body(text).and_then(|body| {
                let escaped = dollar_quote(body);
                escaped.starts_with("E'").then_some(escaped)
            })
        } else {
            None
        };
        if let Some(r) = rewritten {
            out.push_str(&sql[at..start]);
            out.push_str(&r);
            at = end;
        }
    }
    out.push_str(&sql[at..]);
    out
}

/// Whether a line feed or tab may sit inside a quoted name or string (a
/// cheap test before scanning).
fn has_quoted_layout(sql: &str) -> bool {
    sql.contains(['\n', '\t']) && sql.contains(['"', '\''])
}

/// The body of a dollar-quoted constant `$tag$body$tag$`.
fn dollar_body(text: &str) -> Option<&str> {
    let open = text[1..].find('$')? + 2;
    let tag = &text[..open];
    text.get(open..text.len().checked_sub(tag.len())?)
        .filter(|_| text.ends_with(tag) && text.len() >= 2 * tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_what_a_terminal_or_parser_would_act_on() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "'a\\b'");
        assert_eq!(literal("a\r\nb"), "E'a\\r\\nb'");
        assert_eq!(literal("x\\'\u{1b}[2J"), "E'x\\\\''\\x1b[2J'");
        assert_eq!(literal("\u{202e}cod"), "E'\\u202ecod'");
        assert_eq!(literal("\u{85}"), "E'\\u0085'");
    }

    #[test]
    fn comments_split_at_every_line_break_postgres_knows() {
        assert_eq!(comment("a\rDROP TABLE x;"), "-- a\n-- DROP TABLE x;");
        assert_eq!(comment("a\r\nb\nc"), "-- a\n-- b\n-- c");
        assert_eq!(
            comment("bell\u{7}\u{1b}]8;;http://e\u{7}"),
            "-- bell\\x07\\x1b]8;;http://e\\x07"
        );
        assert_eq!(comment("x\n\ny"), "-- x\n--\n-- y");
        for c in comment("\u{202e}\u{9b}31m\u{2028}").chars() {
            assert!(!is_hidden_char(c), "{c:?}");
        }
    }

    #[test]
    fn dollar_tags_never_close_inside_or_at_the_end_of_the_body() {
        assert_eq!(dollar_quote("select 1"), "$body$select 1$body$");
        assert_eq!(dollar_quote("a $body$ b"), "$body1$a $body$ b$body1$");
        // `$body` at the very end would meet the closing tag's `$body$`.
        assert_eq!(dollar_quote("x := '$body"), "$body1$x := '$body$body1$");
        assert_eq!(dollar_quote("x $body1"), "$body$x $body1$body$");
        assert_eq!(
            dollar_quote("a $body$ b $body1"),
            "$body2$a $body$ b $body1$body2$"
        );
        assert_eq!(dollar_quote("a\rb\nc"), "E'a\\rb\nc'");
        // A line dbmate would read as the start of the down section.
        assert_eq!(
            dollar_quote("begin\n  -- migrate:down\nend"),
            "E'begin\\n  -- migrate:down\\nend'"
        );
    }

    #[test]
    fn deparsed_text_gets_escaped_names_and_strings() {
        let sql = "CREATE VIEW v AS SELECT \"a\rb\" AS \"x\"\"y\n\", 'l\r''x' FROM t;";
        assert_eq!(
            display_safe(sql),
            "CREATE VIEW v AS SELECT U&\"a\\000Db\" AS U&\"x\"\"y\\000A\", E'l\\r''x' FROM t;"
        );
        let plain = "SELECT 'a\nb'";
        assert_eq!(display_safe(plain), "SELECT E'a\\nb'");
        let body = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $q$select\r1$q$;";
        assert_eq!(
            display_safe(body),
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS E'select\\r1';"
        );
        let untouched = "CREATE TABLE t (\n  a int DEFAULT 1\n);";
        assert_eq!(display_safe(untouched), untouched);
    }

    #[test]
    fn only_list_settings_are_written_unquoted_and_only_as_lists() {
        assert_eq!(
            function_setting("search_path=app, \"$user\", pg_temp"),
            " SET search_path = app, \"$user\", pg_temp"
        );
        assert_eq!(
            function_setting("search_path=\"we\"\"ird\""),
            " SET search_path = \"we\"\"ird\""
        );
        // A custom setting whose name ends like a list setting's: a literal.
        let evil = "x.evil2_search_path=public; CREATE TABLE canary(); --";
        assert_eq!(
            function_setting(evil),
            " SET x.evil2_search_path = 'public; CREATE TABLE canary(); --'"
        );
        // A list setting whose value does not read as names: a literal.
        assert_eq!(
            function_setting("search_path=a; DROP TABLE t"),
            " SET search_path = 'a; DROP TABLE t'"
        );
        assert_eq!(function_setting("search_path="), " SET search_path = ''");
        assert_eq!(function_setting("work_mem=64MB"), " SET work_mem = '64MB'");
        assert_eq!(
            function_setting("search_path=\"a\rb\""),
            " SET search_path = U&\"a\\000Db\""
        );
        assert_eq!(function_setting("x.Select=1"), " SET x.\"Select\" = '1'");
    }
}
