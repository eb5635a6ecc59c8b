//! The replay benchmark's input: a deterministic history of Flyway-named
//! migrations (`V1__baseline.sql` … `V300__…sql`) that grows a schema to
//! 1,500 tables in six schemas, the way a product's schema grows: batches
//! of new tables with foreign keys to earlier ones, columns added, defaults
//! and checks changed, indexes (partial, expression, GIN), views on tables
//! and on views, materialized views, plpgsql and SQL functions, triggers,
//! enums that gain values, comments, grants, a few renames and drops, and
//! one data migration in ten (INSERT … SELECT generate_series, UPDATE).
//!
//! No randomness: a fixed-seed LCG picks the variations, and the generator
//! keeps a model of the schema so that every file applies, in order, with
//! `psql -X -v ON_ERROR_STOP=1 --single-transaction -f FILE` on
//! PostgreSQL 15 (an enum value added by a file is first used by a later
//! file; a column is dropped only when nothing depends on it).
//!
//! This module holds the driver ([`generate`]), the generator's state
//! ([`Gen`]) and its shared helpers; the static vocabulary is in `vocab`,
//! the schema model in `model`, and the migrations of each kind in the
//! other submodules.

mod alter;
mod baseline;
mod changes;
mod data;
mod functions;
mod indexes;
mod model;
mod tables;
mod views;
mod vocab;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use model::{ident, Col, ColKind, EnumTy, Func, Index, Kind, Lcg, Table, Ty, View, ViewKind};
use vocab::{PARTITIONED, SCHEMAS};

/// Number of migration files.
pub const MIGRATIONS: usize = 300;
/// Tables (plain, partitioned and partitions) after the last migration.
pub const TARGET_TABLES: usize = 1500;
/// Most foreign keys pointing at one table.
const MAX_FAN_IN: usize = 12;

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Files written.
    pub files: usize,
    /// The files, in the order they apply.
    pub paths: Vec<PathBuf>,
    /// Tables at the end (relkind r and p, partitions included).
    pub tables: usize,
    /// Views (not materialized) at the end.
    pub views: usize,
    /// Materialized views at the end.
    pub materialized_views: usize,
    /// Functions at the end.
    pub functions: usize,
    /// Indexes made by CREATE INDEX still there at the end (primary keys,
    /// unique constraints and partitions' indexes not counted).
    pub indexes: usize,
    /// SQL statements in all files.
    pub statements: usize,
    /// Files that change data (INSERT … SELECT, UPDATE, REFRESH).
    pub data_migrations: usize,
    /// Bytes written.
    pub bytes: usize,
}

/// Which kind of migration each version is (index = version).
fn schedule() -> Vec<Kind> {
    let mut rng = Lcg(0x5eed_0001);
    let mut kinds = vec![Kind::Baseline; MIGRATIONS + 1];
    for (n, kind) in kinds.iter_mut().enumerate().skip(2) {
        *kind = if n % 10 == 5 {
            Kind::Data
        } else if SCHEMAS.iter().any(|s| s.from == n) || PARTITIONED.iter().any(|p| p.0 == n) {
            Kind::Create
        } else {
            match rng.below(100) {
                0..=49 => Kind::Create,
                50..=64 => Kind::Alter,
                65..=72 => Kind::Index,
                73..=80 => Kind::View,
                81..=86 => Kind::Func,
                87..=90 => Kind::Enum,
                91..=93 => Kind::Grants,
                94..=96 => Kind::Rename,
                _ => Kind::Drop,
            }
        };
    }
    kinds
}

struct Gen {
    rng: Lcg,
    n: usize,
    sql: String,
    stmts: usize,
    tables: Vec<Table>,
    partitions: usize,
    views: Vec<View>,
    indexes: Vec<Index>,
    funcs: Vec<Func>,
    enums: Vec<EnumTy>,
    /// Per schema: relation and type names taken.
    names: Vec<HashSet<String>>,
    /// Per schema: function names taken.
    func_names: Vec<HashSet<String>>,
    live: Vec<usize>,
    partitioned_done: usize,
    default_privileges: HashSet<usize>,
    new_enums: usize,
}

