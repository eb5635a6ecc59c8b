//! The daemon's promises that only show under load or at the edges:
//! `max_concurrent_scans`, `shutdown_timeout`, `/healthz` while stopping
//! and while the scheduler stalls, and a reload's schedule and time zone.
//! Slow scans are real: a migration that sleeps in the shadow database
//! (the test cluster, through `--shadow-url`), where `pg_stat_activity`
//! shows each one.

use super::*;
use common::psql_rows;
use std::time::Duration;

/// A migration directory in golang-migrate's layout whose second
/// migration sleeps `secs` in the replay, its query marked with `marker`.
fn slow_migrations(dir: &Path, secs: u32, marker: &str) -> PathBuf {
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for (name, sql) in [
        (
            "1_items.up.sql",
            "CREATE TABLE items (id int PRIMARY KEY);\n".to_string(),
        ),
        ("1_items.down.sql", "DROP TABLE items;\n".to_string()),
        (
            "2_slow.up.sql",
            format!("SELECT pg_sleep({secs}) /* {marker} */;\n"),
        ),
        ("2_slow.down.sql", "SELECT 1;\n".to_string()),
    ] {
        std::fs::write(migrations.join(name), sql).unwrap();
    }
    migrations
}

/// A database that golang-migrate brought to version 2 of
/// [`slow_migrations`] (its history table as golang-migrate makes it).
async fn migrated_target() -> DatabaseUrl {
    let db = common::fresh_db().await;
    common::exec(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    )
    .await;
    db
}

/// Sessions whose query holds `marker`: (all of them, those running it).
fn sessions(marker: &str) -> (usize, usize) {
    let rows = psql_rows(
        &common::shadow().admin_url(),
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND query LIKE '%{marker}%'"
        ),
    );
    let (all, active) = rows[0].split_once('|').unwrap();
    (all.parse().unwrap(), active.parse().unwrap())
}

