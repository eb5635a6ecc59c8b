//! Schemas, extensions, collations, sequences and extended statistics;
//! the entry point for types (`types.rs`) and functions (`functions.rs`).

use super::deps::rel;
use super::pair::pair;
use super::privileges::{acl, comment, literal, owner};
use super::{Hazard, Out, Phase};
use crate::model::{qualified, quote_ident, Collation, Objects, Sequence};
use std::collections::BTreeSet;

/// Plans the kinds other than tables and views; adds to `forced` the
/// relations and functions (`fn:schema.name`) whose readers must be
/// re-created.
pub(super) fn plan(from: &Objects, to: &Objects, forced: &mut BTreeSet<String>, out: &mut Out) {
    schemas_and_extensions(from, to, out);
    super::types::types(from, to, forced, out);
    sequences(from, to, out);
    super::functions::functions(from, to, forced, out);
    statistics(from, to, out);
}

fn schemas_and_extensions(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.extensions, &to.extensions);
    for (k, e) in &a {
        if !b.contains_key(k) {
            out.push(
                Phase::DropSchemas,
                format!("DROP EXTENSION {};", quote_ident(&e.name)),
                &[Hazard::DeletesData],
            );
        }
    }
    for (k, e) in &b {
        match a.get(k) {
            None => out.push(
                Phase::Extensions,
                crate::ddl::create_extension(e, true),
                &[],
            ),
            Some(old) => {
                if old.schema != e.schema {
                    out.push(
                        Phase::Extensions,
                        format!(
                            "ALTER EXTENSION {} SET SCHEMA {};",
                            quote_ident(&e.name),
                            quote_ident(&e.schema)
                        ),
                        &[],
                    );
                }
                if old.version != e.version {
                    out.push(
                        Phase::Extensions,
                        format!(
                            "ALTER EXTENSION {} UPDATE TO {};",
                            quote_ident(&e.name),
                            literal(&e.version)
                        ),
                        &[Hazard::UpgradesExtension],
                    );
                }
            }
        }
    }
    let (a, b) = pair(&from.schemas, &to.schemas);
    for (k, s) in &a {
        if !b.contains_key(k) {
            out.push(
                Phase::DropSchemas,
                format!("DROP SCHEMA {};", quote_ident(&s.name)),
                &[Hazard::DeletesData],
            );
        }
    }
    for (k, s) in &b {
        let name = quote_ident(&s.name);
        let old = a.get(k);
        if old.is_none() {
            out.push(
                Phase::Schemas,
                crate::ddl::create_schema(&s.name, None),
                &[],
            );
        }
        owner(
            out,
            "SCHEMA",
            &name,
            old.map(|o| o.owner.as_str()),
            &s.owner,
        );
        comment(
            out,
            "SCHEMA",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            s.comment.as_ref(),
        );
        acl(
            out,
            "SCHEMA",
            &name,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &s.acl,
            &s.owner,
        );
    }
    let (a, b) = pair(&from.collations, &to.collations);
    // Alike but for owner and comment: those change in place (dropping a
    // collation a column uses fails).
    let same = |x: &Collation, y: &Collation| {
        let bare = |c: &Collation| Collation {
            owner: String::new(),
            comment: None,
            ..c.clone()
        };
        bare(x) == bare(y)
    };
    for (k, c) in &a {
        if !b.get(k).is_some_and(|n| same(c, n)) {
            // A removed collation goes once no column uses it; a changed
            // one before its new definition takes the name.
            out.push(
                if b.contains_key(k) {
                    Phase::DropTypes
                } else {
                    Phase::LateDropCollations
                },
                format!("DROP COLLATION {};", qualified(&c.schema, &c.name)),
                &[],
            );
        }
    }
    for (k, c) in &b {
        let name = qualified(&c.schema, &c.name);
        if let Some(o) = a.get(k).filter(|o| same(o, c)) {
            owner(out, "COLLATION", &name, Some(&o.owner), &c.owner);
            comment(
                out,
                "COLLATION",
                &name,
                o.comment.as_ref(),
                c.comment.as_ref(),
            );
            continue;
        }
        let mut parts = vec![format!("provider = {}", c.provider)];
        if let Some(l) = &c.icu_locale {
            parts.push(format!("locale = {}", literal(l)));
        }
        if let Some(l) = &c.builtin_locale {
            parts.push(format!("locale = {}", literal(l)));
        }
        if let Some(l) = &c.lc_collate {
            parts.push(format!("lc_collate = {}", literal(l)));
        }
        if let Some(l) = &c.lc_ctype {
            parts.push(format!("lc_ctype = {}", literal(l)));
        }
        if let Some(r) = &c.icu_rules {
            parts.push(format!("rules = {}", literal(r)));
        }
        if !c.deterministic {
            parts.push("deterministic = false".into());
        }
        out.push(
            Phase::Schemas,
            format!("CREATE COLLATION {name} ({});", parts.join(", ")),
            &[],
        );
        owner(out, "COLLATION", &name, None, &c.owner);
        comment(out, "COLLATION", &name, None, c.comment.as_ref());
    }
}

