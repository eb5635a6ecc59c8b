//! The generator's model of the schema (tables, columns, views, indexes,
//! functions, enums), the migration kinds, the LCG and name helpers.

use std::collections::HashSet;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ColKind {
    Text,
    Int,
    Numeric,
    Bool,
    Ts,
    Jsonb,
    Email,
    Enum,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Ty {
    Text,
    Int,
    Numeric,
    Bool,
    Ts,
    Jsonb,
    Email,
    Enum(usize),
    Ref(usize),
}

pub(super) struct Col {
    pub(super) name: String,
    pub(super) ty: Ty,
    /// Something depends on it (index, view, check, generated column,
    /// foreign key): never dropped or retyped.
    pub(super) used: bool,
    /// A trigger function reads it by name: never renamed.
    pub(super) pinned: bool,
    pub(super) generated: bool,
    /// Added by ALTER TABLE (candidates for DROP COLUMN).
    pub(super) free: bool,
    /// Added with a default that filled existing rows, still nullable.
    pub(super) filled: bool,
    pub(super) widened: bool,
}

impl Col {
    pub(super) fn new(name: &str, ty: Ty) -> Col {
        Col {
            name: name.to_string(),
            ty,
            used: false,
            pinned: false,
            generated: false,
            free: false,
            filled: false,
            widened: false,
        }
    }
}

pub(super) struct Table {
    pub(super) schema: usize,
    pub(super) name: String,
    pub(super) cols: Vec<Col>,
    pub(super) rows: usize,
    pub(super) partitioned: bool,
    /// Not renamed, not a foreign-key parent (audit.change_log).
    pub(super) pinned: bool,
    pub(super) renamed: bool,
    pub(super) fan_in: usize,
    pub(super) touch: bool,
    pub(super) audit: bool,
    pub(super) unique_code: bool,
    /// Constraint and trigger names on this table.
    pub(super) cons: HashSet<String>,
    pub(super) born: usize,
}

impl Table {
    /// A new table with no rows, nothing pointing at it, and no flags set.
    pub(super) fn new(schema: usize, name: String, cols: Vec<Col>, born: usize) -> Table {
        Table {
            schema,
            name,
            cols,
            rows: 0,
            partitioned: false,
            pinned: false,
            renamed: false,
            fan_in: 0,
            touch: false,
            audit: false,
            unique_code: false,
            cons: HashSet::new(),
            born,
        }
    }

    pub(super) fn col(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|c| c.name == name)
    }
    pub(super) fn has(&self, name: &str) -> bool {
        self.col(name).is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ViewKind {
    Simple,
    Join,
    OnView,
    Agg,
    Materialized,
}

pub(super) struct View {
    pub(super) schema: usize,
    pub(super) name: String,
    pub(super) kind: ViewKind,
    pub(super) table: usize,
    pub(super) base_view: Option<usize>,
    pub(super) cols: Vec<&'static str>,
    pub(super) dependents: usize,
    pub(super) alive: bool,
}

pub(super) struct Index {
    pub(super) schema: usize,
    pub(super) name: String,
    pub(super) alive: bool,
    /// Later files may rename or drop it.
    pub(super) droppable: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FuncKind {
    Fixed,
    Lookup,
    CountSince,
    Atomic,
}

pub(super) struct Func {
    pub(super) schema: usize,
    pub(super) name: String,
    pub(super) kind: FuncKind,
    pub(super) table: usize,
    pub(super) alive: bool,
}

pub(super) struct EnumTy {
    pub(super) schema: usize,
    pub(super) name: String,
    pub(super) values: Vec<String>,
    /// values[..usable] are committed: a file may use them.
    pub(super) usable: usize,
    pub(super) spare: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Baseline,
    Create,
    Alter,
    Index,
    View,
    Func,
    Enum,
    Grants,
    Rename,
    Drop,
    Data,
}

/// A 64-bit LCG (Knuth's MMIX constants), fixed seed.
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An identifier as PostgreSQL keeps it: at most 63 bytes.
pub(super) fn ident(s: &str) -> String {
    s.chars().take(63).collect()
}

pub(super) fn singular(noun: &str) -> String {
    if let Some(stem) = noun.strip_suffix("ies") {
        format!("{stem}y")
    } else if noun.ends_with("sses")
        || noun.ends_with("xes")
        || noun.ends_with("ches")
        || noun.ends_with("shes")
    {
        noun[..noun.len() - 2].to_string()
    } else if noun.ends_with('s') && !noun.ends_with("ss") {
        noun[..noun.len() - 1].to_string()
    } else {
        noun.to_string()
    }
}
