//! The snapshot text is the store's content address and every fingerprint:
//! a change to how the model holds its data in memory must not move one
//! byte of it. These tests pin that text for objects with every optional
//! field set and with none, and re-read the objects of the checked-in demo
//! store (written by earlier versions) byte for byte.

use super::*;
use sha2::{Digest, Sha256};

/// A table whose columns, constraints, indexes, triggers, policies and
/// rules set every field, in serde_json's compact text (canonical order).
const FULL_TABLE: &str = concat!(
    r#"{"schema":"s","name":"t","kind":"table","owner":"o","unlogged":true,"#,
    r#""partition_by":"RANGE (a)","partition_of":"s.p","partition_bound":"DEFAULT","#,
    r#""inherits":["s.base"],"row_security":true,"force_row_security":true,"#,
    r#""replica_identity":"full","cluster_on":"t_idx","access_method":"am","#,
    r#""tablespace":"ts","options":["fillfactor=80"],"server":"srv","#,
    r#""server_options":["a 'b'"],"comment":"c\"\n\u0001é","#,
    r#""acl":[{"grantee":"o","privileges":["SELECT","INSERT"],"grantable":["SELECT"],"grantor":"o"},"#,
    r#"{"grantee":"PUBLIC","privileges":["SELECT"],"grantor":"o"}],"#,
    r#""columns":[{"name":"a","position":1,"type":"character varying(10)","collation":"pg_catalog.\"C\"","#,
    r#""not_null":true,"not_null_name":"a_nn","not_null_valid":false,"not_null_no_inherit":true,"#,
    r#""default":"'x'::character varying","identity":{"generation":"always","sequence":{"#,
    r#""data_type":"bigint","start":1,"increment":2,"min":-9223372036854775808,"#,
    r#""max":9223372036854775807,"cache":20,"cycle":true}},"generated":"(b * 2)","#,
    r#""virtual":true,"inherited":true,"statistics_target":500,"storage":"plain","#,
    r#""compression":"lz4","options":["n_distinct=5"],"server_options":["column_name 'x'"],"#,
    r#""comment":"col","acl":[{"grantee":"r","privileges":["UPDATE"],"grantor":"o"}]},"#,
    r#"{"name":"b","position":2,"type":"integer"}],"#,
    r#""constraints":[{"name":"k","type":"foreign-key","columns":["a","b"],"include":["c"],"#,
    r#""nulls_not_distinct":true,"expression":"CHECK (a > 0)","references":{"table":"s.u","#,
    r#""columns":["x","y"],"on_update":"cascade","on_delete":"set-null","#,
    r#""on_delete_columns":["a"],"period":true,"match":"full"},"deferrable":true,"#,
    r#""initially_deferred":true,"validated":false,"not_enforced":true,"#,
    r#""triggers_disabled":true,"without_overlaps":true,"no_inherit":true,"#,
    r#""inherited":true,"comment":"k"},{"name":"pk","type":"primary-key","columns":["b"],"validated":true}],"#,
    r#""indexes":[{"name":"i","unique":true,"method":"btree","keys":["a DESC"],"#,
    r#""include":["b"],"nulls_not_distinct":true,"predicate":"(b > 0)","#,
    r#""options":["fillfactor=70"],"tablespace":"ts","partition_of":"s.pi","valid":false,"#,
    r#""comment":"i"},{"name":"j","method":"hash","keys":["b"]}],"#,
    r#""triggers":[{"name":"tg","timing":"before","events":["insert","update of a"],"#,
    r#""level":"row","function":"s.f()","arguments":["x"],"when":"(new.a IS NOT NULL)","#,
    r#""constraint":true,"deferrable":true,"initially_deferred":true,"old_table":"o","#,
    r#""new_table":"n","enabled":"origin","comment":"tg"}],"#,
    r#""policies":[{"name":"p","command":"all","permissive":false,"roles":["PUBLIC"],"#,
    r#""using":"true","with_check":"(a IS NULL)","comment":"p"}],"#,
    r#""rules":[{"name":"r","definition":"CREATE RULE r AS ON DELETE TO s.t DO INSTEAD NOTHING;","#,
    r#""enabled":"origin","comment":"r"}]}"#
);

/// A table with nothing optional set.
const BARE_TABLE: &str = concat!(
    r#"{"schema":"s","name":"bare","kind":"table","owner":"o","acl":[],"#,
    r#""columns":[{"name":"x","position":1,"type":"text"}]}"#
);

