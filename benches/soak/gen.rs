//! The soak's random DDL: a seeded generator that keeps a model of the
//! schema it builds in `soak` (tables, columns, indexes, constraints,
//! views, functions, enums, comments, grants, owners), so that nearly
//! every step applies. Names are never reused but for the drop-and-create
//! steps, which reuse on purpose (a new OID under an old name). A step the
//! server rejects anyway (the model is simpler than PostgreSQL) changes
//! nothing: the driver runs each step as one implicit transaction.

/// splitmix64: small, seedable, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// A column's type in the model.
#[derive(Clone, PartialEq)]
enum Ty {
    Int,
    Big,
    Text,
    Enum(String),
}

impl Ty {
    fn sql(&self) -> String {
        match self {
            Ty::Int => "int".into(),
            Ty::Big => "bigint".into(),
            Ty::Text => "text".into(),
            Ty::Enum(e) => format!("soak.{e}"),
        }
    }
}

#[derive(Clone)]
struct Col {
    name: String,
    ty: Ty,
}

#[derive(Clone)]
struct Table {
    name: String,
    cols: Vec<Col>,
    /// (index name, column)
    indexes: Vec<(String, String)>,
    /// (constraint name, column)
    constraints: Vec<(String, String)>,
}

struct View {
    name: String,
    table: String,
    /// The table's columns it reads (renamed with them).
    cols: Vec<String>,
    /// Its own column names (a renamed table column keeps them).
    outs: Vec<String>,
}

/// The generator: its random source and its model of the schema.
pub struct Gen {
    rng: Rng,
    next: u32,
    tables: Vec<Table>,
    views: Vec<View>,
    functions: Vec<String>,
    enums: Vec<String>,
}

/// What the soak's database holds before the first step.
pub const SETUP: &str = "
DO $$ BEGIN CREATE ROLE dw_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE soak_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA soak;
";

