//! Text search configurations: a parser and, per token type of that
//! parser, the dictionaries a token goes through (`CREATE TEXT SEARCH
//! CONFIGURATION … (COPY = english)`, then `ALTER … MAPPING FOR …`); and
//! the dictionaries themselves (a template and its options).

use serde::{Deserialize, Serialize};

/// A text search configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSearchConfiguration {
    /// Schema.
    pub schema: String,
    /// Configuration name.
    pub name: String,
    /// Its parser, quoted and schema-qualified unless it lives in
    /// `pg_catalog` (`default`).
    pub parser: String,
    /// Token type → dictionaries, in the parser's token order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<TextSearchMapping>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON TEXT SEARCH CONFIGURATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The dictionaries one token type goes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSearchMapping {
    /// The token type's alias (`asciiword`, `hword_part`, …).
    pub token: String,
    /// Dictionaries in the order they are consulted, each quoted and
    /// schema-qualified unless it lives in `pg_catalog` (`english_stem`,
    /// `public.unaccent`).
    pub dictionaries: Vec<String>,
}

/// A text search dictionary: a template and the options it was created
/// with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSearchDictionary {
    /// Schema.
    pub schema: String,
    /// Dictionary name.
    pub name: String,
    /// Its template, quoted and schema-qualified unless it lives in
    /// `pg_catalog` (`snowball`, `public.unaccent`).
    pub template: String,
    /// The template's options as the server keeps them, one `name = value`
    /// each, in their order (`language = 'english'`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Owning role.
    pub owner: String,
    /// COMMENT ON TEXT SEARCH DICTIONARY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Splits `dictinitoption` (`a = 'x, y', b = 1`) into its options at the
/// commas outside quoted values. The server writes every quote inside a
/// value doubled (and every backslash of an `E'…'` value too), so a
/// quote toggles the state and a doubled one toggles it twice.
pub fn split_dictionary_options(text: &str) -> Vec<String> {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => {
                options.push(current.trim().to_string());
                current.clear();
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        options.push(current.trim().to_string());
    }
    options
}

#[cfg(test)]
mod tests {
    use super::split_dictionary_options;

    #[test]
    fn options_split_outside_quotes_only() {
        assert_eq!(
            split_dictionary_options("language = 'english', stopwords = 'it''s, odd', accept = 1"),
            [
                "language = 'english'",
                "stopwords = 'it''s, odd'",
                "accept = 1"
            ]
        );
        assert!(split_dictionary_options("").is_empty());
    }
}
