//! ALTER TABLE migrations: columns added, defaults, checks, foreign keys,
//! generated columns, widened types, storage and NOT NULL.

use super::model::{ident, singular, Col, Index, Ty};
use super::vocab::FREE_COLS;
use super::Gen;

impl Gen {
    pub(super) fn alter_migration(&mut self) -> String {
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
}
