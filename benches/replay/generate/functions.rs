//! Function migrations (plpgsql and SQL) and the touch and audit triggers.

use super::model::{Func, FuncKind, Ty};
use super::Gen;

impl Gen {
    pub(super) fn func_migration(&mut self) -> String {
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

    pub(super) fn func_op(&mut self) -> Option<String> {
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

    pub(super) fn touch_trigger(&mut self, t: usize) {
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

    pub(super) fn audit_trigger(&mut self, t: usize) {
        let name = self.tables[t].name.clone();
        let trg = self.claim_cons(t, &format!("{name}_audit"));
        self.stmt(format!(
            "CREATE TRIGGER {trg} AFTER INSERT OR UPDATE OR DELETE ON {}\n  FOR EACH ROW EXECUTE FUNCTION audit.log_change()",
            self.qt(t)
        ));
        self.tables[t].audit = true;
    }
}
