//! Enum, grant, rename and drop migrations.

use super::model::{Col, EnumTy, FuncKind, Ty, ViewKind};
use super::vocab::{NEW_ENUMS, RENAMES};
use super::Gen;

impl Gen {
    pub(super) fn enum_migration(&mut self) -> String {
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

    pub(super) fn grants_migration(&mut self) -> String {
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

    pub(super) fn rename_migration(&mut self) -> String {
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

    pub(super) fn drop_migration(&mut self) -> String {
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
}