/// Writes the migrations into `dir` (created if missing) and returns what
/// was written.
pub fn generate(dir: &Path) -> Stats {
    std::fs::create_dir_all(dir).expect("create migrations directory");
    let kinds = schedule();
    let mut creates_left = vec![0usize; MIGRATIONS + 2];
    for n in (1..=MIGRATIONS).rev() {
        creates_left[n] = creates_left[n + 1] + usize::from(kinds[n] == Kind::Create);
    }
    let mut g = Gen {
        rng: Lcg(0x0d41_f7a7_c4e5_0001),
        n: 0,
        sql: String::new(),
        stmts: 0,
        tables: Vec::new(),
        partitions: 0,
        views: Vec::new(),
        indexes: Vec::new(),
        funcs: Vec::new(),
        enums: Vec::new(),
        names: vec![HashSet::new(); SCHEMAS.len()],
        func_names: vec![HashSet::new(); SCHEMAS.len()],
        live: Vec::new(),
        partitioned_done: 0,
        default_privileges: HashSet::new(),
        new_enums: 0,
    };
    let mut stats = Stats::default();
    for (n, &kind) in kinds.iter().enumerate().skip(1) {
        g.n = n;
        g.sql.clear();
        g.stmts = 0;
        if kind == Kind::Baseline {
            g.roles();
        }
        let new_schema = g.new_schemas();
        let desc = match kind {
            Kind::Baseline => g.baseline(),
            Kind::Create => g.create_migration(creates_left[n], new_schema),
            Kind::Alter => g.alter_migration(),
            Kind::Index => g.index_migration(),
            Kind::View => g.view_migration(),
            Kind::Func => g.func_migration(),
            Kind::Enum => g.enum_migration(),
            Kind::Grants => g.grants_migration(),
            Kind::Rename => g.rename_migration(),
            Kind::Drop => g.drop_migration(),
            Kind::Data => {
                stats.data_migrations += 1;
                g.data_migration()
            }
        };
        let desc = match new_schema {
            Some(s) if !matches!(kind, Kind::Create | Kind::Baseline) => {
                format!("create_schema_{}_{desc}", SCHEMAS[s].name)
            }
            _ => desc,
        };
        if g.stmts == 0 {
            let t = g.rng.below(g.tables.len());
            let sql = format!("COMMENT ON TABLE {} IS 'Reviewed in V{n}.'", g.qt(t));
            g.stmt(sql);
        }
        for e in &mut g.enums {
            e.usable = e.values.len();
        }
        let desc: String = desc
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        let path = dir.join(format!("V{n}__{}.sql", desc.trim_end_matches('_')));
        let text = format!(
            "-- V{n}: {}\n-- {} statements\n\n{}",
            desc.replace('_', " "),
            g.stmts,
            g.sql
        );
        std::fs::write(&path, &text).expect("write migration");
        stats.bytes += text.len();
        stats.statements += g.stmts;
        stats.paths.push(path);
    }
    stats.files = stats.paths.len();
    stats.tables = g.table_count();
    stats.views = g
        .views
        .iter()
        .filter(|v| v.alive && v.kind != ViewKind::Materialized)
        .count();
    stats.materialized_views = g
        .views
        .iter()
        .filter(|v| v.alive && v.kind == ViewKind::Materialized)
        .count();
    stats.functions = g.funcs.iter().filter(|f| f.alive).count();
    stats.indexes = g.indexes.iter().filter(|i| i.alive).count();
    stats
}

impl Gen {
    fn stmt(&mut self, text: String) {
        self.sql.push_str(&text);
        self.sql.push_str(";\n");
        self.stmts += 1;
    }

    fn blank(&mut self) {
        self.sql.push('\n');
    }

    fn table_count(&self) -> usize {
        self.tables.len() + self.partitions
    }

