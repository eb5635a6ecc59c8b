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

use std::collections::HashSet;
use std::path::{Path, PathBuf};

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

struct SchemaDef {
    name: &'static str,
    /// Version of the migration that creates the schema.
    from: usize,
    /// Weight when a migration picks a schema for new tables.
    weight: usize,
    nouns: &'static [&'static str],
    enum_name: &'static str,
    values: &'static [&'static str],
    spare: &'static [&'static str],
}

static SCHEMAS: [SchemaDef; 6] = [
    SchemaDef {
        name: "core",
        from: 1,
        weight: 3,
        nouns: &[
            "users",
            "accounts",
            "organizations",
            "teams",
            "memberships",
            "settings",
            "api_keys",
            "sessions",
            "addresses",
            "locales",
            "feature_flags",
            "notifications",
            "roles",
            "permissions",
            "invitations",
            "devices",
        ],
        enum_name: "user_status",
        values: &["invited", "active", "suspended"],
        spare: &["locked", "deleted", "pending_review"],
    },
    SchemaDef {
        name: "audit",
        from: 1,
        weight: 1,
        nouns: &[
            "access_logs",
            "login_events",
            "data_requests",
            "retention_rules",
            "exports",
            "consents",
            "reviews",
            "alerts",
        ],
        enum_name: "op_kind",
        values: &["insert", "update", "delete"],
        spare: &["truncate", "merge"],
    },
    SchemaDef {
        name: "billing",
        from: 8,
        weight: 3,
        nouns: &[
            "invoices",
            "payments",
            "refunds",
            "subscriptions",
            "plans",
            "coupons",
            "tax_rates",
            "credit_notes",
            "payouts",
            "ledgers",
            "price_books",
            "charges",
            "disputes",
            "wallets",
            "receipts",
            "quotes",
        ],
        enum_name: "invoice_status",
        values: &["draft", "open", "paid", "void"],
        spare: &["uncollectible", "refunded", "partially_paid"],
    },
    SchemaDef {
        name: "inventory",
        from: 24,
        weight: 3,
        nouns: &[
            "products",
            "variants",
            "warehouses",
            "stock_levels",
            "shipments",
            "suppliers",
            "purchase_orders",
            "bins",
            "lots",
            "transfers",
            "categories",
            "skus",
            "carriers",
            "returns",
            "pallets",
            "counts",
        ],
        enum_name: "stock_state",
        values: &["in_stock", "reserved", "shipped"],
        spare: &["damaged", "returned", "lost"],
    },
    SchemaDef {
        name: "crm",
        from: 48,
        weight: 3,
        nouns: &[
            "contacts",
            "leads",
            "deals",
            "activities",
            "campaigns",
            "segments",
            "tickets",
            "pipelines",
            "stages",
            "emails",
            "calls",
            "meetings",
            "companies",
            "surveys",
            "tasks",
            "playbooks",
        ],
        enum_name: "deal_stage",
        values: &["lead", "qualified", "won", "lost"],
        spare: &["negotiation", "on_hold", "churned"],
    },
    SchemaDef {
        name: "analytics",
        from: 86,
        weight: 2,
        nouns: &[
            "daily_rollups",
            "funnels",
            "cohorts",
            "page_views",
            "metrics",
            "dashboards",
            "reports",
            "kpis",
            "snapshots",
            "experiments",
            "goals",
            "attributions",
        ],
        enum_name: "period_kind",
        values: &["day", "week", "month"],
        spare: &["quarter", "year"],
    },
];

const QUALIFIERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "history",
    "items",
    "links",
    "tags",
    "settings",
    "stats",
    "events",
    "rules",
    "versions",
    "imports",
    "overrides",
    "limits",
    "mappings",
    "templates",
    "requests",
    "approvals",
    "archive",
    "queue",
    "notes",
    "attachments",
    "exports",
    "schedules",
];

/// Partitioned tables: (first version, schema index, name).
const PARTITIONED: [(usize, usize, &str); 3] = [
    (40, 1, "request_log"),
    (130, 5, "page_events"),
    (210, 0, "job_runs"),
];

/// Enums that later migrations introduce: (name, values).
const NEW_ENUMS: &[(&str, &[&str])] = &[
    ("priority_level", &["low", "normal", "high", "urgent"]),
    ("channel_kind", &["email", "sms", "push", "web"]),
    ("approval_state", &["requested", "approved", "rejected"]),
    ("sync_state", &["pending", "running", "failed", "synced"]),
    ("visibility", &["private", "team", "public"]),
    ("risk_level", &["low", "medium", "high"]),
    ("source_kind", &["manual", "import", "api", "integration"]),
    ("billing_cycle", &["monthly", "quarterly", "yearly"]),
];

/// Columns a new table may get besides id, foreign keys, code, created_at.
const BASE_COLS: &[(&str, ColKind, &str)] = &[
    ("name", ColKind::Text, ""),
    ("title", ColKind::Text, "NOT NULL DEFAULT ''"),
    ("description", ColKind::Text, ""),
    ("qty", ColKind::Int, "NOT NULL DEFAULT 0"),
    ("position", ColKind::Int, ""),
    ("amount", ColKind::Numeric, "CHECK (amount >= 0)"),
    ("price", ColKind::Numeric, "NOT NULL DEFAULT 0"),
    ("is_active", ColKind::Bool, "NOT NULL DEFAULT true"),
    ("payload", ColKind::Jsonb, "NOT NULL DEFAULT '{}'"),
    ("metadata", ColKind::Jsonb, ""),
    ("updated_at", ColKind::Ts, ""),
    ("expires_at", ColKind::Ts, ""),
    ("status", ColKind::Enum, ""),
    ("email", ColKind::Email, ""),
];

/// Columns ALTER TABLE … ADD COLUMN adds: (name, kind, clause, fills old rows).
const FREE_COLS: &[(&str, ColKind, &str, bool)] = &[
    ("external_ref", ColKind::Text, "", false),
    ("archived_at", ColKind::Ts, "", false),
    ("sort_order", ColKind::Int, "NOT NULL DEFAULT 0", false),
    ("discount", ColKind::Numeric, "DEFAULT 0", true),
    ("is_deleted", ColKind::Bool, "NOT NULL DEFAULT false", false),
    ("extra", ColKind::Jsonb, "", false),
    ("locale", ColKind::Text, "DEFAULT 'en'", true),
    ("version", ColKind::Int, "NOT NULL DEFAULT 1", false),
    ("source", ColKind::Text, "", false),
    ("score", ColKind::Numeric, "", false),
    ("deleted_at", ColKind::Ts, "", false),
    ("tags", ColKind::Jsonb, "NOT NULL DEFAULT '[]'", false),
    ("priority", ColKind::Int, "", false),
    ("reference_code", ColKind::Text, "", false),
    ("notes", ColKind::Text, "", false),
    ("verified", ColKind::Bool, "DEFAULT false", true),
    ("contact_email", ColKind::Email, "", false),
    ("category", ColKind::Enum, "", false),
    ("retries", ColKind::Int, "DEFAULT 0", true),
];

