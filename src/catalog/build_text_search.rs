//! Text search configurations and dictionaries from
//! `text_search_configurations.sql` and `text_search_dictionaries.sql`:
//! the names of parsers, dictionaries and templates quoted here, from
//! their raw parts.

use super::build::BuildError;
use super::runner::Rows;
use crate::model::{
    quote_ident, split_dictionary_options, TextSearchConfiguration, TextSearchDictionary,
    TextSearchMapping,
};
use serde::Deserialize;
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct ConfigurationRow {
    schema: String,
    name: String,
    parser_schema: String,
    parser_name: String,
    mappings: Json<Vec<MappingRow>>,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DictionaryRow {
    schema: String,
    name: String,
    template_schema: String,
    template_name: String,
    options: Option<String>,
    owner: String,
    comment: Option<String>,
}

/// Every text search dictionary of the capture.
pub(crate) fn dictionaries(rows: &Rows) -> Result<Vec<TextSearchDictionary>, BuildError> {
    Ok(rows
        .decode::<DictionaryRow>("text_search_dictionaries.sql")?
        .into_iter()
        .map(|d| TextSearchDictionary {
            schema: d.schema,
            name: d.name,
            template: catalog_name(&d.template_schema, &d.template_name),
            options: split_dictionary_options(d.options.as_deref().unwrap_or_default()),
            owner: d.owner,
            comment: d.comment,
        })
        .collect())
}

/// One token type's mapping as the query builds it.
#[derive(Deserialize)]
struct MappingRow {
    token: String,
    /// `[schema, name]` per dictionary, in order.
    dictionaries: Vec<(String, String)>,
}

/// `name` for an object of `pg_catalog` (the capture's search path, and
/// any migration's), `schema.name` otherwise; each part quoted as needed.
fn catalog_name(schema: &str, name: &str) -> String {
    if schema == "pg_catalog" {
        quote_ident(name)
    } else {
        crate::model::qualified(schema, name)
    }
}

/// Every text search configuration of the capture.
pub(crate) fn configurations(rows: &Rows) -> Result<Vec<TextSearchConfiguration>, BuildError> {
    Ok(rows
        .decode::<ConfigurationRow>("text_search_configurations.sql")?
        .into_iter()
        .map(|c| TextSearchConfiguration {
            schema: c.schema,
            name: c.name,
            parser: catalog_name(&c.parser_schema, &c.parser_name),
            mappings: c
                .mappings
                .0
                .into_iter()
                .map(|m| TextSearchMapping {
                    token: m.token,
                    dictionaries: m
                        .dictionaries
                        .iter()
                        .map(|(schema, name)| catalog_name(schema, name))
                        .collect(),
                })
                .collect(),
            owner: c.owner,
            comment: c.comment,
        })
        .collect())
}
