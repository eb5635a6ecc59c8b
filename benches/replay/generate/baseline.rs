//! Schemas, roles and the baseline migration (V1).

use super::model::{Col, EnumTy, Func, FuncKind, Index, Table, Ty};
use super::vocab::SCHEMAS;
use super::Gen;

impl Gen {
    /// CREATE SCHEMA (with its enum) for schemas that start at this version.
    pub(super) fn new_schemas(&mut self) -> Option<usize> {
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
    pub(super) fn roles(&mut self) {
        for role in ["dw_reader", "dw_writer"] {
            self.stmt(format!(
                "DO $$\nBEGIN\n  CREATE ROLE {role} NOLOGIN;\nEXCEPTION WHEN duplicate_object THEN\n  NULL;\nEND\n$$"
            ));
        }
        self.blank();
    }

    pub(super) fn baseline(&mut self) -> String {
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
        let mut table = Table::new(1, name, cols, 1);
        table.pinned = true;
        self.tables.push(table);
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
}