/// `--shadow-url` for the test cluster.
fn shadow_flag() -> [String; 2] {
    [
        "--shadow-url".into(),
        common::shadow().admin_url().expose().to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn no_more_than_max_concurrent_scans_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "dw_concurrency_probe";
    let migrations = slow_migrations(dir.path(), 2, marker);
    let addr = format!("127.0.0.1:{}", free_port());
    let mut text = format!(
        "[store]\npath = \"store\"\n\n[watch]\nschedule = \"* * * * * *\"\njitter = \"0s\"\n\
         max_concurrent_scans = 2\nlisten = \"{addr}\"\n\n"
    );
    let names = ["c1", "c2", "c3", "c4"];
    for name in names {
        let db = migrated_target().await;
        text.push_str(&format!(
            "[[target]]\nname = \"{name}\"\nurl = \"{}\"\nmigrations = \"{}\"\n\n",
            db.expose(),
            migrations.display()
        ));
    }
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(&config, text).unwrap();
    let store = dir.path().join("store");
    let flag = shadow_flag();
    let mut daemon = Daemon::start(
        &config,
        &dir.path().join("watch.log"),
        &[&flag[0], &flag[1]],
    );

    // Every target's first scan replays the sleeping migration: sample
    // the server and /metrics until all four have scanned.
    let (mut most_sleeping, mut most_in_flight) = (0, 0.0_f64);
    wait_until("a scan of every target", Duration::from_secs(60), || {
        most_sleeping = most_sleeping.max(sessions(marker).1);
        if let Ok(s) = std::net::TcpStream::connect(&addr) {
            drop(s);
            let (_, metrics) = http_get(&addr, "/metrics");
            let n = sample(&metrics, "driftwatch_scans_in_flight").unwrap_or(0.0);
            most_in_flight = most_in_flight.max(n);
        }
        names.iter().all(|n| !scans(&store, n).is_empty())
    });
    for name in names {
        assert_eq!(scans(&store, name)[0]["result"], "clean", "{name}");
    }
    assert_eq!(most_sleeping, 2, "two replays at once, never more");
    assert!(
        most_in_flight > 0.0 && most_in_flight <= 2.0,
        "driftwatch_scans_in_flight peaked at {most_in_flight}"
    );
    daemon.signal(Signal::SIGTERM);
    assert!(daemon
        .wait_exit(Duration::from_secs(15))
        .expect("exits")
        .success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_answers_503_then_cancels_a_stuck_scan_after_shutdown_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "dw_stuck_at_shutdown";
    let migrations = slow_migrations(dir.path(), 600, marker);
    let db = migrated_target().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[watch]\nschedule = \"* * * * * *\"\njitter = \"0s\"\n\
             shutdown_timeout = \"3s\"\nlisten = \"{addr}\"\n\n\
             [[target]]\nname = \"stuck\"\nurl = \"{}\"\nmigrations = \"{}\"\n",
            db.expose(),
            migrations.display()
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let flag = shadow_flag();
    let mut daemon = Daemon::start(
        &config,
        &dir.path().join("watch.log"),
        &[&flag[0], &flag[1]],
    );
    wait_until("the replay sleeping", Duration::from_secs(30), || {
        sessions(marker).1 == 1
    });
    assert_eq!(http_get(&addr, "/healthz"), (200, "ok\n".to_string()));

    // Stopping: /healthz says so while the scan may still finish.
    daemon.signal(Signal::SIGTERM);
    let mut answer = (0, String::new());
    wait_until("/healthz 503", Duration::from_secs(3), || {
        answer = http_get(&addr, "/healthz");
        answer.0 == 503
    });
    assert_eq!(answer.1, "shutting down\n");
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "still waiting for the scan"
    );

    // Past shutdown_timeout the scan is cancelled, and nothing of it stays:
    // no session on the shadow server, no shadow database, no scan record,
    // no temporary file, and the store reads back whole.
    let status = daemon
        .wait_exit(Duration::from_secs(3 + 10))
        .expect("exits after shutdown_timeout");
    assert!(status.success(), "{status:?}");
    assert_eq!(
        daemon
            .events_named("scans still running after shutdown_timeout: cancelled")
            .len(),
        1
    );
    assert_eq!(sessions(marker), (0, 0), "the replay's session is gone");
    let left = psql_rows(
        &common::shadow().admin_url(),
        &format!(
            "SELECT datname FROM pg_database WHERE datname LIKE 'driftwatch\\_replay\\_{}\\_%'",
            daemon.child.id()
        ),
    );
    assert!(left.is_empty(), "shadow databases left: {left:?}");
    assert!(
        scans(&store, "stuck").is_empty(),
        "a cancelled scan records nothing"
    );
    let temporary: Vec<PathBuf> = common::files_under(&store)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temporary.is_empty(), "{temporary:?}");
    let out = common::driftwatch(&["store", "verify", "--store", store.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The next scan `/metrics` announces for `target` (Unix seconds).
fn next_scan(addr: &str, target: &str) -> Option<i64> {
    let (_, metrics) = http_get(addr, "/metrics");
    sample(
        &metrics,
        &format!("driftwatch_next_scan_timestamp_seconds{{target=\"{target}\"}}"),
    )
    .map(|v| v as i64)
}

/// The first `hour:minute` in zone `tz` strictly after now.
fn next_daily(tz: &str, hour: i8, minute: i8) -> i64 {
    let now = jiff::Timestamp::now().in_tz(tz).unwrap();
    let today = now.date().at(hour, minute, 0, 0).in_tz(tz).unwrap();
    let next = if today > now {
        today
    } else {
        today.tomorrow().unwrap()
    };
    next.timestamp().as_second()
}

/// The next New Year's midnight in zone `tz`.
fn next_new_year(tz: &str) -> i64 {
    let now = jiff::Timestamp::now().in_tz(tz).unwrap();
    jiff::civil::date(now.year() + 1, 1, 1)
        .at(0, 0, 0, 0)
        .in_tz(tz)
        .unwrap()
        .timestamp()
        .as_second()
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_applies_a_new_schedule_and_time_zone_at_once() {
    let db = small_target().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("driftwatch.toml");
    let write = |timezone: &str, schedule: &str| {
        std::fs::write(
            &config,
            format!(
                "[store]\npath = \"store\"\n\n[watch]\ntimezone = \"{timezone}\"\nschedule = \"{schedule}\"\n\
                 jitter = \"0s\"\nlisten = \"{addr}\"\n\n[[target]]\nname = \"t\"\nurl = \"{}\"\n",
                db.expose()
            ),
        )
        .unwrap();
    };
    write("UTC", "0 0 1 1 *");
    let store = dir.path().join("store");
    let mut daemon = Daemon::start(&config, &dir.path().join("watch.log"), &[]);
    wait_until("the endpoint", Duration::from_secs(20), || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    let expect = |what: &str, at: i64| {
        wait_until(what, Duration::from_secs(10), || {
            next_scan(&addr, "t") == Some(at)
        });
    };
    expect("New Year in UTC", next_new_year("UTC"));

    // The same schedule in another zone: the next run moves with it.
    write("Asia/Tokyo", "0 0 1 1 *");
    daemon.signal(Signal::SIGHUP);
    expect("New Year in Tokyo", next_new_year("Asia/Tokyo"));

    // Another schedule and zone.
    write("America/New_York", "30 9 * * *");
    daemon.signal(Signal::SIGHUP);
    expect("09:30 in New York", next_daily("America/New_York", 9, 30));

    // A schedule due every second: scans start.
    write("America/New_York", "* * * * * *");
    daemon.signal(Signal::SIGHUP);
    wait_until("scans on the new schedule", Duration::from_secs(20), || {
        scans(&store, "t").len() >= 2
    });
    assert_eq!(daemon.events_named("configuration reloaded").len(), 3);
    daemon.signal(Signal::SIGTERM);
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .expect("exits")
        .success());
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_answers_503_while_the_scheduler_is_stalled() {
    let store_db = common::fresh_db().await;
    let db = small_target().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{}\"\n\n[watch]\nschedule = \"0 0 1 1 *\"\nlease = \"2s\"\nlisten = \"{addr}\"\n\n\
             [[target]]\nname = \"t\"\nurl = \"{}\"\n",
            store_db.expose(),
            db.expose()
        ),
    )
    .unwrap();
    let mut daemon = Daemon::start(&config, &dir.path().join("watch.log"), &[]);
    wait_until("/healthz 200", Duration::from_secs(20), || {
        std::net::TcpStream::connect(&addr).is_ok() && http_get(&addr, "/healthz").0 == 200
    });

    // The fleet store stops answering (a lock held on its ticks): the
    // scheduler's next sweep waits, and /healthz says it is stuck.
    let mut holder = store_db.connect(&[]).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE driftwatch.ticks IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let mut answer = (0, String::new());
    wait_until("/healthz 503", Duration::from_secs(40), || {
        answer = http_get(&addr, "/healthz");
        answer.0 == 503
    });
    assert!(
        answer.1.starts_with("the scheduler has not run for "),
        "{}",
        answer.1
    );

    // Answering again: healthy again.
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    wait_until("/healthz 200 again", Duration::from_secs(10), || {
        http_get(&addr, "/healthz").0 == 200
    });
    daemon.signal(Signal::SIGTERM);
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .expect("exits")
        .success());
}
