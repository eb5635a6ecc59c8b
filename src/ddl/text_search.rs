//! Text search configurations and dictionaries as SQL: the one writer of
//! their CREATE, ALTER and DROP statements, for reports and the planner
//! alike.

use super::quote;
use crate::model::{
    qualified, quote_ident, TextSearchConfiguration, TextSearchDictionary, TextSearchMapping,
};
use std::fmt::Write as _;

/// The configuration's name, quoted and qualified.
pub(crate) fn name(c: &TextSearchConfiguration) -> String {
    qualified(&c.schema, &c.name)
}

/// `CREATE TEXT SEARCH CONFIGURATION name (PARSER = p);`: a configuration
/// with no mappings yet ([`mappings`] adds them).
pub(crate) fn create_configuration(c: &TextSearchConfiguration) -> String {
    format!(
        "CREATE TEXT SEARCH CONFIGURATION {} (PARSER = {});",
        name(c),
        c.parser
    )
}

/// `DROP TEXT SEARCH CONFIGURATION name;`
pub(crate) fn drop_configuration(c: &TextSearchConfiguration) -> String {
    format!("DROP TEXT SEARCH CONFIGURATION {};", name(c))
}

/// The ALTER … MAPPING statements that turn the mappings `from` of
/// configuration `name` into `to`: DROP MAPPING for the token types that
/// lose theirs, ALTER MAPPING for those whose dictionaries change, ADD
/// MAPPING for new ones. Token types with the same dictionaries share a
/// statement, in the parser's token order.
pub(crate) fn mappings(
    name: &str,
    from: &[TextSearchMapping],
    to: &[TextSearchMapping],
) -> Vec<String> {
    let old = |token: &str| from.iter().find(|m| m.token == token);
    let dropped: Vec<&str> = from
        .iter()
        .filter(|m| !to.iter().any(|n| n.token == m.token))
        .map(|m| m.token.as_str())
        .collect();
    let mut out = Vec::new();
    if !dropped.is_empty() {
        out.push(format!(
            "ALTER TEXT SEARCH CONFIGURATION {name} DROP MAPPING FOR {};",
            tokens(&dropped)
        ));
    }
    for (verb, wanted) in [("ALTER", true), ("ADD", false)] {
        let changed: Vec<&TextSearchMapping> = to
            .iter()
            .filter(|m| match old(&m.token) {
                Some(o) => wanted && o.dictionaries != m.dictionaries,
                None => !wanted,
            })
            .collect();
        for (dictionaries, group) in by_dictionaries(&changed) {
            out.push(format!(
                "ALTER TEXT SEARCH CONFIGURATION {name} {verb} MAPPING FOR {} WITH {};",
                tokens(&group),
                dictionaries.join(", ")
            ));
        }
    }
    out
}

/// Token type aliases as SQL names.
fn tokens(list: &[&str]) -> String {
    list.iter()
        .map(|t| quote_ident(t))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Mappings grouped by their dictionaries, each group in token order, the
/// groups in the order of their first token.
fn by_dictionaries<'a>(list: &[&'a TextSearchMapping]) -> Vec<(&'a [String], Vec<&'a str>)> {
    let mut groups: Vec<(&[String], Vec<&str>)> = Vec::new();
    for &m in list {
        match groups
            .iter_mut()
            .find(|(d, _)| *d == m.dictionaries.as_slice())
        {
            Some((_, tokens)) => tokens.push(&m.token),
            None => groups.push((&m.dictionaries, vec![&m.token])),
        }
    }
    groups
}

/// The configuration as a report shows it: CREATE, its mappings, owner
/// and comment.
pub(crate) fn configuration(c: &TextSearchConfiguration) -> String {
    let name = name(c);
    let mut out = create_configuration(c);
    out.push('\n');
    for statement in mappings(&name, &[], &c.mappings) {
        let _ = writeln!(out, "{statement}");
    }
    let _ = writeln!(
        out,
        "ALTER TEXT SEARCH CONFIGURATION {name} OWNER TO {};",
        quote_ident(&c.owner)
    );
    if let Some(text) = &c.comment {
        let _ = writeln!(
            out,
            "COMMENT ON TEXT SEARCH CONFIGURATION {name} IS {};",
            quote::literal(text)
        );
    }
    out
}

/// `CREATE TEXT SEARCH DICTIONARY name (TEMPLATE = t, options…);`
pub(crate) fn create_dictionary(d: &TextSearchDictionary) -> String {
    let mut parts = vec![format!("TEMPLATE = {}", d.template)];
    parts.extend(d.options.iter().cloned());
    format!(
        "CREATE TEXT SEARCH DICTIONARY {} ({});",
        qualified(&d.schema, &d.name),
        parts.join(", ")
    )
}

