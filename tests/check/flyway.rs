//! Flyway histories: clean, each kind of drift attributed, checksum, pending,
//! a migration under Flyway's lock, ignore rules, a config file, a fix.

use super::common::{driftwatch, exec};
use super::*;

#[tokio::test]
async fn each_out_of_band_change_is_one_attributed_finding_and_a_fix_makes_it_clean() {
    let w = Watched::migrated(&demo_dir(), None).await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean");
    assert_eq!(report["applied_version"], "4");
    assert_eq!(report["expected"]["from"], "replay");
    assert_eq!(report["findings"], serde_json::json!([]));

    exec(&w.db, OUT_OF_BAND).await;
    let (out, first) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(first["result"], "drift");
    assert_eq!(
        findings(&first),
        [
            "critical privilege-granted shop.customers by 1",
            "warning column-added shop.customers.nickname out-of-band",
            "warning function-body-changed shop.order_total(p_order_id bigint) by 3",
            "warning index-removed shop.orders.orders_status_idx by 2",
        ]
    );
    assert_eq!(
        first["counts"],
        serde_json::json!({"critical": 1, "warning": 3, "info": 0})
    );
    let grant = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "privilege-granted")
        .unwrap();
    assert!(
        grant["message"]
            .as_str()
            .unwrap()
            .contains("granted SELECT to PUBLIC"),
        "{grant}"
    );
    assert!(grant["ddl"]
        .as_str()
        .unwrap()
        .contains("+GRANT SELECT ON TABLE shop.customers TO PUBLIC;"));

    // Seen again: since stays at the first scan that had it.
    let (_, second) = w.check(&[]);
    for f in second["findings"].as_array().unwrap() {
        assert_eq!(f["since"], first["time"], "{f}");
    }
    let status = driftwatch(&[
        "status",
        "--store",
        &w.store.path().display().to_string(),
        "--format",
        "json",
    ]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status[0]["drift_since"], first["time"]);
    assert_eq!(status[0]["scans"], 3);

    // The fix: each change undone.
    exec(
        &w.db,
        "CREATE INDEX orders_status_idx ON shop.orders (status) WHERE status <> 'done';
         ALTER TABLE shop.customers DROP COLUMN nickname;
         REVOKE SELECT ON shop.customers FROM PUBLIC;
         CREATE OR REPLACE FUNCTION shop.order_total(p_order_id bigint) RETURNS numeric LANGUAGE sql STABLE
         AS $$
    SELECT coalesce(sum(quantity * unit_price), 0)
      FROM shop.order_lines
     WHERE order_id = p_order_id
$$;",
    )
    .await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "clean", "{report}");
    let results: Vec<String> = w
        .scans()
        .iter()
        .map(|s| s["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(results, ["clean", "drift", "drift", "clean"]);
}

#[tokio::test]
async fn an_applied_migration_edited_afterwards_is_a_checksum_finding() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let w = Watched::migrated(dir.path(), None).await;
    let v2 = dir.path().join("V2__order_lines.sql");
    let text = std::fs::read_to_string(&v2).unwrap();
    std::fs::write(&v2, format!("-- reviewed\n{text}")).unwrap();
    let (out, report) = w.check(&[]);
    assert_exit(&out, 1);
    assert_eq!(findings(&report), ["warning checksum-changed 2 -"]);
    let f = &report["findings"][0];
    assert!(
        f["migration"]["file"]
            .as_str()
            .unwrap()
            .ends_with("V2__order_lines.sql"),
        "{f}"
    );
}

#[tokio::test]
async fn pending_migrations_are_not_drift() {
    let w = Watched::migrated(&demo_dir(), Some(3)).await;
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "notice");
    assert_eq!(report["applied_version"], "3");
    assert_eq!(report["expected"]["source"], "store:t@3:after");
    assert_eq!(findings(&report), ["info pending 4 -"]);
}

#[tokio::test]
async fn a_migration_holding_flyways_lock_is_in_progress_not_drift() {
    let w = Watched::migrated(&demo_dir(), None).await;
    exec(&w.db, OUT_OF_BAND).await;
    // What Flyway does by default: a transaction-level advisory lock on its key.
    let key = driftwatch::check::locks::flyway_key("public", "flyway_schema_history");
    let mut flyway = w.db.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut flyway).await.unwrap();
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(key)
        .fetch_one(&mut flyway)
        .await
        .unwrap();
    assert!(taken);
    let (out, report) = w.check(&[]);
    assert_exit(&out, 0);
    assert_eq!(report["result"], "migration-in-progress");
    assert_eq!(findings(&report), ["info migration-in-progress - -"]);
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&key.to_string()));
    sqlx::raw_sql("COMMIT").execute(&mut flyway).await.unwrap();
    let (out, _) = w.check(&[]);
    assert_exit(&out, 1);
}

