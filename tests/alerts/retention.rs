//! What the store keeps: `keep_live` live snapshots and the newest 50
//! reports per target; nothing else is removed with them.

use super::mail::WebhookServer;
use super::*;
use std::collections::BTreeSet;

/// The file names in `dir` (not recursive), sorted.
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the clock's second is past the last scan's (records are
/// named by the second), so each scan below makes a file of its own.
fn after_last_scan(s: &Scene) {
    let text = std::fs::read_to_string(s.target_dir().join("scans.jsonl")).unwrap_or_default();
    let Some(last) = text.lines().last() else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    let last: jiff::Timestamp = v["time"].as_str().unwrap().parse().unwrap();
    while jiff::Timestamp::now().as_second() <= last.as_second() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn keep_live_and_the_report_limit_trim_only_their_own_files() {
    let hook = WebhookServer::start();
    let s = Scene::demo().await;
    std::fs::write(
        s.config_path(),
        format!(
            "[store]\npath = \"store\"\nkeep_live = 2\n\n[webhooks.ops]\nurl = \"{}\"\n\n\
             [[target]]\nname = \"shop\"\nurl = \"{}\"\nmigrations = \"{}\"\nwebhooks = [\"ops\"]\n",
            hook.url("/hook"),
            s.db.expose(),
            demo_dir().display()
        ),
    )
    .unwrap();
    assert_exit(&s.check(&[]), 0);
    let target = s.target_dir();
    let migrations = names(&target.join("migrations"));
    assert!(migrations.len() > 4, "{migrations:?}");

    // 50 older reports, and files of the user's beside them.
    let reports = target.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let old: Vec<String> = (0..50)
        .map(|i| format!("20000101T0000{i:02}Z.html"))
        .collect();
    for name in &old {
        std::fs::write(reports.join(name), "<p>old</p>").unwrap();
    }
    std::fs::write(reports.join("README.txt"), "ours").unwrap();
    std::fs::write(target.join("live/NOTES.md"), "ours").unwrap();

    // Four more live states, each alerted (a report each).
    let mut live_seen = names(&target.join("live"));
    for change in [
        ADD_INDEX,
        ADD_COLUMN,
        DROP_INDEX,
        "DROP INDEX shop.orders_status_idx",
    ] {
        after_last_scan(&s);
        s.sql(change).await;
        assert_exit(&s.check(&[]), 1);
        live_seen.extend(names(&target.join("live")));
    }
    assert_eq!(hook.wait_for(4, ARRIVES).len(), 4, "four alerts");

    // live/: the newest two snapshots of the five, and the user's file.
    let snapshots: Vec<&String> = live_seen.iter().filter(|n| n.ends_with(".json")).collect();
    assert_eq!(snapshots.len(), 5, "{live_seen:?}");
    let mut expected: BTreeSet<String> = snapshots[3..].iter().map(|n| n.to_string()).collect();
    expected.insert("NOTES.md".into());
    assert_eq!(names(&target.join("live")), expected);

    // reports/: the newest 50 (four new, 46 old), and the user's file.
    let now = names(&reports);
    let html: Vec<&String> = now.iter().filter(|n| n.ends_with(".html")).collect();
    assert_eq!(html.len(), 50, "{now:?}");
    assert!(now.contains("README.txt"));
    for name in &old[..4] {
        assert!(!now.contains(name), "{name} is among the oldest: removed");
    }
    for name in &old[4..] {
        assert!(now.contains(name), "{name} kept");
    }
    assert_eq!(html.iter().filter(|n| !n.starts_with("2000")).count(), 4);

    // Nothing else went: the replayed migrations, every scan, and every
    // stored snapshot still reads back whole.
    assert_eq!(names(&target.join("migrations")), migrations);
    let scans = std::fs::read_to_string(target.join("scans.jsonl")).unwrap();
    assert_eq!(scans.lines().count(), 5);
    let store = s.dir.path().join("store").display().to_string();
    let out = s.run(&["store", "verify", "--store", &store], &[]);
    assert_exit(&out, 0);
}