/// RENAME COLUMN pairs.
const RENAMES: &[(&str, &str)] = &[
    ("name", "display_name"),
    ("title", "heading"),
    ("description", "details"),
    ("qty", "quantity"),
    ("position", "sort_position"),
    ("price", "unit_price"),
    ("payload", "data"),
    ("metadata", "meta"),
    ("expires_at", "valid_until"),
    ("external_ref", "external_id"),
    ("notes", "remarks"),
    ("source", "origin"),
    ("score", "rating"),
    ("priority", "urgency"),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ColKind {
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
enum Ty {
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

struct Col {
    name: String,
    ty: Ty,
    /// Something depends on it (index, view, check, generated column,
    /// foreign key): never dropped or retyped.
    used: bool,
    /// A trigger function reads it by name: never renamed.
    pinned: bool,
    generated: bool,
    /// Added by ALTER TABLE (candidates for DROP COLUMN).
    free: bool,
    /// Added with a default that filled existing rows, still nullable.
    filled: bool,
    widened: bool,
}

impl Col {
    fn new(name: &str, ty: Ty) -> Col {
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

struct Table {
    schema: usize,
    name: String,
    cols: Vec<Col>,
    rows: usize,
    partitioned: bool,
    /// Not renamed, not a foreign-key parent (audit.change_log).
    pinned: bool,
    renamed: bool,
    fan_in: usize,
    touch: bool,
    audit: bool,
    unique_code: bool,
    /// Constraint and trigger names on this table.
    cons: HashSet<String>,
    born: usize,
}

impl Table {
    fn col(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|c| c.name == name)
    }
    fn has(&self, name: &str) -> bool {
        self.col(name).is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ViewKind {
    Simple,
    Join,
    OnView,
    Agg,
    Materialized,
}

struct View {
    schema: usize,
    name: String,
    kind: ViewKind,
    table: usize,
    base_view: Option<usize>,
    cols: Vec<&'static str>,
    dependents: usize,
    alive: bool,
}

struct Index {
    schema: usize,
    name: String,
    alive: bool,
    /// Later files may rename or drop it.
    droppable: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FuncKind {
    Fixed,
    Lookup,
    CountSince,
    Atomic,
}

struct Func {
    schema: usize,
    name: String,
    kind: FuncKind,
    table: usize,
    alive: bool,
}

struct EnumTy {
    schema: usize,
    name: String,
    values: Vec<String>,
    /// values[..usable] are committed: a file may use them.
    usable: usize,
    spare: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
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
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An identifier as PostgreSQL keeps it: at most 63 bytes.
fn ident(s: &str) -> String {
    s.chars().take(63).collect()
}

fn singular(noun: &str) -> String {
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

    /// CREATE SCHEMA (with its enum) for schemas that start at this version.
    fn new_schemas(&mut self) -> Option<usize> {
        let mut first = None;
        for (s, def) in SCHEMAS.iter().enumerate() {
            if def.from != self.n {
                continue;
            }
            first.get_or_insert(s);
            self.live.push(s);
            self.stmt(format!("CREATE SCHEMA {}", def.name));
            self.stmt(format!(
                "GRANT USAGE ON SCHEMA {} TO dw_reader, dw_writer",
                def.name
            ));
            let name = self.claim(s, def.enum_name);
            let values: Vec<String> = def.values.iter().map(|v| v.to_string()).collect();
            let list = values
                .iter()
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(", ");
            self.stmt(format!("CREATE TYPE {}.{name} AS ENUM ({list})", def.name));
            self.enums.push(EnumTy {
                schema: s,
                name,
                usable: values.len(),
                values,
                spare: def.spare.iter().map(|v| v.to_string()).collect(),
            });
            self.blank();
        }
        first
    }

    /// The roles grants go to; roles are per cluster, so created only when
    /// missing.
    fn roles(&mut self) {
        for role in ["dw_reader", "dw_writer"] {
            self.stmt(format!(
                "DO $$\nBEGIN\n  CREATE ROLE {role} NOLOGIN;\nEXCEPTION WHEN duplicate_object THEN\n  NULL;\nEND\n$$"
            ));
        }
        self.blank();
    }

    fn baseline(&mut self) -> String {
        self.claim(0, "email_address");
        self.stmt(
            "CREATE DOMAIN core.email_address AS text CHECK (VALUE ~ '^[^@]+@[^@]+$')".into(),
        );
        self.stmt(
            "CREATE FUNCTION core.touch_updated_at() RETURNS trigger\nLANGUAGE plpgsql AS $fn$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND\n$fn$"
                .into(),
        );
        self.func_names[0].insert("touch_updated_at".into());
        self.funcs.push(Func {
            schema: 0,
            name: "touch_updated_at".into(),
            kind: FuncKind::Fixed,
            table: 0,
            alive: true,
        });
        self.blank();
        let name = self.claim_table(1, "change_log");
        self.stmt(format!(
            "CREATE TABLE audit.{name} (\n  id bigserial PRIMARY KEY,\n  table_name text NOT NULL,\n  op text NOT NULL,\n  row_id bigint,\n  changed_at timestamptz NOT NULL DEFAULT now()\n)"
        ));
        let idx = self.claim(1, "change_log_table_name_changed_at_idx");
        self.stmt(format!(
            "CREATE INDEX {idx} ON audit.{name} (table_name, changed_at)"
        ));
        self.indexes.push(Index {
            schema: 1,
            name: idx,
            alive: true,
            droppable: false,
        });
        let mut cols = Vec::new();
        for (c, ty) in [
            ("id", Ty::Int),
            ("table_name", Ty::Text),
            ("op", Ty::Text),
            ("row_id", Ty::Int),
            ("changed_at", Ty::Ts),
        ] {
            let mut col = Col::new(c, ty);
            col.used = true;
            col.pinned = true;
            cols.push(col);
        }
        self.tables.push(Table {
            schema: 1,
            name,
            cols,
            rows: 0,
            partitioned: false,
            pinned: true,
            renamed: false,
            fan_in: 0,
            touch: false,
            audit: false,
            unique_code: false,
            cons: HashSet::new(),
            born: 1,
        });
        self.stmt(
            "CREATE FUNCTION audit.log_change() RETURNS trigger\nLANGUAGE plpgsql AS $fn$\nBEGIN\n  IF TG_OP = 'DELETE' THEN\n    INSERT INTO audit.change_log (table_name, op, row_id)\n    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, OLD.id);\n  ELSE\n    INSERT INTO audit.change_log (table_name, op, row_id)\n    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, NEW.id);\n  END IF;\n  RETURN NULL;\nEND\n$fn$"
                .into(),
        );
        self.func_names[1].insert("log_change".into());
        self.funcs.push(Func {
            schema: 1,
            name: "log_change".into(),
            kind: FuncKind::Fixed,
            table: 0,
            alive: true,
        });
        self.stmt(
            "COMMENT ON TABLE audit.change_log IS 'Row changes recorded by audit.log_change().'"
                .into(),
        );
        self.blank();
        for _ in 0..6 {
            self.create_table(0);
        }
        "baseline".into()
    }

    fn create_migration(&mut self, creates_left: usize, new_schema: Option<usize>) -> String {
        let remaining = TARGET_TABLES.saturating_sub(self.table_count());
        let mut budget = if creates_left <= 1 {
            remaining
        } else {
            let base = remaining / creates_left;
            let jitter = self.rng.below(7) as isize - 3;
            ((base as isize + jitter).max(1) as usize)
                .min(remaining.saturating_sub(creates_left - 1))
        };
        let mut desc = None;
        if let Some(&(from, s, name)) = PARTITIONED.get(self.partitioned_done) {
            if self.n >= from && self.live.contains(&s) {
                self.partitioned_done += 1;
                let made = self.partitioned_table(s, name);
                budget = budget.saturating_sub(made);
                desc = Some(format!("create_{}_{name}_partitioned", self.sname(s)));
            }
        }
        let main = match new_schema {
            Some(s) => s,
            None => self.pick_schema(),
        };
        let mut first = None;
        for i in 0..budget {
            let s = if i == 0 || self.rng.chance(75) {
                main
            } else {
                self.pick_schema()
            };
            let t = self.create_table(s);
            first.get_or_insert(t);
        }
        // Teams often ship a view or a helper function with new tables.
        if self.rng.chance(30) {
            self.view_op();
        }
        if self.rng.chance(20) {
            self.func_op();
            self.blank();
        }
        if let Some(desc) = desc {
            return desc;
        }
        match first {
            Some(t) => format!(
                "create_{}_{}{}",
                self.sname(self.tables[t].schema),
                self.tables[t].name,
                if budget > 1 {
                    "_and_related_tables"
                } else {
                    ""
                }
            ),
            None => "schema_housekeeping".into(),
        }
    }

    fn pick_schema(&mut self) -> usize {
        let total: usize = self.live.iter().map(|&s| SCHEMAS[s].weight).sum();
        let mut r = self.rng.below(total);
        for &s in &self.live {
            if r < SCHEMAS[s].weight {
                return s;
            }
            r -= SCHEMAS[s].weight;
        }
        self.live[0]
    }

    /// CREATE TABLE with its indexes, comments, grants and triggers.
    fn create_table(&mut self, s: usize) -> usize {
        let def = &SCHEMAS[s];
        let noun = def.nouns[self.rng.below(def.nouns.len())];
        let qual = QUALIFIERS[self.rng.below(QUALIFIERS.len())];
        let base = if qual.is_empty() {
            noun.to_string()
        } else {
            format!("{}_{qual}", singular(noun))
        };
        let name = self.claim_table(s, &base);
        let t = self.tables.len();
        let mut table = Table {
            schema: s,
            name: name.clone(),
            cols: Vec::new(),
            rows: 0,
            partitioned: false,
            pinned: false,
            renamed: false,
            fan_in: 0,
            touch: false,
            audit: false,
            unique_code: false,
            cons: HashSet::new(),
            born: self.n,
        };
        table.cons.insert(format!("{name}_pkey"));
        let mut lines = Vec::new();
        if self.rng.chance(12) {
            lines.push("id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY".to_string());
        } else {
            lines.push("id bigserial PRIMARY KEY".to_string());
        }
        let mut id = Col::new("id", Ty::Int);
        id.used = true;
        id.pinned = true;
        table.cols.push(id);
        let fks = match self.rng.below(100) {
            0..=24 => 0,
            25..=69 => 1,
            70..=91 => 2,
            _ => 3,
        };
        let mut parents = Vec::new();
        for _ in 0..fks {
            let Some(p) = self.pick_parent(&parents) else {
                break;
            };
            parents.push(p);
            self.tables[p].fan_in += 1;
            let col =
                Self::unique_col_name(&table, &format!("{}_id", singular(&self.tables[p].name)));
            let action = match self.rng.below(4) {
                0 => " ON DELETE CASCADE",
                1 => " ON DELETE SET NULL",
                _ => "",
            };
            lines.push(format!(
                "{col} bigint REFERENCES {} (id){action}",
                self.qt(p)
            ));
            table.cons.insert(ident(&format!("{name}_{col}_fkey")));
            let mut c = Col::new(&col, Ty::Ref(p));
            c.used = true;
            table.cols.push(c);
        }
        if self.rng.chance(40) {
            lines.push("code text NOT NULL UNIQUE".into());
            table.unique_code = true;
            table.cons.insert(format!("{name}_code_key"));
        } else {
            lines.push("code text NOT NULL".into());
        }
        let mut code = Col::new("code", Ty::Text);
        code.used = true;
        table.cols.push(code);
        let extra = 2 + self.rng.below(5);
        let start = self.rng.below(BASE_COLS.len());
        let step = 1 + self.rng.below(3);
        let mut taken = 0;
        let mut i = start;
        for _ in 0..BASE_COLS.len() * 3 {
            if taken == extra {
                break;
            }
            let (col, kind, clause) = BASE_COLS[i % BASE_COLS.len()];
            i += step;
            if table.has(col) {
                continue;
            }
            taken += 1;
            let ty = self.ty_of(kind, s);
            let clause = match ty {
                Ty::Enum(e) => format!("NOT NULL DEFAULT '{}'", self.enums[e].values[0]),
                _ => clause.to_string(),
            };
            if col == "amount" {
                table.cons.insert(format!("{name}_amount_check"));
            }
            let sql_type = self.col_sql_type(ty);
            lines.push(format!("{col} {sql_type} {clause}").trim_end().to_string());
            table.cols.push(Col::new(col, ty));
        }
        lines.push("created_at timestamptz NOT NULL DEFAULT now()".into());
        let mut created = Col::new("created_at", Ty::Ts);
        created.pinned = true;
        table.cols.push(created);
        self.stmt(format!(
            "CREATE TABLE {}.{name} (\n  {}\n)",
            self.sname(s),
            lines.join(",\n  ")
        ));
        self.tables.push(table);
        let refs: Vec<String> = self.tables[t]
            .cols
            .iter()
            .filter(|c| matches!(c.ty, Ty::Ref(_)))
            .map(|c| c.name.clone())
            .collect();
        for col in refs {
            if self.rng.chance(80) {
                let idx = self.claim(s, &format!("{name}_{col}_idx"));
                self.stmt(format!("CREATE INDEX {idx} ON {} ({col})", self.qt(t)));
                self.indexes.push(Index {
                    schema: s,
                    name: idx,
                    alive: true,
                    droppable: true,
                });
            }
        }
        if self.rng.chance(50) {
            self.stmt(format!(
                "COMMENT ON TABLE {} IS '{} ({}).'",
                self.qt(t),
                base.replace('_', " "),
                def.name
            ));
        }
        if self.rng.chance(80) {
            self.stmt(format!("GRANT SELECT ON {} TO dw_reader", self.qt(t)));
        }
        if self.rng.chance(30) {
            self.stmt(format!(
                "GRANT SELECT, INSERT, UPDATE ON {} TO dw_writer",
                self.qt(t)
            ));
        }
        if self.tables[t].has("updated_at") && self.rng.chance(40) {
            self.touch_trigger(t);
        }
        if self.rng.chance(4) {
            self.audit_trigger(t);
        }
        self.blank();
        t
    }

    /// A table partitioned by range of created_at: the parent, four yearly
    /// partitions and a default one. Returns the number of tables made.
    fn partitioned_table(&mut self, s: usize, base: &str) -> usize {
        let name = self.claim_table(s, base);
        let schema = self.sname(s);
        self.stmt(format!(
            "CREATE TABLE {schema}.{name} (\n  id bigserial NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now(),\n  kind text,\n  qty integer NOT NULL DEFAULT 0,\n  payload jsonb,\n  PRIMARY KEY (id, created_at)\n) PARTITION BY RANGE (created_at)"
        ));
        let mut parts = Vec::new();
        for year in 2023..=2026 {
            let part = self.claim(s, &format!("{name}_{year}"));
            self.stmt(format!(
                "CREATE TABLE {schema}.{part} PARTITION OF {schema}.{name}\n  FOR VALUES FROM ('{year}-01-01') TO ('{}-01-01')",
                year + 1
            ));
            parts.push(part);
        }
        let part = self.claim(s, &format!("{name}_default"));
        self.stmt(format!(
            "CREATE TABLE {schema}.{part} PARTITION OF {schema}.{name} DEFAULT"
        ));
        parts.push(part);
        for part in &parts {
            for suffix in [
                "pkey",
                "created_at_idx",
                "kind_idx",
                "qty_idx",
                "payload_idx",
            ] {
                self.names[s].insert(format!("{part}_{suffix}"));
            }
        }
        let idx = self.claim(s, &format!("{name}_created_at_idx"));
        self.stmt(format!(
            "CREATE INDEX {idx} ON {schema}.{name} (created_at)"
        ));
        self.indexes.push(Index {
            schema: s,
            name: idx,
            alive: true,
            droppable: false,
        });
        self.stmt(format!(
            "COMMENT ON TABLE {schema}.{name} IS 'Partitioned by year of created_at.'"
        ));
        self.stmt(format!("GRANT SELECT ON {schema}.{name} TO dw_reader"));
        let mut cols = Vec::new();
        for (c, ty) in [
            ("id", Ty::Int),
            ("created_at", Ty::Ts),
            ("kind", Ty::Text),
            ("qty", Ty::Int),
            ("payload", Ty::Jsonb),
        ] {
            let mut col = Col::new(c, ty);
            if c == "id" || c == "created_at" {
                col.used = true;
                col.pinned = true;
            }
            cols.push(col);
        }
        self.tables.push(Table {
            schema: s,
            name,
            cols,
            rows: 0,
            partitioned: true,
            pinned: false,
            renamed: false,
            fan_in: 0,
            touch: false,
            audit: false,
            unique_code: false,
            cons: HashSet::new(),
            born: self.n,
        });
        self.partitions += parts.len();
        self.blank();
        1 + parts.len()
    }

    fn touch_trigger(&mut self, t: usize) {
        let name = self.tables[t].name.clone();
        let trg = self.claim_cons(t, &format!("{name}_touch"));
        self.stmt(format!(
            "CREATE TRIGGER {trg} BEFORE UPDATE ON {}\n  FOR EACH ROW EXECUTE FUNCTION core.touch_updated_at()",
            self.qt(t)
        ));
        let c = self.tables[t].col("updated_at").expect("updated_at");
        self.tables[t].cols[c].pinned = true;
        self.tables[t].cols[c].used = true;
        self.tables[t].touch = true;
    }

    fn audit_trigger(&mut self, t: usize) {
        let name = self.tables[t].name.clone();
        let trg = self.claim_cons(t, &format!("{name}_audit"));
        self.stmt(format!(
            "CREATE TRIGGER {trg} AFTER INSERT OR UPDATE OR DELETE ON {}\n  FOR EACH ROW EXECUTE FUNCTION audit.log_change()",
            self.qt(t)
        ));
        self.tables[t].audit = true;
    }

    fn alter_migration(&mut self) -> String {
        let k = 2 + self.rng.below(5);
        let mut first = None;
        for _ in 0..k {
            let Some(t) = self.pick_table(|t| !t.pinned) else {
                continue;
            };
            first.get_or_insert(t);
            for _ in 0..1 + self.rng.below(2) {
                self.alter_op(t);
            }
            self.blank();
        }
        match first {
            Some(t) => format!(
                "alter_{}_{}{}",
                self.sname(self.tables[t].schema),
                self.tables[t].name,
                if k > 1 { "_and_others" } else { "" }
            ),
            None => "alter_tables".into(),
        }
    }

    fn alter_op(&mut self, t: usize) {
        let done = match self.rng.below(100) {
            0..=34 => self.add_free_column(t),
            35..=49 => self.set_default(t),
            50..=64 => self.add_check(t),
            65..=76 => self.add_fk(t),
            77..=81 => self.add_generated(t),
            82..=89 => self.widen(t),
            90..=94 => self.storage(t),
            _ => self.set_not_null(t),
        };
        if !done && !self.add_free_column(t) {
            let sql = format!(
                "COMMENT ON TABLE {} IS 'Revised in V{}.'",
                self.qt(t),
                self.n
            );
            self.stmt(sql);
        }
    }

    fn add_free_column(&mut self, t: usize) -> bool {
        let start = self.rng.below(FREE_COLS.len());
        for i in 0..FREE_COLS.len() {
            let (name, kind, clause, filled) = FREE_COLS[(start + i) % FREE_COLS.len()];
            if self.tables[t].has(name) {
                continue;
            }
            let ty = self.ty_of(kind, self.tables[t].schema);
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {name} {} {clause}",
                self.qt(t),
                self.col_sql_type(ty)
            );
            self.stmt(sql.trim_end().to_string());
            let mut col = Col::new(name, ty);
            col.free = true;
            col.filled = filled;
            self.tables[t].cols.push(col);
            if self.rng.chance(30) {
                let sql = format!(
                    "COMMENT ON COLUMN {}.{name} IS '{} (added in V{}).'",
                    self.qt(t),
                    name.replace('_', " "),
                    self.n
                );
                self.stmt(sql);
            }
            return true;
        }
        false
    }

    fn set_default(&mut self, t: usize) -> bool {
        let Some(c) = self.pick_col(t, |c| {
            !c.generated
                && c.name != "id"
                && c.name != "code"
                && matches!(
                    c.ty,
                    Ty::Int | Ty::Numeric | Ty::Text | Ty::Bool | Ty::Enum(_) | Ty::Ts
                )
        }) else {
            return false;
        };
        let col = &self.tables[t].cols[c];
        let value = match col.ty {
            Ty::Int => self.rng.below(10).to_string(),
            Ty::Numeric => "0".to_string(),
            Ty::Text => "''".to_string(),
            Ty::Bool => if self.rng.chance(50) { "true" } else { "false" }.to_string(),
            Ty::Ts => "now()".to_string(),
            Ty::Enum(e) => {
                let usable = self.enums[e].usable;
                format!("'{}'", self.enums[e].values[self.rng.below(usable)])
            }
            _ => unreachable!(),
        };
        let sql = format!(
            "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {value}",
            self.qt(t),
            self.tables[t].cols[c].name
        );
        self.stmt(sql);
        true
    }

    fn add_check(&mut self, t: usize) -> bool {
        let Some(c) = self.pick_col(t, |c| {
            !c.generated && c.name != "id" && matches!(c.ty, Ty::Int | Ty::Numeric | Ty::Text)
        }) else {
            return false;
        };
        let col = self.tables[t].cols[c].name.clone();
        let table = self.tables[t].name.clone();
        let (suffix, expr) = match self.tables[t].cols[c].ty {
            Ty::Text => ("len", format!("char_length({col}) <= 500")),
            _ => ("nonneg", format!("{col} >= 0")),
        };
        let base = ident(&format!("{table}_{col}_{suffix}"));
        if self.tables[t].cons.contains(&base) {
            return false;
        }
        let name = self.claim_cons(t, &base);
        let sql = format!(
            "ALTER TABLE {} ADD CONSTRAINT {name} CHECK ({expr})",
            self.qt(t)
        );
        self.stmt(sql);
        self.tables[t].cols[c].used = true;
        true
    }

    fn add_fk(&mut self, t: usize) -> bool {
        if self.tables[t].partitioned {
            return false;
        }
        let existing: Vec<usize> = self.tables[t]
            .cols
            .iter()
            .filter_map(|c| match c.ty {
                Ty::Ref(p) => Some(p),
                _ => None,
            })
            .chain([t])
            .collect();
        let Some(p) = self.pick_parent(&existing) else {
            return false;
        };
        self.tables[p].fan_in += 1;
        let table = self.tables[t].name.clone();
        let col = Self::unique_col_name(
            &self.tables[t],
            &format!("{}_id", singular(&self.tables[p].name)),
        );
        if self.rng.chance(50) {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {col} bigint REFERENCES {} (id) ON DELETE SET NULL",
                self.qt(t),
                self.qt(p)
            );
            self.stmt(sql);
            self.claim_cons(t, &format!("{table}_{col}_fkey"));
        } else {
            let sql = format!("ALTER TABLE {} ADD COLUMN {col} bigint", self.qt(t));
            self.stmt(sql);
            let name = self.claim_cons(t, &format!("{table}_{col}_fk"));
            let sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT {name} FOREIGN KEY ({col}) REFERENCES {} (id)",
                self.qt(t),
                self.qt(p)
            );
            self.stmt(sql);
        }
        let mut c = Col::new(&col, Ty::Ref(p));
        c.used = true;
        c.free = true;
        self.tables[t].cols.push(c);
        if self.rng.chance(70) {
            let s = self.tables[t].schema;
            let idx = self.claim(s, &format!("{table}_{col}_idx"));
            let sql = format!("CREATE INDEX {idx} ON {} ({col})", self.qt(t));
            self.stmt(sql);
            self.indexes.push(Index {
                schema: s,
                name: idx,
                alive: true,
                droppable: true,
            });
        }
        true
    }

    fn add_generated(&mut self, t: usize) -> bool {
        if self.tables[t].partitioned || self.tables[t].has("line_total") {
            return false;
        }
        let Some(i) = self.pick_col(t, |c| c.ty == Ty::Int && !c.generated && c.name != "id")
        else {
            return false;
        };
        let Some(m) = self.pick_col(t, |c| c.ty == Ty::Numeric && !c.generated) else {
            return false;
        };
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN line_total numeric GENERATED ALWAYS AS (coalesce({}, 0) * coalesce({}, 0)) STORED",
            self.qt(t),
            self.tables[t].cols[i].name,
            self.tables[t].cols[m].name
        );
        self.stmt(sql);
        self.tables[t].cols[i].used = true;
        self.tables[t].cols[m].used = true;
        let mut col = Col::new("line_total", Ty::Numeric);
        col.generated = true;
        col.used = true;
        self.tables[t].cols.push(col);
        true
    }

    fn widen(&mut self, t: usize) -> bool {
        let Some(c) = self.pick_col(t, |c| {
            c.free && !c.used && !c.pinned && !c.widened && matches!(c.ty, Ty::Int | Ty::Text)
        }) else {
            return false;
        };
        let new_type = if self.tables[t].cols[c].ty == Ty::Int {
            "bigint"
        } else {
            "varchar(255)"
        };
        let sql = format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {new_type}",
            self.qt(t),
            self.tables[t].cols[c].name
        );
        self.stmt(sql);
        self.tables[t].cols[c].widened = true;
        true
    }

    fn storage(&mut self, t: usize) -> bool {
        if self.tables[t].partitioned {
            return false;
        }
        let sql = if self.rng.chance(50) || !self.tables[t].has("code") {
            format!(
                "ALTER TABLE {} SET (fillfactor = {})",
                self.qt(t),
                70 + 5 * self.rng.below(6)
            )
        } else {
            format!(
                "ALTER TABLE {} ALTER COLUMN code SET STATISTICS {}",
                self.qt(t),
                250 * (1 + self.rng.below(4))
            )
        };
        self.stmt(sql);
        true
    }

    fn set_not_null(&mut self, t: usize) -> bool {
        let Some(c) = self.pick_col(t, |c| c.filled) else {
            return false;
        };
        let sql = format!(
            "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
            self.qt(t),
            self.tables[t].cols[c].name
        );
        self.stmt(sql);
        self.tables[t].cols[c].filled = false;
        true
    }

    fn index_migration(&mut self) -> String {
        let k = 3 + self.rng.below(6);
        let mut first = None;
        for _ in 0..k {
            let Some(t) = self.pick_table(|t| !t.pinned) else {
                continue;
            };
            first.get_or_insert(t);
            self.index_op(t);
        }
        match first {
            Some(t) => format!(
                "add_indexes_on_{}_{}",
                self.sname(self.tables[t].schema),
                self.tables[t].name
            ),
            None => "add_indexes".into(),
        }
    }

    fn push_index(&mut self, t: usize, base: &str, unique: bool, body: &str, cols: &[usize]) {
        let s = self.tables[t].schema;
        let idx = self.claim(s, base);
        let sql = format!(
            "CREATE {}INDEX {idx} ON {} {body}",
            if unique { "UNIQUE " } else { "" },
            self.qt(t)
        );
        self.stmt(sql);
        for &c in cols {
            self.tables[t].cols[c].used = true;
        }
        self.indexes.push(Index {
            schema: s,
            name: idx,
            alive: true,
            droppable: true,
        });
    }

    fn index_op(&mut self, t: usize) {
        let table = self.tables[t].name.clone();
        let indexable = |c: &Col| {
            c.name != "id"
                && !c.generated
                && matches!(
                    c.ty,
                    Ty::Text | Ty::Int | Ty::Ts | Ty::Ref(_) | Ty::Enum(_) | Ty::Bool | Ty::Numeric
                )
        };
        let name = |g: &Gen, c: usize| g.tables[t].cols[c].name.clone();
        match self.rng.below(100) {
            0..=39 => {}
            40..=54 => {
                if let (Some(a), Some(b)) =
                    (self.pick_col(t, indexable), self.pick_col(t, indexable))
                {
                    if a != b {
                        let (na, nb) = (name(self, a), name(self, b));
                        self.push_index(
                            t,
                            &format!("{table}_{na}_{nb}_idx"),
                            false,
                            &format!("({na}, {nb} DESC)"),
                            &[a, b],
                        );
                        return;
                    }
                }
            }
            55..=69 => {
                let Some(a) = self.pick_col(t, indexable) else {
                    return;
                };
                let pred = self
                    .pick_col(t, |c| c.ty == Ty::Bool && !c.generated)
                    .map(|b| (b, name(self, b)))
                    .or_else(|| {
                        self.pick_col(t, |c| c.ty == Ty::Ts && c.name != "created_at")
                            .map(|b| (b, format!("{} IS NULL", name(self, b))))
                    })
                    .or_else(|| {
                        self.pick_col(t, |c| c.ty == Ty::Int && c.name != "id" && !c.generated)
                            .map(|b| (b, format!("{} > 0", name(self, b))))
                    });
                if let Some((b, pred)) = pred {
                    let na = name(self, a);
                    self.push_index(
                        t,
                        &format!("{table}_{na}_partial_idx"),
                        false,
                        &format!("({na}) WHERE {pred}"),
                        &[a, b],
                    );
                    return;
                }
            }
            70..=84 => {
                if let Some(a) = self.pick_col(t, |c| c.ty == Ty::Text && c.name != "code") {
                    let na = name(self, a);
                    self.push_index(
                        t,
                        &format!("{table}_lower_{na}_idx"),
                        false,
                        &format!("(lower({na}))"),
                        &[a],
                    );
                    return;
                }
                if let Some(a) = self.pick_col(t, |c| c.ty == Ty::Jsonb) {
                    let na = name(self, a);
                    self.push_index(
                        t,
                        &format!("{table}_{na}_kind_idx"),
                        false,
                        &format!("(({na} ->> 'kind'))"),
                        &[a],
                    );
                    return;
                }
            }
            85..=92 => {
                if let Some(a) = self.pick_col(t, |c| c.ty == Ty::Jsonb) {
                    let na = name(self, a);
                    self.push_index(
                        t,
                        &format!("{table}_{na}_gin"),
                        false,
                        &format!("USING gin ({na})"),
                        &[a],
                    );
                    return;
                }
            }
            _ => {
                let tb = &self.tables[t];
                if !tb.partitioned && !tb.unique_code && tb.has("code") {
                    let c = tb.col("code").expect("code");
                    self.push_index(t, &format!("{table}_code_uidx"), true, "(code)", &[c]);
                    self.tables[t].unique_code = true;
                    return;
                }
            }
        }
        if let Some(a) = self.pick_col(t, indexable) {
            let na = name(self, a);
            self.push_index(
                t,
                &format!("{table}_{na}_idx"),
                false,
                &format!("({na})"),
                &[a],
            );
        }
    }

    fn view_migration(&mut self) -> String {
        let k = 2 + self.rng.below(4);
        let mut first = None;
        for _ in 0..k {
            if let Some(v) = self.view_op() {
                first.get_or_insert(v);
            }
        }
        match first {
            Some(v) => format!(
                "create_view_{}_{}",
                self.sname(self.views[v].schema),
                self.views[v].name
            ),
            None => "views".into(),
        }
    }

    fn mark_used(&mut self, t: usize, cols: &[&str]) {
        for c in cols {
            if let Some(i) = self.tables[t].col(c) {
                self.tables[t].cols[i].used = true;
            }
        }
    }

    fn view_name(&mut self, s: usize, base: &str) -> String {
        let suffixes = [
            "recent", "active", "overview", "current", "open", "report", "export", "detail",
        ];
        let suffix = suffixes[self.rng.below(suffixes.len())];
        if self.rng.chance(50) {
            self.claim(s, &format!("v_{base}_{suffix}"))
        } else {
            self.claim(s, &format!("{base}_{suffix}"))
        }
    }

    fn simple_view_sql(&mut self, v: usize, create: &str) -> String {
        let t = self.views[v].table;
        let cols = self.views[v].cols.join(", ");
        let days = [7, 14, 30, 90, 365][self.rng.below(5)];
        format!(
            "{create} {} AS\nSELECT {cols}\nFROM {}\nWHERE created_at > now() - interval '{days} days'",
            self.qv(v),
            self.qt(t)
        )
    }

    /// One view; returns its index.
    fn view_op(&mut self) -> Option<usize> {
        let r = self.rng.below(100);
        let v = self.views.len();
        match r {
            35..=59 => {
                let t = self.pick_table(|t| t.cols.iter().any(|c| matches!(c.ty, Ty::Ref(_))))?;
                let c = self.pick_col(t, |c| matches!(c.ty, Ty::Ref(_)))?;
                let Ty::Ref(p) = self.tables[t].cols[c].ty else {
                    return None;
                };
                let col = self.tables[t].cols[c].name.clone();
                let s = self.tables[t].schema;
                let tname = self.tables[t].name.clone();
                let name = self.view_name(s, &tname);
                let alias = ident(&format!("{}_code", singular(&self.tables[p].name)));
                self.views.push(View {
                    schema: s,
                    name,
                    kind: ViewKind::Join,
                    table: t,
                    base_view: None,
                    cols: vec!["id", "code", "created_at"],
                    dependents: 0,
                    alive: true,
                });
                let sql = format!(
                    "CREATE VIEW {} AS\nSELECT c.id, c.code, c.created_at, p.code AS {alias}\nFROM {} c\nJOIN {} p ON p.id = c.{col}",
                    self.qv(v),
                    self.qt(t),
                    self.qt(p)
                );
                self.stmt(sql);
                self.tables[t].cols[c].used = true;
                self.mark_used(t, &["id", "code", "created_at"]);
                self.mark_used(p, &["id", "code"]);
            }
            60..=74 => {
                let candidates: Vec<usize> = (0..self.views.len())
                    .filter(|&b| {
                        let w = &self.views[b];
                        w.alive && w.cols.contains(&"id") && w.cols.contains(&"created_at")
                    })
                    .collect();
                if candidates.is_empty() {
                    return None;
                }
                let b = candidates[self.rng.below(candidates.len())];
                let s = self.views[b].schema;
                let base = self.views[b].name.clone();
                let name = self.claim(s, &format!("{base}_this_month"));
                self.views.push(View {
                    schema: s,
                    name,
                    kind: ViewKind::OnView,
                    table: self.views[b].table,
                    base_view: Some(b),
                    cols: vec!["id", "created_at"],
                    dependents: 0,
                    alive: true,
                });
                self.views[b].dependents += 1;
                let sql = format!(
                    "CREATE VIEW {} AS\nSELECT id, created_at\nFROM {}\nWHERE created_at >= date_trunc('month', now())",
                    self.qv(v),
                    self.qv(b)
                );
                self.stmt(sql);
            }
            75..=92 => {
                let materialized = r >= 85
                    && self
                        .views
                        .iter()
                        .filter(|w| w.kind == ViewKind::Materialized)
                        .count()
                        < 15;
                let t = self.pick_table(|t| t.has("created_at"))?;
                let s = self.tables[t].schema;
                let tname = self.tables[t].name.clone();
                let name = self.claim(
                    s,
                    &format!("{tname}_daily{}", if materialized { "_mv" } else { "" }),
                );
                self.views.push(View {
                    schema: s,
                    name: name.clone(),
                    kind: if materialized {
                        ViewKind::Materialized
                    } else {
                        ViewKind::Agg
                    },
                    table: t,
                    base_view: None,
                    cols: vec!["day", "n"],
                    dependents: 0,
                    alive: true,
                });
                let sql = format!(
                    "CREATE {}VIEW {} AS\nSELECT date_trunc('day', created_at) AS day, count(*) AS n\nFROM {}\nGROUP BY 1",
                    if materialized { "MATERIALIZED " } else { "" },
                    self.qv(v),
                    self.qt(t)
                );
                self.stmt(sql);
                self.mark_used(t, &["created_at"]);
                if materialized {
                    let idx = self.claim(s, &format!("{name}_day_idx"));
                    let sql = format!("CREATE UNIQUE INDEX {idx} ON {} (day)", self.qv(v));
                    self.stmt(sql);
                    self.indexes.push(Index {
                        schema: s,
                        name: idx,
                        alive: true,
                        droppable: false,
                    });
                }
            }
            93..=99 => {
                let candidates: Vec<usize> = (0..self.views.len())
                    .filter(|&w| self.views[w].alive && self.views[w].kind == ViewKind::Simple)
                    .collect();
                if candidates.is_empty() {
                    return None;
                }
                let w = candidates[self.rng.below(candidates.len())];
                let sql = self.simple_view_sql(w, "CREATE OR REPLACE VIEW");
                self.stmt(sql);
                return Some(w);
            }
            _ => {
                let t = self.pick_table(|t| t.has("created_at"))?;
                let s = self.tables[t].schema;
                let tname = self.tables[t].name.clone();
                let name = self.view_name(s, &tname);
                let cols = if self.tables[t].has("code") {
                    vec!["id", "code", "created_at"]
                } else {
                    vec!["id", "created_at"]
                };
                self.mark_used(t, &cols);
                self.views.push(View {
                    schema: s,
                    name,
                    kind: ViewKind::Simple,
                    table: t,
                    base_view: None,
                    cols,
                    dependents: 0,
                    alive: true,
                });
                let sql = self.simple_view_sql(v, "CREATE VIEW");
                self.stmt(sql);
            }
        }
        let kind = if self.views[v].kind == ViewKind::Materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        if self.rng.chance(70) {
            let sql = format!("GRANT SELECT ON {} TO dw_reader", self.qv(v));
            self.stmt(sql);
        }
        if self.rng.chance(40) {
            let sql = format!(
                "COMMENT ON {kind} {} IS 'Reporting view (V{}).'",
                self.qv(v),
                self.n
            );
            self.stmt(sql);
        }
        self.blank();
        Some(v)
    }

    fn func_migration(&mut self) -> String {
        let k = 2 + self.rng.below(3);
        let mut desc = None;
        for _ in 0..k {
            if let Some(d) = self.func_op() {
                desc.get_or_insert(d);
            }
            self.blank();
        }
        desc.unwrap_or_else(|| "functions".into())
    }

    fn func_op(&mut self) -> Option<String> {
        match self.rng.below(100) {
            0..=24 => {
                let t = self.pick_table(|t| t.has("code"))?;
                let s = self.tables[t].schema;
                let name = self.claim_func(s, &format!("{}_by_code", self.tables[t].name));
                let f = self.funcs.len();
                self.funcs.push(Func {
                    schema: s,
                    name: name.clone(),
                    kind: FuncKind::Lookup,
                    table: t,
                    alive: true,
                });
                let sql = self.lookup_sql(f, "CREATE FUNCTION", false);
                self.stmt(sql);
                if self.rng.chance(60) {
                    let sql = format!(
                        "GRANT EXECUTE ON FUNCTION {}.{name}(text) TO dw_writer",
                        self.sname(s)
                    );
                    self.stmt(sql);
                }
                if self.rng.chance(40) {
                    let sql = format!(
                        "COMMENT ON FUNCTION {}.{name}(text) IS 'Id of the row with this code, or NULL.'",
                        self.sname(s)
                    );
                    self.stmt(sql);
                }
                Some(format!("add_function_{name}"))
            }
            25..=44 => {
                let t = self.pick_table(|t| t.has("created_at"))?;
                let s = self.tables[t].schema;
                let name = self.claim_func(s, &format!("{}_count_since", self.tables[t].name));
                self.funcs.push(Func {
                    schema: s,
                    name: name.clone(),
                    kind: FuncKind::CountSince,
                    table: t,
                    alive: true,
                });
                let sql = format!(
                    "CREATE FUNCTION {}.{name}(p_since timestamptz) RETURNS bigint\nLANGUAGE sql STABLE AS $fn$\n  SELECT count(*) FROM {} WHERE created_at >= p_since\n$fn$",
                    self.sname(s),
                    self.qt(t)
                );
                self.stmt(sql);
                self.mark_used(t, &["created_at"]);
                Some(format!("add_function_{name}"))
            }
            45..=54 => {
                let t = self
                    .pick_table(|t| t.cols.iter().any(|c| c.ty == Ty::Numeric && !c.generated))?;
                let c = self.pick_col(t, |c| c.ty == Ty::Numeric && !c.generated)?;
                let col = self.tables[t].cols[c].name.clone();
                let s = self.tables[t].schema;
                let name = self.claim_func(s, &format!("{}_total_{col}", self.tables[t].name));
                self.funcs.push(Func {
                    schema: s,
                    name: name.clone(),
                    kind: FuncKind::Atomic,
                    table: t,
                    alive: true,
                });
                let sql = format!(
                    "CREATE FUNCTION {}.{name}() RETURNS numeric\nLANGUAGE sql STABLE\nBEGIN ATOMIC\n  SELECT coalesce(sum({col}), 0) FROM {};\nEND",
                    self.sname(s),
                    self.qt(t)
                );
                self.stmt(sql);
                self.tables[t].cols[c].used = true;
                Some(format!("add_function_{name}"))
            }
            55..=74 => {
                let t = self.pick_table(|t| !t.partitioned && !t.touch && t.has("updated_at"))?;
                self.touch_trigger(t);
                Some(format!("add_touch_trigger_{}", self.tables[t].name))
            }
            75..=84 => {
                let t = self.pick_table(|t| !t.partitioned && !t.pinned && !t.audit)?;
                self.audit_trigger(t);
                Some(format!("audit_{}", self.tables[t].name))
            }
            _ => {
                let candidates: Vec<usize> = (0..self.funcs.len())
                    .filter(|&f| self.funcs[f].alive && self.funcs[f].kind == FuncKind::Lookup)
                    .collect();
                if candidates.is_empty() {
                    return None;
                }
                let f = candidates[self.rng.below(candidates.len())];
                let sql = self.lookup_sql(f, "CREATE OR REPLACE FUNCTION", true);
                self.stmt(sql);
                Some(format!("rewrite_{}", self.funcs[f].name))
            }
        }
    }

    fn lookup_sql(&self, f: usize, create: &str, strict: bool) -> String {
        let func = &self.funcs[f];
        let check = if strict {
            "\n  IF v_id IS NULL THEN\n    RAISE NOTICE 'no row with code %', p_code;\n  END IF;"
        } else {
            ""
        };
        format!(
            "{create} {}.{}(p_code text) RETURNS bigint\nLANGUAGE plpgsql STABLE AS $fn$\nDECLARE\n  v_id bigint;\nBEGIN\n  SELECT id INTO v_id FROM {} WHERE code = p_code;{check}\n  RETURN v_id;\nEND\n$fn$",
            self.sname(func.schema),
            func.name,
            self.qt(func.table)
        )
    }

    fn enum_migration(&mut self) -> String {
        let mut desc = None;
        for _ in 0..1 + self.rng.below(2) {
            let candidates: Vec<usize> = (0..self.enums.len())
                .filter(|&e| !self.enums[e].spare.is_empty())
                .collect();
            if candidates.is_empty() {
                break;
            }
            let e = candidates[self.rng.below(candidates.len())];
            let value = self.enums[e].spare.remove(0);
            let usable = self.enums[e].usable;
            let place = match self.rng.below(3) {
                0 => format!(" BEFORE '{}'", self.enums[e].values[self.rng.below(usable)]),
                1 => format!(" AFTER '{}'", self.enums[e].values[self.rng.below(usable)]),
                _ => String::new(),
            };
            let sql = format!("ALTER TYPE {} ADD VALUE '{value}'{place}", self.qe(e));
            self.stmt(sql);
            desc.get_or_insert(format!("add_{value}_to_{}", self.enums[e].name));
            self.enums[e].values.push(value);
        }
        // Use values added by earlier files (committed by now).
        for _ in 0..self.rng.below(3) {
            let Some(t) = self.pick_table(|t| t.cols.iter().any(|c| matches!(c.ty, Ty::Enum(_))))
            else {
                break;
            };
            let Some(c) = self.pick_col(t, |c| matches!(c.ty, Ty::Enum(_))) else {
                break;
            };
            let Ty::Enum(e) = self.tables[t].cols[c].ty else {
                break;
            };
            let value = self.enums[e].values[self.rng.below(self.enums[e].usable)].clone();
            let sql = format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT '{value}'",
                self.qt(t),
                self.tables[t].cols[c].name
            );
            self.stmt(sql);
        }
        if self.new_enums < NEW_ENUMS.len() && (desc.is_none() || self.rng.chance(40)) {
            let (base, values) = NEW_ENUMS[self.new_enums];
            self.new_enums += 1;
            let s = self.pick_schema();
            let name = self.claim(s, base);
            let list = values
                .iter()
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(", ");
            self.stmt(format!(
                "CREATE TYPE {}.{name} AS ENUM ({list})",
                self.sname(s)
            ));
            let e = self.enums.len();
            self.enums.push(EnumTy {
                schema: s,
                name: name.clone(),
                values: values.iter().map(|v| v.to_string()).collect(),
                usable: values.len(),
                spare: Vec::new(),
            });
            for _ in 0..1 + self.rng.below(3) {
                let Some(t) = self.pick_table(|t| t.schema == s && !t.pinned && !t.has(base))
                else {
                    break;
                };
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN {base} {} NOT NULL DEFAULT '{}'",
                    self.qt(t),
                    self.qe(e),
                    values[0]
                );
                self.stmt(sql);
                let mut col = Col::new(base, Ty::Enum(e));
                col.free = true;
                self.tables[t].cols.push(col);
            }
            desc.get_or_insert(format!("create_type_{name}"));
        }
        desc.unwrap_or_else(|| "enum_defaults".into())
    }

    fn grants_migration(&mut self) -> String {
        let s = self.pick_schema();
        let schema = self.sname(s);
        self.stmt(format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO dw_reader"
        ));
        self.stmt(format!(
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO dw_writer"
        ));
        if self.default_privileges.insert(s) {
            self.stmt(format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO dw_reader"
            ));
        }
        for _ in 0..2 + self.rng.below(4) {
            let Some(t) = self.pick_table(|t| t.schema == s) else {
                break;
            };
            let sql = if self.rng.chance(60) {
                format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO dw_writer",
                    self.qt(t)
                )
            } else {
                format!("REVOKE DELETE ON {} FROM dw_writer", self.qt(t))
            };
            self.stmt(sql);
            let c = self.rng.below(self.tables[t].cols.len());
            let sql = format!(
                "COMMENT ON COLUMN {}.{} IS 'Documented in V{}.'",
                self.qt(t),
                self.tables[t].cols[c].name,
                self.n
            );
            self.stmt(sql);
        }
        format!("grant_{schema}_privileges_and_document_columns")
    }

    fn rename_migration(&mut self) -> String {
        let mut desc = None;
        let n = self.n;
        if self.rng.chance(45) {
            if let Some(t) =
                self.pick_table(|t| !t.pinned && !t.partitioned && !t.renamed && t.born < n)
            {
                let old = self.tables[t].name.clone();
                let s = self.tables[t].schema;
                let suffix = ["legacy", "v2", "records", "entries"][self.rng.below(4)];
                let new = self.claim_table(s, &format!("{old}_{suffix}"));
                let sql = format!("ALTER TABLE {} RENAME TO {new}", self.qt(t));
                self.stmt(sql);
                self.tables[t].name = new.clone();
                self.tables[t].renamed = true;
                desc = Some(format!("rename_{old}_to_{new}"));
            }
        }
        for _ in 0..1 + self.rng.below(3) {
            let Some(t) = self.pick_table(|t| {
                t.cols.iter().any(|c| {
                    !c.pinned
                        && !c.generated
                        && RENAMES
                            .iter()
                            .any(|(from, to)| c.name == *from && !t.has(to))
                })
            }) else {
                break;
            };
            let c = self
                .pick_col(t, |c| {
                    !c.pinned && !c.generated && RENAMES.iter().any(|(from, _)| c.name == *from)
                })
                .expect("a column to rename");
            let from = self.tables[t].cols[c].name.clone();
            let to = RENAMES
                .iter()
                .find(|(f, _)| *f == from)
                .map(|(_, to)| *to)
                .expect("rename pair");
            if self.tables[t].has(to) {
                continue;
            }
            let sql = format!("ALTER TABLE {} RENAME COLUMN {from} TO {to}", self.qt(t));
            self.stmt(sql);
            self.tables[t].cols[c].name = to.to_string();
            desc.get_or_insert(format!("rename_{}_{from}_to_{to}", self.tables[t].name));
        }
        if self.rng.chance(40) {
            let alive: Vec<usize> = (0..self.indexes.len())
                .filter(|&i| self.indexes[i].alive && self.indexes[i].droppable)
                .collect();
            if !alive.is_empty() {
                let i = alive[self.rng.below(alive.len())];
                let s = self.indexes[i].schema;
                let old = self.indexes[i].name.clone();
                let base = match old.strip_suffix("_idx") {
                    Some(stem) => format!("{stem}_ix"),
                    None => format!("{old}_ix"),
                };
                let new = self.claim(s, &base);
                self.stmt(format!(
                    "ALTER INDEX {}.{old} RENAME TO {new}",
                    self.sname(s)
                ));
                self.indexes[i].name = new;
            }
        }
        desc.unwrap_or_else(|| "rename_index".into())
    }

    fn drop_migration(&mut self) -> String {
        let mut desc = None;
        for _ in 0..1 + self.rng.below(2) {
            let alive: Vec<usize> = (0..self.indexes.len())
                .filter(|&i| self.indexes[i].alive && self.indexes[i].droppable)
                .collect();
            if alive.is_empty() {
                break;
            }
            let i = alive[self.rng.below(alive.len())];
            let sql = format!(
                "DROP INDEX {}.{}",
                self.sname(self.indexes[i].schema),
                self.indexes[i].name
            );
            self.stmt(sql);
            self.indexes[i].alive = false;
            desc.get_or_insert(format!("drop_index_{}", self.indexes[i].name));
        }
        for _ in 0..1 + self.rng.below(2) {
            let Some(t) =
                self.pick_table(|t| t.cols.iter().any(|c| c.free && !c.used && !c.pinned))
            else {
                break;
            };
            let c = self
                .pick_col(t, |c| c.free && !c.used && !c.pinned)
                .expect("a free column");
            let col = self.tables[t].cols.remove(c);
            let sql = format!("ALTER TABLE {} DROP COLUMN {}", self.qt(t), col.name);
            self.stmt(sql);
            desc.get_or_insert(format!("drop_{}_{}", self.tables[t].name, col.name));
        }
        if self.rng.chance(60) {
            let leaves: Vec<usize> = (0..self.views.len())
                .filter(|&v| {
                    let w = &self.views[v];
                    w.alive && w.dependents == 0 && w.kind != ViewKind::Materialized
                })
                .collect();
            if !leaves.is_empty() {
                let v = leaves[self.rng.below(leaves.len())];
                let sql = format!("DROP VIEW {}", self.qv(v));
                self.stmt(sql);
                self.views[v].alive = false;
                if let Some(b) = self.views[v].base_view {
                    self.views[b].dependents -= 1;
                }
                desc.get_or_insert(format!("drop_view_{}", self.views[v].name));
            }
        }
        if self.rng.chance(30) {
            let lookups: Vec<usize> = (0..self.funcs.len())
                .filter(|&f| self.funcs[f].alive && self.funcs[f].kind == FuncKind::Lookup)
                .collect();
            if !lookups.is_empty() {
                let f = lookups[self.rng.below(lookups.len())];
                let sql = format!(
                    "DROP FUNCTION {}.{}(text)",
                    self.sname(self.funcs[f].schema),
                    self.funcs[f].name
                );
                self.stmt(sql);
                self.funcs[f].alive = false;
            }
        }
        desc.unwrap_or_else(|| "drop_unused_objects".into())
    }

    /// SQL for one column's value in row `g` of an INSERT … SELECT; None
    /// when the column is left to its default.
    fn value(&self, col: &Col) -> Option<String> {
        if col.generated || col.name == "id" {
            return None;
        }
        if col.name == "code" {
            return Some(format!("'m{}-' || g", self.n));
        }
        Some(match col.ty {
            Ty::Text => format!("'{} ' || g", col.name.replace('_', " ")),
            Ty::Int => "g % 100".into(),
            Ty::Numeric => "round((g % 1000) / 10.0, 2)".into(),
            Ty::Bool => "g % 3 <> 0".into(),
            Ty::Ts => "timestamptz '2024-01-01' + g * interval '1 minute'".into(),
            Ty::Jsonb => "jsonb_build_object('kind', 'k' || g % 5, 'n', g)".into(),
            Ty::Email => "'user' || g || '@example.com'".into(),
            Ty::Enum(e) => {
                let values = self.enums[e].values[..self.enums[e].usable]
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "(ARRAY[{values}])[1 + g % {}]::{}",
                    self.enums[e].usable,
                    self.qe(e)
                )
            }
            Ty::Ref(p) => {
                let rows = self.tables[p].rows;
                if rows == 0 {
                    return None;
                }
                format!("1 + g % {rows}")
            }
        })
    }

    fn data_migration(&mut self) -> String {
        let mut inserted = Vec::new();
        let mut desc = None;
        for i in 0..2 + self.rng.below(3) {
            let n = self.n;
            let empty_first = i == 0 || self.rng.chance(60);
            let Some(t) =
                self.pick_table(|t| t.born < n && !t.pinned && (!empty_first || t.rows == 0))
            else {
                continue;
            };
            if inserted.contains(&t) {
                continue;
            }
            inserted.push(t);
            let rows = 500 * (1 + self.rng.below(8));
            let (cols, values): (Vec<String>, Vec<String>) = self.tables[t]
                .cols
                .iter()
                .filter_map(|c| self.value(c).map(|v| (c.name.clone(), v)))
                .unzip();
            let sql = format!(
                "INSERT INTO {} ({})\nSELECT {}\nFROM generate_series(1, {rows}) AS g",
                self.qt(t),
                cols.join(", "),
                values.join(",\n       ")
            );
            self.stmt(sql);
            self.tables[t].rows += rows;
            desc.get_or_insert(format!(
                "backfill_{}_{}",
                self.sname(self.tables[t].schema),
                self.tables[t].name
            ));
        }
        // A child filled from its parent's rows.
        if self.rng.chance(50) {
            let n = self.n;
            if let Some(t) = self.pick_table(|t| {
                t.born < n && t.has("code") && t.cols.iter().any(|c| matches!(c.ty, Ty::Ref(_)))
            }) {
                let c = self
                    .pick_col(t, |c| matches!(c.ty, Ty::Ref(_)))
                    .expect("a reference");
                let Ty::Ref(p) = self.tables[t].cols[c].ty else {
                    unreachable!()
                };
                let parent_rows = self.tables[p].rows;
                if parent_rows > 0 && !inserted.contains(&t) {
                    inserted.push(t);
                    let sql = format!(
                        "INSERT INTO {} (code, {})\nSELECT 'm{n}-p' || p.id, p.id\nFROM {} p",
                        self.qt(t),
                        self.tables[t].cols[c].name,
                        self.qt(p)
                    );
                    self.stmt(sql);
                    self.tables[t].rows += parent_rows;
                }
            }
        }
        self.blank();
        for _ in 0..1 + self.rng.below(3) {
            let Some(t) = self.pick_table(|t| t.rows > 0) else {
                break;
            };
            let Some(c) = self.pick_col(t, |c| {
                !c.generated
                    && c.name != "id"
                    && c.name != "code"
                    && matches!(c.ty, Ty::Int | Ty::Text | Ty::Enum(_))
            }) else {
                continue;
            };
            let col = self.tables[t].cols[c].name.clone();
            let modulo = 3 + self.rng.below(8);
            let set = match self.tables[t].cols[c].ty {
                Ty::Int => format!("{col} = {col} + 1"),
                Ty::Enum(e) => {
                    let value = &self.enums[e].values[self.rng.below(self.enums[e].usable)];
                    format!("{col} = '{value}'")
                }
                _ if self.tables[t].has("code") && self.rng.chance(50) => {
                    format!("{col} = code")
                }
                _ => format!("{col} = upper({col})"),
            };
            let sql = format!("UPDATE {} SET {set} WHERE id % {modulo} = 0", self.qt(t));
            self.stmt(sql);
        }
        let mviews: Vec<usize> = (0..self.views.len())
            .filter(|&v| self.views[v].alive && self.views[v].kind == ViewKind::Materialized)
            .collect();
        for &v in mviews.iter().take(2) {
            let sql = format!("REFRESH MATERIALIZED VIEW {}", self.qv(v));
            self.stmt(sql);
        }
        desc.unwrap_or_else(|| "data_fixes".into())
    }
}
