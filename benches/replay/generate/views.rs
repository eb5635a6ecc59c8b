//! View migrations: simple, join, view-on-view, aggregate and materialized
//! views.

use super::model::{ident, singular, Index, Ty, View, ViewKind};
use super::Gen;

impl Gen {
    pub(super) fn view_migration(&mut self) -> String {
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

    pub(super) fn mark_used(&mut self, t: usize, cols: &[&str]) {
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
    pub(super) fn view_op(&mut self) -> Option<usize> {
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
}
