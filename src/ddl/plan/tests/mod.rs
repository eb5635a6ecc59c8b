//! The planner on small snapshots built by hand, with no database: a few
//! assertions here, and per kind the full SQL of add, drop, alter and
//! rename cases as insta snapshots. The round trip through real servers
//! (tests/check/round_trip.rs, tests/plan_converge.rs, tests/conformance.rs)
//! stays the oracle of what the SQL does.

use super::*;
use crate::model::{Column, Table};

// The per-kind cases: one file per kind, their insta snapshots in
// `snapshots/` beside them. `support` comes first: its `case!` macro is
// used by the others.
#[macro_use]
mod support;
mod collations;
mod columns;
mod comments;
mod constraints;
mod event_triggers;
mod extensions;
mod foreign_data;
mod functions;
mod indexes;
mod materialized_views;
mod ordering;
mod ownership;
mod partitions;
mod policies;
mod privileges;
mod publications;
mod renames;
mod schemas;
mod sequences;
mod statistics;
mod tables;
mod triggers;
mod types;
mod views;

fn column(name: &str, position: u32, data_type: &str) -> Column {
    serde_json::from_value(serde_json::json!({
        "name": name, "position": position, "type": data_type
    }))
    .expect("a column")
}

fn table(name: &str, columns: Vec<Column>) -> Table {
    let mut t: Table = serde_json::from_value(serde_json::json!({
        "schema": "app", "name": name, "kind": "table", "owner": "app"
    }))
    .expect("a table");
    t.columns = columns;
    t
}

fn objects(tables: Vec<Table>) -> crate::model::Snapshot {
    crate::model::Snapshot::new(
        crate::model::Meta::default(),
        Objects {
            tables,
            ..Objects::default()
        },
    )
}

#[test]
fn a_dropped_column_is_commented_out_unless_drops_are_allowed() {
    let a = objects(vec![table(
        "orders",
        vec![column("id", 1, "bigint"), column("note", 2, "text")],
    )]);
    let b = objects(vec![table(
        "orders",
        vec![
            column("id", 1, "bigint"),
            column("total", 2, "numeric(12,2)"),
        ],
    )]);
    let p = plan(&a, &b, &PlanOptions::default());
    let sql = p.to_sql();
    assert!(
        sql.contains("-- ALTER TABLE app.orders DROP COLUMN note;"),
        "{sql}"
    );
    assert!(sql.contains("-- hazard: deletes-data"), "{sql}");
    assert!(
        sql.contains("\nALTER TABLE app.orders ADD COLUMN total numeric(12,2);"),
        "{sql}"
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("--allow-drops")),
        "{:?}",
        p.warnings
    );
    let allowed = plan(
        &a,
        &b,
        &PlanOptions {
            allow_drops: true,
            ..PlanOptions::default()
        },
    );
    assert!(allowed
        .to_sql()
        .contains("\nALTER TABLE app.orders DROP COLUMN note;"));
    assert!(plan(&a, &a, &PlanOptions::default()).is_empty());
}

#[test]
fn every_statement_parses() {
    let a = objects(vec![table("orders", vec![column("id", 1, "bigint")])]);
    let b = objects(vec![
        table("orders", vec![column("id", 1, "integer")]),
        table("lines", vec![column("order_id", 1, "bigint")]),
    ]);
    let p = plan(
        &a,
        &b,
        &PlanOptions {
            allow_drops: true,
            ..PlanOptions::default()
        },
    );
    for s in &p.statements {
        pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT)
            .unwrap_or_else(|e| panic!("{}: {e}", s.sql));
    }
    assert!(p
        .statements
        .iter()
        .any(|s| s.hazards == [Hazard::ChangesType]));
}

/// OWNED BY text from a snapshot is read back into its three names, and a
/// name that is not three identifiers (text a hostile snapshot file could
/// hold) is refused rather than pasted into SQL.
#[test]
fn owned_by_reads_back_quoted_names_and_refuses_anything_else() {
    use super::others::OwnerColumn;
    let o = OwnerColumn::parse(r#"public."shop ""orders"""."a.b""#).expect("three names");
    assert_eq!(
        (o.schema.as_str(), o.table.as_str(), o.column.as_str()),
        ("public", "shop \"orders\"", "a.b")
    );
    assert_eq!(o.sql(), r#"public."shop ""orders"""."a.b""#);
    assert_eq!(
        OwnerColumn::parse("app.t.id").expect("plain").sql(),
        "app.t.id"
    );
    for bad in [
        "app.t",
        "app.t.id; DROP TABLE x",
        "app.t.\"id",
        "a.b.c.d",
        "app..id",
        "",
    ] {
        assert_eq!(OwnerColumn::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_generated_column_is_added_after_the_column_it_reads_is_retyped() {
    let a = objects(vec![table(
        "accounts",
        vec![column("id", 1, "bigint"), column("email", 2, "varchar(50)")],
    )]);
    let mut domain = column("domain", 3, "text");
    domain.details_mut().generated = Some("split_part((email)::text, '@'::text, 2)".into());
    let b = objects(vec![table(
        "accounts",
        vec![
            column("id", 1, "bigint"),
            column("email", 2, "varchar(100)"),
            domain,
            column("note", 4, "text"),
        ],
    )]);
    let sql = plan(&a, &b, &PlanOptions::default()).to_sql();
    let retype = sql.find("ALTER COLUMN email TYPE").expect(&sql);
    let add = sql.find("ADD COLUMN domain").expect(&sql);
    assert!(retype < add, "PostgreSQL refuses the retype after:\n{sql}");
    let note = sql.find("ADD COLUMN note").expect(&sql);
    assert!(add < note, "columns keep their order:\n{sql}");
}