/// A view and a materialized view with their columns.
const VIEWS: &str = concat!(
    r#"{"views":[{"schema":"s","name":"v","definition":" SELECT 1;","options":["security_barrier=true"],"#,
    r#""owner":"o","comment":"v","acl":[],"columns":[{"name":"a","position":1,"type":"integer","#,
    r#""default":"0","comment":"va"}],"triggers":[{"name":"tv","timing":"instead-of","events":["insert"],"#,
    r#""level":"row","function":"s.f()","enabled":"origin"}]}],"#,
    r#""materialized_views":[{"schema":"s","name":"m","definition":" SELECT 1 AS a;","#,
    r#""options":["fillfactor=50"],"tablespace":"ts","access_method":"heap2","owner":"o","#,
    r#""acl":[],"columns":[{"name":"a","position":1,"type":"integer"}],"#,
    r#""indexes":[{"name":"mi","method":"btree","keys":["a"]}]}]}"#
);

#[test]
fn every_field_of_a_table_reads_back_to_the_same_text() {
    for text in [FULL_TABLE, BARE_TABLE] {
        let table: Table = serde_json::from_str(text).expect("a table");
        assert_eq!(serde_json::to_string(&table).unwrap(), text);
        let again: Table = serde_json::from_str(&serde_json::to_string(&table).unwrap()).unwrap();
        assert_eq!(again, table);
    }
    let views: serde_json::Value = serde_json::from_str(VIEWS).unwrap();
    let view: View = serde_json::from_value(views["views"][0].clone()).unwrap();
    let matview: MaterializedView =
        serde_json::from_value(views["materialized_views"][0].clone()).unwrap();
    let written = format!(
        r#"{{"views":[{}],"materialized_views":[{}]}}"#,
        serde_json::to_string(&view).unwrap(),
        serde_json::to_string(&matview).unwrap()
    );
    assert_eq!(written, VIEWS);
}

/// The snapshot file and the fingerprint of these objects, as the version
/// before the compact column model wrote them.
#[test]
fn the_snapshot_text_and_fingerprint_are_pinned() {
    let mut objects = Objects::default();
    objects
        .tables
        .push(serde_json::from_str(FULL_TABLE).unwrap());
    objects
        .tables
        .push(serde_json::from_str(BARE_TABLE).unwrap());
    let views: serde_json::Value = serde_json::from_str(VIEWS).unwrap();
    objects
        .views
        .push(serde_json::from_value(views["views"][0].clone()).unwrap());
    objects
        .materialized_views
        .push(serde_json::from_value(views["materialized_views"][0].clone()).unwrap());
    let snapshot = Snapshot::new(Meta::default(), objects);
    let text = snapshot.to_json();
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        (snapshot.fingerprint.as_str(), hex.as_str(), text.len()),
        (
            "sha256:6ae36a5d9f2cf14423fe06a980ed0ccf4f658add708be4585a5c1eefd0eefd94",
            "1a7e15133ab491cf3d96b4ca880055f64887e9fb777500c69371b77951b087eb",
            6259
        )
    );
}

/// Every table and view the demo store holds (written by earlier versions,
/// each named by the SHA-256 of its compact text) reads back to the text
/// its name says.
#[test]
fn the_demo_stores_objects_read_back_to_their_content_address() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/demo/objects");
    let mut checked = 0;
    for shard in std::fs::read_dir(&dir).expect("the demo store") {
        let shard = shard.unwrap();
        let prefix = shard.file_name().to_string_lossy().to_string();
        for file in std::fs::read_dir(shard.path()).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let compact = if value.get("kind").is_some() && value.get("columns").is_some() {
                serde_json::to_vec(&serde_json::from_str::<Table>(&text).unwrap())
            } else if value.get("definition").is_some() && value.get("columns").is_some() {
                serde_json::to_vec(&serde_json::from_str::<View>(&text).unwrap())
            } else {
                continue;
            };
            let hex: String = Sha256::digest(compact.unwrap())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            assert_eq!(hex, format!("{prefix}{stem}"), "{}", path.display());
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "only {checked} tables and views in the demo store"
    );
}

/// A 10,000-table schema holds about 100,000 columns, and `check` and
/// `diff` hold two snapshots at once: a column's size is a megabyte per
/// 10 bytes there. It was 408 bytes with every attribute inline.
#[test]
fn a_column_stays_small() {
    let size = std::mem::size_of::<Column>();
    assert!(size <= 176, "a column is {size} bytes");
    let column: Column =
        serde_json::from_str(r#"{"name":"a","position":1,"type":"text"}"#).unwrap();
    assert!(
        column.details.is_none(),
        "no details box for a plain column"
    );
}
