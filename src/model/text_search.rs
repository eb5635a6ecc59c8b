//! Text search configurations: a parser and, per token type of that
//! parser, the dictionaries a token goes through (`CREATE TEXT SEARCH
//! CONFIGURATION … (COPY = english)`, then `ALTER … MAPPING FOR …`).

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