/// `DROP TEXT SEARCH DICTIONARY name;`
pub(crate) fn drop_dictionary(d: &TextSearchDictionary) -> String {
    format!(
        "DROP TEXT SEARCH DICTIONARY {};",
        qualified(&d.schema, &d.name)
    )
}

/// The name of an option as the server writes it (`name = value`).
fn option_name(option: &str) -> &str {
    option
        .split_once('=')
        .map_or(option, |(name, _)| name)
        .trim()
}

/// `ALTER TEXT SEARCH DICTIONARY name (…)` that turns options `from` into
/// `to`: every new or changed option with its value, every option that
/// goes by its name alone (which takes the template's default); None when
/// they are the same.
pub(crate) fn alter_dictionary(
    d: &TextSearchDictionary,
    from: &[String],
    to: &[String],
) -> Option<String> {
    let mut parts: Vec<String> = to.iter().filter(|o| !from.contains(o)).cloned().collect();
    for gone in from {
        let name = option_name(gone);
        if !to.iter().any(|o| option_name(o) == name) {
            parts.push(name.to_string());
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "ALTER TEXT SEARCH DICTIONARY {} ({});",
            qualified(&d.schema, &d.name),
            parts.join(", ")
        )
    })
}

/// The dictionary as a report shows it: CREATE, owner and comment.
pub(crate) fn dictionary(d: &TextSearchDictionary) -> String {
    let name = qualified(&d.schema, &d.name);
    let mut out = create_dictionary(d);
    out.push('\n');
    let _ = writeln!(
        out,
        "ALTER TEXT SEARCH DICTIONARY {name} OWNER TO {};",
        quote_ident(&d.owner)
    );
    if let Some(text) = &d.comment {
        let _ = writeln!(
            out,
            "COMMENT ON TEXT SEARCH DICTIONARY {name} IS {};",
            quote::literal(text)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_options_are_set_and_reset() {
        let d = TextSearchDictionary {
            schema: "s".into(),
            name: "d".into(),
            template: "simple".into(),
            options: vec!["stopwords = 'english'".into(), "accept = 'false'".into()],
            owner: "o".into(),
            comment: None,
        };
        assert_eq!(
            create_dictionary(&d),
            "CREATE TEXT SEARCH DICTIONARY s.d (TEMPLATE = simple, stopwords = 'english', accept = 'false');"
        );
        let before = [
            "stopwords = 'french'".to_string(),
            "accept = 'true'".to_string(),
        ];
        assert_eq!(
            alter_dictionary(&d, &before, &d.options[..1]).as_deref(),
            Some("ALTER TEXT SEARCH DICTIONARY s.d (stopwords = 'english', accept);")
        );
        assert_eq!(alter_dictionary(&d, &d.options, &d.options), None);
    }

    fn mapping(token: &str, dictionaries: &[&str]) -> TextSearchMapping {
        TextSearchMapping {
            token: token.into(),
            dictionaries: dictionaries.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn mappings_are_dropped_altered_and_added_in_groups() {
        let from = [
            mapping("asciiword", &["english_stem"]),
            mapping("word", &["english_stem"]),
            mapping("email", &["simple"]),
        ];
        let to = [
            mapping("asciiword", &["public.unaccent", "english_stem"]),
            mapping("word", &["public.unaccent", "english_stem"]),
            mapping("url", &["simple"]),
        ];
        assert_eq!(
            mappings("s.c", &from, &to),
            [
                "ALTER TEXT SEARCH CONFIGURATION s.c DROP MAPPING FOR email;",
                "ALTER TEXT SEARCH CONFIGURATION s.c ALTER MAPPING FOR asciiword, word WITH public.unaccent, english_stem;",
                "ALTER TEXT SEARCH CONFIGURATION s.c ADD MAPPING FOR url WITH simple;",
            ]
        );
        assert!(mappings("s.c", &to, &to).is_empty());
    }

    #[test]
    fn hostile_names_are_quoted() {
        let c = TextSearchConfiguration {
            schema: "we\"ird".into(),
            name: "c; DROP TABLE x".into(),
            parser: "default".into(),
            mappings: vec![mapping("Odd Token", &["simple"])],
            owner: "o\"wner".into(),
            comment: Some("it's".into()),
        };
        assert_eq!(
            configuration(&c),
            "CREATE TEXT SEARCH CONFIGURATION \"we\"\"ird\".\"c; DROP TABLE x\" (PARSER = default);\n\
             ALTER TEXT SEARCH CONFIGURATION \"we\"\"ird\".\"c; DROP TABLE x\" ADD MAPPING FOR \"Odd Token\" WITH simple;\n\
             ALTER TEXT SEARCH CONFIGURATION \"we\"\"ird\".\"c; DROP TABLE x\" OWNER TO \"o\"\"wner\";\n\
             COMMENT ON TEXT SEARCH CONFIGURATION \"we\"\"ird\".\"c; DROP TABLE x\" IS 'it''s';\n"
        );
    }
}