#[tokio::test]
async fn ignore_rules_and_fail_on_come_from_the_config_file() {
    let w = Watched::migrated(&demo_dir(), None).await;
    exec(&w.db, OUT_OF_BAND).await;
    let config = w.store.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\nkeep_live = 2\n\n[[target]]\nname = \"shop\"\nurl = \"env:DW_TEST_SHOP_URL\"\nmigrations = \"{}\"\nschemas = [\"shop\"]\nignore = [\"kind:privilege\", \"column:shop.customers.*\"]\nfail_on = \"critical\"\n",
            demo_dir().display()
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--shadow-url",
        ];
        let shadow_url = shadow().admin_url().expose().to_string();
        args.push(&shadow_url);
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
            .args(&args)
            .env("DW_TEST_SHOP_URL", w.db.expose())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    // Only warnings remain, and the target fails on critical: exit 0.
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["target"], "shop");
    assert_eq!(
        findings(&report),
        [
            "warning function-body-changed shop.order_total(p_order_id bigint) by 3",
            "warning index-removed shop.orders.orders_status_idx by 2",
        ]
    );
    assert!(w.store.path().join("store/shop/scans.jsonl").is_file());
    // The command line's --fail-on wins over the file's.
    assert_exit(&run(&["--fail-on", "warning"]), 1);

    // Two targets: --all scans both (a JSON array), the exit code is the
    // worst; without --target or --all a config of several is refused.
    let two = std::fs::read_to_string(&config).unwrap()
        + &format!(
            "\n[[target]]\nname = \"shop-strict\"\nurl = \"env:DW_TEST_SHOP_URL\"\nmigrations = \"{}\"\n",
            demo_dir().display()
        );
    std::fs::write(&config, two).unwrap();
    let out = run(&["--all"]);
    assert_exit(&out, 1);
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop", "shop-strict"]);
    assert_eq!(reports[1]["findings"].as_array().unwrap().len(), 4);
    super::common::assert_one_line_error(&run(&[]), "has 2 targets", "");
    assert_exit(&run(&["--target", "shop"]), 0);

    // An unknown key: its name and line, exit 2, nothing scanned.
    std::fs::write(
        &config,
        "[[target]]\nname = \"shop\"\nurl = \"postgres://x/y\"\nshedule = \"@daily\"\n",
    )
    .unwrap();
    let out = run(&[]);
    super::common::assert_one_line_error(&out, "driftwatch.toml:4: unknown field `shedule`", "");
}

#[tokio::test]
async fn a_directory_that_is_not_the_targets_is_one_finding() {
    let w = Watched::migrated(&demo_dir(), None).await;
    let mut wrong = Watched::on(
        w.db.clone(),
        Some(repo().join("fixtures/tools/sqlx/migrations")),
    );
    wrong.name = "wrong".into();
    let (out, report) = wrong.check(&["--history", "flyway"]);
    assert_exit(&out, 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["findings"][0]["code"], "history-matches-no-file");
}

/// After a baseline the expected state is the accepted schema, yet the
/// replayed migrations before it still say who last touched a drifted
/// object, and the headline says what the live schema was compared with.
#[tokio::test]
async fn drift_after_a_baseline_is_attributed_and_named_after_the_baseline() {
    let w = Watched::migrated(&demo_dir(), None).await;
    let config = w.store.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n\n[[target]]\nname = \"t\"\nurl = \"{}\"\nmigrations = \"{}\"\n",
            w.store.path().display(),
            w.db.expose(),
            demo_dir().display()
        ),
    )
    .unwrap();
    let shadow_url = shadow().admin_url().expose().to_string();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "--config",
            config.to_str().unwrap(),
            "--shadow-url",
            &shadow_url,
        ]);
        driftwatch(&all)
    };
    // An out-of-band column, accepted.
    exec(&w.db, "ALTER TABLE shop.customers ADD COLUMN nickname text").await;
    let out = run(&["baseline", "--reason", "the nickname stays", "--yes"]);
    assert_exit(&out, 0);
    let (out, report) = {
        let out = run(&["check", "--format", "json"]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out, report)
    };
    assert_exit(&out, 0);
    assert_eq!(report["expected"]["from"], "baseline", "{report}");

    // Then drift on an index that migration 2 made.
    exec(&w.db, "DROP INDEX shop.orders_status_idx").await;
    let out = run(&["check", "--format", "json"]);
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["expected"]["from"], "baseline", "{report}");
    assert_eq!(
        findings(&report),
        ["warning index-removed shop.orders.orders_status_idx by 2"]
    );
    let out = run(&["check", "--color", "never"]);
    assert_exit(&out, 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\ndrift: the live schema differs from the accepted baseline: 0 critical, 1 warning, 0 info\n"),
        "{text}"
    );
    assert!(
        text.contains("attribution: last touched by migration 2 (order lines)"),
        "{text}"
    );
    assert!(!text.contains("unknown (no replayed history)"), "{text}");
}