    fn sname(&self, s: usize) -> &'static str {
        SCHEMAS[s].name
    }

    fn qt(&self, t: usize) -> String {
        format!(
            "{}.{}",
            self.sname(self.tables[t].schema),
            self.tables[t].name
        )
    }

    fn qv(&self, v: usize) -> String {
        format!(
            "{}.{}",
            self.sname(self.views[v].schema),
            self.views[v].name
        )
    }

    fn qe(&self, e: usize) -> String {
        format!(
            "{}.{}",
            self.sname(self.enums[e].schema),
            self.enums[e].name
        )
    }

    fn free_name(&self, s: usize, name: &str) -> bool {
        !self.names[s].contains(name)
    }

    /// A relation or type name free in schema `s`, taken.
    fn claim(&mut self, s: usize, base: &str) -> String {
        let mut name = ident(base);
        let mut k = 2;
        while !self.free_name(s, &name) {
            let suffix = format!("_{k}");
            name = format!(
                "{}{suffix}",
                ident(&base[..base.len().min(63 - suffix.len())])
            );
            k += 1;
        }
        self.names[s].insert(name.clone());
        name
    }

    /// A table name whose own name and serial, primary-key and unique
    /// names are all free, taken with them.
    fn claim_table(&mut self, s: usize, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 2;
        loop {
            let derived = [
                name.clone(),
                format!("{name}_pkey"),
                format!("{name}_id_seq"),
                format!("{name}_code_key"),
            ];
            if derived.iter().all(|d| self.free_name(s, d)) {
                for d in derived {
                    self.names[s].insert(d);
                }
                return name;
            }
            name = format!("{base}_{k}");
            k += 1;
        }
    }

    fn claim_func(&mut self, s: usize, base: &str) -> String {
        let mut name = ident(base);
        let mut k = 2;
        while self.func_names[s].contains(&name) {
            name = ident(&format!("{base}_{k}"));
            k += 1;
        }
        self.func_names[s].insert(name.clone());
        name
    }

    /// A constraint or trigger name free on table `t`, taken.
    fn claim_cons(&mut self, t: usize, base: &str) -> String {
        let mut name = ident(base);
        let mut k = 2;
        while self.tables[t].cons.contains(&name) {
            name = ident(&format!("{base}_{k}"));
            k += 1;
        }
        self.tables[t].cons.insert(name.clone());
        name
    }

    fn schema_enum(&self, s: usize) -> usize {
        self.enums
            .iter()
            .position(|e| e.schema == s)
            .expect("every schema has an enum")
    }

    fn col_sql_type(&self, ty: Ty) -> String {
        match ty {
            Ty::Text => "text".into(),
            Ty::Int => "integer".into(),
            Ty::Numeric => "numeric(12,2)".into(),
            Ty::Bool => "boolean".into(),
            Ty::Ts => "timestamptz".into(),
            Ty::Jsonb => "jsonb".into(),
            Ty::Email => "core.email_address".into(),
            Ty::Enum(e) => self.qe(e),
            Ty::Ref(_) => "bigint".into(),
        }
    }

    fn ty_of(&self, kind: ColKind, s: usize) -> Ty {
        match kind {
            ColKind::Text => Ty::Text,
            ColKind::Int => Ty::Int,
            ColKind::Numeric => Ty::Numeric,
            ColKind::Bool => Ty::Bool,
            ColKind::Ts => Ty::Ts,
            ColKind::Jsonb => Ty::Jsonb,
            ColKind::Email => Ty::Email,
            ColKind::Enum => Ty::Enum(self.schema_enum(s)),
        }
    }

    /// A table for which `ok` holds, recent ones more likely; None if none.
    fn pick_table(&mut self, ok: impl Fn(&Table) -> bool) -> Option<usize> {
        let len = self.tables.len();
        if len == 0 {
            return None;
        }
        for _ in 0..40 {
            let t = if self.rng.chance(50) {
                len - 1 - self.rng.below(len.min(150))
            } else {
                self.rng.below(len)
            };
            if ok(&self.tables[t]) {
                return Some(t);
            }
        }
        let start = self.rng.below(len);
        (0..len)
            .map(|i| (start + i) % len)
            .find(|&t| ok(&self.tables[t]))
    }

    /// A table that may take one more foreign key, not in `exclude`.
    fn pick_parent(&mut self, exclude: &[usize]) -> Option<usize> {
        let len = self.tables.len();
        if len == 0 {
            return None;
        }
        for _ in 0..16 {
            let p = if self.rng.chance(60) {
                len - 1 - self.rng.below(len.min(80))
            } else {
                self.rng.below(len)
            };
            let tp = &self.tables[p];
            if tp.partitioned || tp.pinned || tp.fan_in >= MAX_FAN_IN || exclude.contains(&p) {
                continue;
            }
            return Some(p);
        }
        None
    }

    fn pick_col(&mut self, t: usize, ok: impl Fn(&Col) -> bool) -> Option<usize> {
        let cols: Vec<usize> = (0..self.tables[t].cols.len())
            .filter(|&c| ok(&self.tables[t].cols[c]))
            .collect();
        if cols.is_empty() {
            None
        } else {
            Some(cols[self.rng.below(cols.len())])
        }
    }

    fn unique_col_name(table: &Table, base: &str) -> String {
        let mut name = ident(base);
        let mut k = 2;
        while table.has(&name) {
            name = ident(&format!("{base}_{k}"));
            k += 1;
        }
        name
    }
}
