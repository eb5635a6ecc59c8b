//! Text search configurations: created before the tables, indexes and
//! functions that may name them (`'cfg'::regconfig` is a dependency), their
//! mappings altered in place, dropped and created again when the parser
//! changes (ALTER cannot change it), dropped once what named them is gone.
//! Dictionaries: created before the configurations that map to them,
//! their options altered in place, dropped and created again when the
//! template changes, dropped after the configurations.

use super::pair::pair;
use super::privileges::{comment, owner};
use super::{Out, Phase};
use crate::ddl::text_search::{
    alter_dictionary, create_configuration, create_dictionary, drop_configuration, drop_dictionary,
    mappings, name,
};
use crate::model::qualified;
use crate::model::Objects;

/// Plans every text search dictionary and configuration.
pub(super) fn plan(from: &Objects, to: &Objects, out: &mut Out) {
    dictionaries(from, to, out);
    configurations(from, to, out);
}

fn dictionaries(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.text_search_dictionaries, &to.text_search_dictionaries);
    for (k, d) in &a {
        if b.get(k).map_or(true, |n| n.template != d.template) {
            out.push(Phase::DropTextSearchDictionaries, drop_dictionary(d), &[]);
        }
    }
    for (k, d) in &b {
        // A dictionary on another template is a new one.
        let old = a.get(k).filter(|o| o.template == d.template);
        match old {
            None => out.push(Phase::TextSearchDictionaries, create_dictionary(d), &[]),
            Some(o) => {
                if let Some(sql) = alter_dictionary(d, &o.options, &d.options) {
                    out.push(Phase::TextSearchDictionaries, sql, &[]);
                }
            }
        }
        let name = qualified(&d.schema, &d.name);
        let what = "TEXT SEARCH DICTIONARY";
        owner(out, what, &name, old.map(|o| o.owner.as_str()), &d.owner);
        comment(
            out,
            what,
            &name,
            old.and_then(|o| o.comment.as_ref()),
            d.comment.as_ref(),
        );
    }
}

fn configurations(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(
        &from.text_search_configurations,
        &to.text_search_configurations,
    );
    for (k, c) in &a {
        if b.get(k).map_or(true, |n| n.parser != c.parser) {
            out.push(Phase::DropTextSearch, drop_configuration(c), &[]);
        }
    }
    for (k, c) in &b {
        let name = name(c);
        // A configuration on another parser is a new one.
        let old = a.get(k).filter(|o| o.parser == c.parser);
        if old.is_none() {
            out.push(Phase::TextSearch, create_configuration(c), &[]);
        }
        let before = old.map_or(&[][..], |o| o.mappings.as_slice());
        for statement in mappings(&name, before, &c.mappings) {
            out.push(Phase::TextSearch, statement, &[]);
        }
        let what = "TEXT SEARCH CONFIGURATION";
        owner(out, what, &name, old.map(|o| o.owner.as_str()), &c.owner);
        comment(
            out,
            what,
            &name,
            old.and_then(|o| o.comment.as_ref()),
            c.comment.as_ref(),
        );
    }
}
