//! Data migrations: INSERT … SELECT generate_series, UPDATE, REFRESH.

use super::model::{Col, Ty, ViewKind};
use super::Gen;

impl Gen {
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

    pub(super) fn data_migration(&mut self) -> String {
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