impl Gen {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: Rng::new(seed),
            next: 0,
            tables: Vec::new(),
            views: Vec::new(),
            functions: Vec::new(),
            enums: Vec::new(),
        }
    }

    /// A new name with `prefix`.
    fn name(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    /// The next step: SQL to run as one implicit transaction (or a single
    /// maintenance statement).
    pub fn step(&mut self) -> String {
        loop {
            let roll = self.rng.below(100);
            let sql = match roll {
                _ if self.tables.len() < 3 => Some(self.create_table()),
                0..=7 => Some(self.create_table()),
                8..=10 => self.drop_table(),
                11..=13 => self.rename_table(),
                14..=15 => self.recreate_table(),
                16..=22 => self.add_column(),
                23..=26 => self.drop_column(),
                27..=30 => self.rename_column(),
                31..=34 => self.alter_column(),
                35..=41 => self.create_index(),
                42..=44 => self.drop_index(),
                45..=46 => self.rename_index(),
                47..=51 => self.add_constraint(),
                52..=54 => self.drop_constraint(),
                55..=56 => self.rename_constraint(),
                57..=61 => self.create_view(),
                62..=64 => self.replace_view(),
                65..=66 => self.drop_view(),
                67..=68 => self.rename_view(),
                69..=72 => Some(self.function()),
                73..=74 => self.drop_function(),
                75..=76 => Some(self.enum_type()),
                77..=84 => self.comment(),
                85..=91 => self.grant(),
                92..=94 => self.owner(),
                _ => Some(self.maintenance()),
            };
            if let Some(sql) = sql {
                return sql;
            }
        }
    }

    /// A random index below `len`, None when it is 0.
    fn pick(&mut self, len: usize) -> Option<usize> {
        (len > 0).then(|| self.rng.below(len))
    }

    fn random_ty(&mut self) -> Ty {
        match self.rng.below(6) {
            0 | 1 => Ty::Int,
            2 => Ty::Big,
            3 if !self.enums.is_empty() => {
                let e = self.rng.below(self.enums.len());
                Ty::Enum(self.enums[e].clone())
            }
            _ => Ty::Text,
        }
    }

    fn table_sql(t: &Table) -> String {
        let cols = std::iter::once("id bigint PRIMARY KEY".to_string())
            .chain(t.cols.iter().map(|c| format!("{} {}", c.name, c.ty.sql())))
            .collect::<Vec<_>>()
            .join(", ");
        format!("CREATE TABLE soak.{} ({cols})", t.name)
    }

    fn create_table(&mut self) -> String {
        let name = self.name("t");
        let mut cols = Vec::new();
        for _ in 0..1 + self.rng.below(4) {
            let c = Col {
                name: self.name("c"),
                ty: self.random_ty(),
            };
            cols.push(c);
        }
        let t = Table {
            name,
            cols,
            indexes: Vec::new(),
            constraints: Vec::new(),
        };
        let sql = Self::table_sql(&t);
        self.tables.push(t);
        sql
    }

    /// Forgets the views on `table` (dropped with it by CASCADE).
    fn forget_views(&mut self, table: &str, column: Option<&str>) {
        self.views
            .retain(|v| v.table != table || column.is_some_and(|c| !v.cols.iter().any(|x| x == c)));
    }

    fn drop_table(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let t = self.tables.remove(i);
        self.forget_views(&t.name, None);
        Some(format!("DROP TABLE soak.{} CASCADE", t.name))
    }

    fn rename_table(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let new = self.name("t");
        let old = std::mem::replace(&mut self.tables[i].name, new.clone());
        for v in self.views.iter_mut().filter(|v| v.table == old) {
            v.table = new.clone();
        }
        Some(format!("ALTER TABLE soak.{old} RENAME TO {new}"))
    }

    /// DROP and CREATE under the same name in one transaction: new OIDs.
    fn recreate_table(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let name = self.tables[i].name.clone();
        self.forget_views(&name, None);
        let t = &mut self.tables[i];
        t.indexes.clear();
        t.constraints.clear();
        if t.cols.len() > 1 && self.rng.one_in(2) {
            t.cols.pop();
        }
        Some(format!(
            "DROP TABLE soak.{name} CASCADE; {}",
            Self::table_sql(&self.tables[i])
        ))
    }

    fn add_column(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let c = Col {
            name: self.name("c"),
            ty: self.random_ty(),
        };
        let default = match (&c.ty, self.rng.below(3)) {
            (Ty::Int | Ty::Big, 0) => " DEFAULT 7".to_string(),
            (Ty::Text, 0) => " DEFAULT 'x'".to_string(),
            _ => String::new(),
        };
        let sql = format!(
            "ALTER TABLE soak.{} ADD COLUMN {} {}{default}",
            self.tables[i].name,
            c.name,
            c.ty.sql()
        );
        self.tables[i].cols.push(c);
        Some(sql)
    }

    fn drop_column(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].cols.len())?;
        let t = &mut self.tables[i];
        let c = t.cols.remove(j).name;
        t.indexes.retain(|(_, col)| *col != c);
        t.constraints.retain(|(_, col)| *col != c);
        let table = t.name.clone();
        self.forget_views(&table, Some(&c));
        Some(format!("ALTER TABLE soak.{table} DROP COLUMN {c} CASCADE"))
    }

    fn rename_column(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].cols.len())?;
        let new = self.name("c");
        let t = &mut self.tables[i];
        let old = std::mem::replace(&mut t.cols[j].name, new.clone());
        for (_, col) in t.indexes.iter_mut().chain(t.constraints.iter_mut()) {
            if *col == old {
                *col = new.clone();
            }
        }
        let table = t.name.clone();
        for v in self.views.iter_mut().filter(|v| v.table == table) {
            for col in v.cols.iter_mut().filter(|c| **c == old) {
                *col = new.clone();
            }
        }
        Some(format!(
            "ALTER TABLE soak.{table} RENAME COLUMN {old} TO {new}"
        ))
    }

    /// A default, NOT NULL, a type widened, or statistics.
    fn alter_column(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].cols.len())?;
        let (table, col) = (self.tables[i].name.clone(), self.tables[i].cols[j].clone());
        let in_view = self
            .views
            .iter()
            .any(|v| v.table == table && v.cols.contains(&col.name));
        let what = match (self.rng.below(5), &col.ty) {
            (0, Ty::Int) if !in_view => {
                self.tables[i].cols[j].ty = Ty::Big;
                "TYPE bigint".to_string()
            }
            (1, Ty::Int | Ty::Big) => format!("SET DEFAULT {}", self.rng.below(100)),
            (1, Ty::Text) => "SET DEFAULT 'y'".into(),
            (2, _) => "DROP DEFAULT".into(),
            (3, _) => ["SET NOT NULL", "DROP NOT NULL"][self.rng.below(2)].into(),
            _ => format!("SET STATISTICS {}", 100 + self.rng.below(400)),
        };
        Some(format!(
            "ALTER TABLE soak.{table} ALTER COLUMN {} {what}",
            col.name
        ))
    }

    fn create_index(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].cols.len())?;
        let name = self.name("i");
        let col = self.tables[i].cols[j].clone();
        let key = match (&col.ty, self.rng.below(3)) {
            (Ty::Text, 0) => format!("(lower({}))", col.name),
            (_, 1) => format!("({}) WHERE {} IS NOT NULL", col.name, col.name),
            _ => format!("({})", col.name),
        };
        let t = &mut self.tables[i];
        t.indexes.push((name.clone(), col.name));
        Some(format!("CREATE INDEX {name} ON soak.{} {key}", t.name))
    }

    fn drop_index(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].indexes.len())?;
        let (name, _) = self.tables[i].indexes.remove(j);
        Some(format!("DROP INDEX soak.{name}"))
    }

    fn rename_index(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].indexes.len())?;
        let new = self.name("i");
        let old = std::mem::replace(&mut self.tables[i].indexes[j].0, new.clone());
        Some(format!("ALTER INDEX soak.{old} RENAME TO {new}"))
    }

    fn add_constraint(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].cols.len())?;
        let name = self.name("k");
        let col = self.tables[i].cols[j].clone();
        let def = match (&col.ty, self.rng.below(3)) {
            (Ty::Int | Ty::Big, 0) => format!("CHECK ({} > 0)", col.name),
            (Ty::Text, 0) => format!("CHECK (length({}) < 100) NOT VALID", col.name),
            (_, 1) => format!("UNIQUE ({})", col.name),
            _ => format!("CHECK ({} IS NOT NULL)", col.name),
        };
        let t = &mut self.tables[i];
        t.constraints.push((name.clone(), col.name));
        Some(format!(
            "ALTER TABLE soak.{} ADD CONSTRAINT {name} {def}",
            t.name
        ))
    }

    fn drop_constraint(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].constraints.len())?;
        let (name, _) = self.tables[i].constraints.remove(j);
        Some(format!(
            "ALTER TABLE soak.{} DROP CONSTRAINT {name}",
            self.tables[i].name
        ))
    }

    fn rename_constraint(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let j = self.pick(self.tables[i].constraints.len())?;
        let new = self.name("k");
        let old = std::mem::replace(&mut self.tables[i].constraints[j].0, new.clone());
        Some(format!(
            "ALTER TABLE soak.{} RENAME CONSTRAINT {old} TO {new}",
            self.tables[i].name
        ))
    }

    fn create_view(&mut self) -> Option<String> {
        let i = self.pick(self.tables.len())?;
        let t = self.tables[i].clone();
        let mut cols = vec!["id".to_string()];
        if let Some(j) = self.pick(t.cols.len()) {
            cols.push(t.cols[j].name.clone());
        }
        let name = self.name("v");
        let sql = format!(
            "CREATE VIEW soak.{name} AS SELECT {} FROM soak.{} WHERE id > {}",
            cols.join(", "),
            t.name,
            self.rng.below(10)
        );
        self.views.push(View {
            name,
            table: t.name,
            outs: cols.clone(),
            cols,
        });
        Some(sql)
    }

    /// CREATE OR REPLACE VIEW with the same columns and another filter.
    fn replace_view(&mut self) -> Option<String> {
        let i = self.pick(self.views.len())?;
        let v = &self.views[i];
        let select = v
            .cols
            .iter()
            .zip(&v.outs)
            .map(|(c, o)| format!("{c} AS {o}"))
            .collect::<Vec<_>>();
        Some(format!(
            "CREATE OR REPLACE VIEW soak.{} AS SELECT {} FROM soak.{} WHERE id > {}",
            v.name,
            select.join(", "),
            v.table,
            10 + self.rng.below(90)
        ))
    }

    fn drop_view(&mut self) -> Option<String> {
        let i = self.pick(self.views.len())?;
        let v = self.views.remove(i);
        Some(format!("DROP VIEW soak.{}", v.name))
    }

    fn rename_view(&mut self) -> Option<String> {
        let i = self.pick(self.views.len())?;
        let new = self.name("v");
        let old = std::mem::replace(&mut self.views[i].name, new.clone());
        Some(format!("ALTER VIEW soak.{old} RENAME TO {new}"))
    }

    /// A new function, or a body replaced, or one renamed.
    fn function(&mut self) -> String {
        match self.pick(self.functions.len()) {
            Some(i) if self.rng.one_in(3) => {
                let new = self.name("f");
                let old = std::mem::replace(&mut self.functions[i], new.clone());
                format!("ALTER FUNCTION soak.{old}(int) RENAME TO {new}")
            }
            Some(i) if self.rng.one_in(2) => format!(
                "CREATE OR REPLACE FUNCTION soak.{}(n int) RETURNS int LANGUAGE sql AS 'SELECT n + {}'",
                self.functions[i],
                self.rng.below(1000)
            ),
            _ => {
                let name = self.name("f");
                self.functions.push(name.clone());
                format!("CREATE FUNCTION soak.{name}(n int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT n'")
            }
        }
    }

    fn drop_function(&mut self) -> Option<String> {
        let i = self.pick(self.functions.len())?;
        let f = self.functions.remove(i);
        Some(format!("DROP FUNCTION soak.{f}(int)"))
    }

    /// A new enum, or a value added to one.
    fn enum_type(&mut self) -> String {
        match self.pick(self.enums.len()) {
            Some(i) if self.rng.one_in(2) => {
                let value = self.name("x");
                format!("ALTER TYPE soak.{} ADD VALUE '{value}'", self.enums[i])
            }
            _ => {
                let name = self.name("e");
                self.enums.push(name.clone());
                format!("CREATE TYPE soak.{name} AS ENUM ('a', 'b')")
            }
        }
    }

    /// A comment set or removed on a table, column, index, view or function.
    fn comment(&mut self) -> Option<String> {
        let text = if self.rng.one_in(2) {
            "NULL".to_string()
        } else {
            format!("'note {}'", self.rng.below(1000))
        };
        let target = match self.rng.below(5) {
            0 => {
                let i = self.pick(self.tables.len())?;
                format!("TABLE soak.{}", self.tables[i].name)
            }
            1 => {
                let i = self.pick(self.tables.len())?;
                let j = self.pick(self.tables[i].cols.len())?;
                format!(
                    "COLUMN soak.{}.{}",
                    self.tables[i].name, self.tables[i].cols[j].name
                )
            }
            2 => {
                let i = self.pick(self.tables.len())?;
                let j = self.pick(self.tables[i].indexes.len())?;
                format!("INDEX soak.{}", self.tables[i].indexes[j].0)
            }
            3 => {
                let i = self.pick(self.views.len())?;
                format!("VIEW soak.{}", self.views[i].name)
            }
            _ => {
                let i = self.pick(self.functions.len())?;
                format!("FUNCTION soak.{}(int)", self.functions[i])
            }
        };
        Some(format!("COMMENT ON {target} IS {text}"))
    }

    /// A grant or revoke on a table, a column or a function.
    fn grant(&mut self) -> Option<String> {
        let revoke = self.rng.one_in(2);
        Some(match self.rng.below(3) {
            0 => {
                let i = self.pick(self.tables.len())?;
                let t = &self.tables[i].name;
                if revoke {
                    format!("REVOKE ALL ON soak.{t} FROM dw_reader")
                } else {
                    format!("GRANT SELECT, INSERT ON soak.{t} TO dw_reader")
                }
            }
            1 => {
                let i = self.pick(self.tables.len())?;
                let j = self.pick(self.tables[i].cols.len())?;
                let (t, c) = (&self.tables[i].name, &self.tables[i].cols[j].name);
                if revoke {
                    format!("REVOKE UPDATE ({c}) ON soak.{t} FROM dw_reader")
                } else {
                    format!("GRANT UPDATE ({c}) ON soak.{t} TO dw_reader")
                }
            }
            _ => {
                let i = self.pick(self.functions.len())?;
                let f = &self.functions[i];
                if revoke {
                    format!("REVOKE EXECUTE ON FUNCTION soak.{f}(int) FROM PUBLIC")
                } else {
                    format!("GRANT EXECUTE ON FUNCTION soak.{f}(int) TO PUBLIC")
                }
            }
        })
    }

    /// A table's or function's owner changed.
    fn owner(&mut self) -> Option<String> {
        let to = ["soak_owner", "postgres"][self.rng.below(2)];
        if self.rng.one_in(3) {
            let i = self.pick(self.functions.len())?;
            return Some(format!(
                "ALTER FUNCTION soak.{}(int) OWNER TO {to}",
                self.functions[i]
            ));
        }
        let i = self.pick(self.tables.len())?;
        Some(format!(
            "ALTER TABLE soak.{} OWNER TO {to}",
            self.tables[i].name
        ))
    }

    /// Catalogs rewritten or frozen between scans.
    fn maintenance(&mut self) -> String {
        [
            "VACUUM FULL pg_class",
            "VACUUM FREEZE pg_attribute",
            "VACUUM FULL pg_description",
            "VACUUM FREEZE pg_depend",
            "VACUUM FULL pg_constraint",
        ][self.rng.below(5)]
        .to_string()
    }
}