fn sequences(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.sequences, &to.sequences);
    let column_survives = |owned: &str| {
        let Some(o) = OwnerColumn::parse(owned) else {
            return false;
        };
        to.tables.iter().any(|t| {
            t.schema == o.schema
                && t.name == o.table
                && t.columns.iter().any(|c| c.name == o.column)
        })
    };
    for (k, s) in &a {
        if b.contains_key(k) {
            continue;
        }
        // A serial's sequence goes with its column.
        if s.owned_by.as_deref().is_some_and(|o| !column_survives(o)) {
            continue;
        }
        out.push(
            Phase::DropSequences,
            format!("DROP SEQUENCE {};", qualified(&s.schema, &s.name)),
            &[],
        );
    }
    for (k, s) in &b {
        let name = qualified(&s.schema, &s.name);
        let old = a.get(k);
        match old {
            None => {
                out.push(Phase::Sequences, create_sequence(s), &[]);
            }
            Some(o) => {
                let (x, y) = (&o.options, &s.options);
                let mut parts = Vec::new();
                if x.data_type != y.data_type {
                    parts.push(format!("AS {}", y.data_type));
                }
                if x.increment != y.increment {
                    parts.push(format!("INCREMENT BY {}", y.increment));
                }
                if x.min != y.min {
                    parts.push(format!("MINVALUE {}", y.min));
                }
                if x.max != y.max {
                    parts.push(format!("MAXVALUE {}", y.max));
                }
                if x.start != y.start {
                    parts.push(format!("START WITH {}", y.start));
                }
                if x.cache != y.cache {
                    parts.push(format!("CACHE {}", y.cache));
                }
                if x.cycle != y.cycle {
                    parts.push(if y.cycle { "CYCLE" } else { "NO CYCLE" }.into());
                }
                // Tighter bounds refuse a current value outside them, as
                // for an identity column's sequence.
                let tighter = y.min > x.min || y.max < x.max;
                if !parts.is_empty() {
                    out.push(
                        Phase::Sequences,
                        format!("ALTER SEQUENCE {name} {};", parts.join(" ")),
                        if tighter { &[Hazard::MayFail] } else { &[] },
                    );
                }
            }
        }
        // A sequence owned by a column follows its table's owner (ALTER
        // TABLE … OWNER TO moves it; ALTER SEQUENCE … OWNER TO is refused).
        if s.owned_by.is_none() {
            owner(
                out,
                "SEQUENCE",
                &name,
                old.map(|o| o.owner.as_str()),
                &s.owner,
            );
        }
        comment(
            out,
            "SEQUENCE",
            &name,
            old.and_then(|o| o.comment.as_ref()),
            s.comment.as_ref(),
        );
        acl(
            out,
            "SEQUENCE",
            &name,
            None,
            old.map(|o| o.acl.as_slice()).unwrap_or(&[]),
            &s.acl,
            &s.owner,
        );
    }
}

/// The column a sequence is OWNED BY, read back from the snapshot's
/// `schema.table.column` (each part quoted as needed), so that the SQL
/// names it through the quoting helpers and never pastes the text.
#[derive(Debug, PartialEq)]
pub(crate) struct OwnerColumn {
    pub schema: String,
    pub table: String,
    pub column: String,
}

