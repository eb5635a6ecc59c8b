//! psql meta-commands in SQL files. `pg_dump --schema-only` writes some
//! (`\restrict KEY` first and `\unrestrict KEY` last since 15.14, `\connect`
//! with `--create`): they are psql's, not SQL, and are skipped. Any other
//! meta-command is an error with its file and line, not a syntax error at
//! `\`. Pure: works on text.

use crate::error::{Error, Result};

/// The meta-commands pg_dump writes into a schema dump.
pub const PG_DUMP_META_COMMANDS: &[&str] = &["restrict", "unrestrict", "connect", "encoding"];

/// Where the scanner is.
#[derive(Clone, PartialEq)]
enum State {
    Code,
    Quote { escapes: bool },
    Ident,
    LineComment,
    BlockComment(usize),
    Dollar(String),
}

/// `text` with the lines holding a meta-command pg_dump writes blanked
/// (line numbers stay); an error naming `origin:line` for any other
/// meta-command. Meta-commands are recognised where a line starts outside
/// strings, quoted identifiers, comments and dollar-quoted bodies.
pub fn skip_pg_dump_meta_commands(text: &str, origin: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut state = State::Code;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if state == State::Code {
            if let Some(command) = trimmed.strip_prefix('\\') {
                let name: String = command
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '!')
                    .collect();
                if PG_DUMP_META_COMMANDS.contains(&name.as_str()) {
                    out.push_str(if line.ends_with('\n') { "\n" } else { "" });
                    continue;
                }
                return Err(Error::Input {
                    path: format!("{origin}:{}", number + 1),
                    message: format!(
                        "psql meta-command \\{name} is not SQL driftwatch can run"
                    ),
                    hint: format!(
                        "remove it; of psql's meta-commands only those pg_dump writes are skipped (\\{})",
                        PG_DUMP_META_COMMANDS.join(", \\")
                    ),
                });
            }
        }
        scan(line, &mut state);
        out.push_str(line);
    }
    Ok(out)
}

/// Advances the scanner state over one line.
fn scan(line: &str, state: &mut State) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match state {
            State::Code => match c {
                '-' if next == Some('-') => {
                    *state = State::LineComment;
                    i += 1;
                }
                '/' if next == Some('*') => {
                    *state = State::BlockComment(1);
                    i += 1;
                }
                '\'' => {
                    let escapes = i > 0
                        && matches!(chars[i - 1], 'e' | 'E')
                        && (i < 2 || !(chars[i - 2].is_alphanumeric() || chars[i - 2] == '_'));
                    *state = State::Quote { escapes };
                }
                '"' => *state = State::Ident,
                '$' => {
                    let previous_is_word =
                        i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
                    let tag: String = chars[i + 1..]
                        .iter()
                        .take_while(|c| c.is_alphanumeric() || **c == '_')
                        .collect();
                    let close = i + 1 + tag.chars().count();
                    if !previous_is_word
                        && chars.get(close) == Some(&'$')
                        && !tag.starts_with(|c: char| c.is_ascii_digit())
                    {
                        *state = State::Dollar(format!("${tag}$"));
                        i = close;
                    }
                }
                _ => {}
            },
            State::Quote { escapes } => {
                if *escapes && c == '\\' {
                    i += 1;
                } else if c == '\'' {
                    if next == Some('\'') {
                        i += 1;
                    } else {
                        *state = State::Code;
                    }
                }
            }
            State::Ident => {
                if c == '"' {
                    if next == Some('"') {
                        i += 1;
                    } else {
                        *state = State::Code;
                    }
                }
            }
            State::LineComment => {
                if c == '\n' {
                    *state = State::Code;
                }
            }
            State::BlockComment(depth) => {
                if c == '*' && next == Some('/') {
                    *depth -= 1;
                    i += 1;
                    if *depth == 0 {
                        *state = State::Code;
                    }
                } else if c == '/' && next == Some('*') {
                    *depth += 1;
                    i += 1;
                }
            }
            State::Dollar(tag) => {
                let rest: String = chars[i..].iter().take(tag.chars().count()).collect();
                if rest == *tag {
                    i += tag.chars().count() - 1;
                    *state = State::Code;
                }
            }
        }
        i += 1;
    }
    if *state == State::LineComment {
        *state = State::Code;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_meta_commands_are_blanked_and_others_refused() {
        let dump = "\\restrict abc\nCREATE TABLE t (a int);\n\\unrestrict abc\n";
        let out = skip_pg_dump_meta_commands(dump, "d.sql").unwrap();
        assert_eq!(out, "\nCREATE TABLE t (a int);\n\n");

        let body = "CREATE FUNCTION f() RETURNS text AS $$\n\\x inside a body\n$$ LANGUAGE sql;\nSELECT 'a\n\\q';\n";
        assert_eq!(skip_pg_dump_meta_commands(body, "f.sql").unwrap(), body);

        let err = skip_pg_dump_meta_commands("SELECT 1;\n\n\\i other.sql\n", "s.sql")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.sql:3: psql meta-command \\i"), "{err}");
    }
}
