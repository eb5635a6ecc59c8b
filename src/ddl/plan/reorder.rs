//! Column order. ALTER TABLE only appends columns, so a column added in
//! the middle, or one re-created, leaves the table in another order than
//! the target. With `--reorder-columns`, the columns from the first
//! misplaced one on are moved to the end in the target's order: a copy is
//! added, filled by an UPDATE (every row is rewritten), the original
//! dropped and the copy renamed; the constraints, indexes, triggers and
//! policies that name a moved column are dropped and created again, and
//! the views that read the table re-created. An identity column gets its
//! identity back with the sequence set past the highest value. Without the option the order
//! is left as it is, with a warning.

use crate::model::{Column, Table};

/// What moving columns of one table takes.
pub(crate) struct Reorder {
    /// The target's columns from the first misplaced one on, in order.
    pub tail: Vec<String>,
}

/// The column order `a`'s columns end in after the plan's ALTERs: the
/// kept ones in `a`'s order, then those added (and re-added) in `b`'s.
fn predicted(a: &Table, b: &Table, readded: &[String]) -> Vec<String> {
    let mut order: Vec<String> = a
        .columns
        .iter()
        .filter(|c| b.columns.iter().any(|n| n.name == c.name) && !readded.contains(&c.name))
        .map(|c| c.name.clone())
        .collect();
    for n in &b.columns {
        if !order.contains(&n.name) {
            order.push(n.name.clone());
        }
    }
    order
}

/// The move `a` → `b` needs, if any: None when the order comes out right
/// (or the table inherits columns, whose order its parents decide).
pub(crate) fn reorder(a: &Table, b: &Table, readded: &[String]) -> Option<Reorder> {
    let target: Vec<String> = b.columns.iter().map(|c| c.name.clone()).collect();
    let got = predicted(a, b, readded);
    if got == target || b.columns.iter().any(|c| c.inherited) {
        return None;
    }
    let p = got.iter().zip(&target).take_while(|(x, y)| x == y).count();
    Some(Reorder {
        tail: target[p..].to_vec(),
    })
}

/// True when `text` names `column` as an identifier (a whole word, quoted
/// or not).
pub(crate) fn mentions(text: &str, column: &str) -> bool {
    let quoted = format!("\"{}\"", column.replace('"', "\"\""));
    if text.contains(&quoted) {
        return true;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(column).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + column.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

impl Reorder {
    /// True when `column` moves, and anything naming it is re-created.
    pub(crate) fn moves(&self, column: &str) -> bool {
        self.tail.iter().any(|c| c == column)
    }

    /// True when any moved column appears in `texts`.
    pub(crate) fn touches<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> bool {
        let texts: Vec<&str> = texts.into_iter().collect();
        self.tail
            .iter()
            .any(|c| texts.iter().any(|t| mentions(t, c)))
    }
}

/// The temporary name of a moved column's copy.
pub(crate) fn temporary(column: &Column) -> String {
    format!("{}__driftwatch_moved", column.name)
}