impl OwnerColumn {
    /// Three identifiers separated by dots, each either quoted (`""` for a
    /// quote inside) or plain; None for anything else.
    pub(crate) fn parse(text: &str) -> Option<OwnerColumn> {
        let mut parts = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            let mut part = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next()? {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            part.push('"');
                        }
                        '"' => break,
                        c => part.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '$' {
                        part.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if part.is_empty() {
                    return None;
                }
            }
            parts.push(part);
            match chars.next() {
                None => break,
                Some('.') => continue,
                Some(_) => return None,
            }
        }
        let [schema, table, column]: [String; 3] = parts.try_into().ok()?;
        Some(OwnerColumn {
            schema,
            table,
            column,
        })
    }

    /// `schema.table.column`, quoted for SQL.
    pub(crate) fn sql(&self) -> String {
        format!(
            "{}.{}",
            qualified(&self.schema, &self.table),
            quote_ident(&self.column)
        )
    }
}

/// OWNED BY of the sequences that stay or are created. A sequence that
/// stays lets go of its old column first whenever that column changes or
/// the plan drops it (with its table, or to add it again): a DROP COLUMN
/// would drop the sequence with it. It takes its new column once that
/// column exists.
pub(super) fn sequence_owners(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.sequences, &to.sequences);
    for (k, s) in &b {
        let name = qualified(&s.schema, &s.name);
        let old = a.get(k).and_then(|o| o.owned_by.as_deref());
        let new = s.owned_by.as_deref();
        let parse = |text: Option<&str>, out: &mut Out| {
            let text = text?;
            let parsed = OwnerColumn::parse(text);
            if parsed.is_none() {
                out.unsupported(
                    Phase::SequenceOwners,
                    format!("sequence {name}: OWNED BY a column named in an unexpected form"),
                );
            }
            parsed
        };
        let (old_owner, new_owner) = (parse(old, out), parse(new, out));
        if old.is_some() && old_owner.is_none() || new.is_some() && new_owner.is_none() {
            continue;
        }
        let detach = old_owner.as_ref().is_some_and(|o| {
            Some(o) != new_owner.as_ref()
                || out
                    .dropped_columns
                    .contains(&(rel(&o.schema, &o.table), o.column.clone()))
        });
        if detach {
            out.push(
                Phase::DetachSequences,
                format!("ALTER SEQUENCE {name} OWNED BY NONE;"),
                &[],
            );
        }
        if let Some(n) = new_owner {
            if detach || old_owner.is_none() {
                out.push(
                    Phase::SequenceOwners,
                    format!("ALTER SEQUENCE {name} OWNED BY {};", n.sql()),
                    &[],
                );
            }
        }
    }
}

fn create_sequence(s: &Sequence) -> String {
    let o = &s.options;
    format!(
        "CREATE {}SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{};",
        if s.unlogged { "UNLOGGED " } else { "" },
        qualified(&s.schema, &s.name),
        o.data_type,
        o.increment,
        o.min,
        o.max,
        o.start,
        o.cache,
        if o.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

fn statistics(from: &Objects, to: &Objects, out: &mut Out) {
    let (a, b) = pair(&from.statistics, &to.statistics);
    for (k, s) in &a {
        if b.get(k) != Some(s) {
            out.push(
                Phase::DropConstraints,
                format!("DROP STATISTICS {};", qualified(&s.schema, &s.name)),
                &[],
            );
        }
    }
    for (k, s) in &b {
        if a.get(k) == Some(s) {
            continue;
        }
        let name = qualified(&s.schema, &s.name);
        let kinds = if s.kinds.is_empty() || s.kinds == ["expressions"] {
            String::new()
        } else {
            format!(
                " ({})",
                s.kinds
                    .iter()
                    .filter(|k| *k != "expressions")
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(
            Phase::Others,
            format!(
                "CREATE STATISTICS {name}{kinds} ON {} FROM {};",
                s.keys.join(", "),
                s.table
            ),
            &[],
        );
        if let Some(t) = s.target {
            out.push(
                Phase::Others,
                format!("ALTER STATISTICS {name} SET STATISTICS {t};"),
                &[],
            );
        }
        comment(out, "STATISTICS", &name, None, s.comment.as_ref());
    }
}
