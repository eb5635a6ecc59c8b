//! CREATE INDEX migrations: multi-column, partial, expression, GIN and
//! unique indexes.

use super::model::{Col, Index, Ty};
use super::Gen;

impl Gen {
    pub(super) fn index_migration(&mut self) -> String {
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
}
