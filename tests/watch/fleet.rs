//! Three `watch` processes sharing one PostgreSQL store.

use super::mail::{SmtpOptions, SmtpServer};
use super::*;
use common::psql_rows;
use std::collections::BTreeMap;
use std::time::Duration;

/// Finished ticks per target.
fn finished(store: &DatabaseUrl) -> BTreeMap<String, usize> {
    psql_rows(
        store,
        "SELECT target, count(*) FROM driftwatch.ticks WHERE finished_at IS NOT NULL GROUP BY target",
    )
    .iter()
    .filter_map(|r| r.split_once('|'))
    .map(|(t, n)| (t.to_string(), n.parse().unwrap()))
    .collect()
}

/// Scan records per target: rows of `driftwatch.scans`.
fn scan_lines(store: &DatabaseUrl) -> BTreeMap<String, usize> {
    psql_rows(
        store,
        "SELECT target, count(*) FROM driftwatch.scans GROUP BY target",
    )
    .iter()
    .filter_map(|r| r.split_once('|'))
    .map(|(t, n)| (t.to_string(), n.parse().unwrap()))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_replicas_scan_each_tick_once_alert_once_and_survive_a_sigkill() {
    let store_db = common::fresh_db().await;
    let mut targets = Vec::new();
    for _ in 0..10 {
        targets.push(small_target().await);
    }
    let smtp = SmtpServer::start(SmtpOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    let mut text = format!(
        "[store]\nurl = \"{}\"\n\n[watch]\nschedule = \"*/3 * * * * *\"\nlease = \"4s\"\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"drift@example.com\"\n\n",
        store_db.expose(),
        smtp.port
    );
    for (i, t) in targets.iter().enumerate() {
        text.push_str(&format!(
            "[[target]]\nname = \"t{i}\"\nurl = \"{}\"\n",
            t.expose()
        ));
        if i == 0 {
            text.push_str("notify = [\"dba@example.com\"]\nremind_after = \"off\"\n");
        }
        text.push('\n');
    }
    std::fs::write(&config, text).unwrap();
    let mut replicas: Vec<Daemon> = (0..3)
        .map(|i| Daemon::start(&config, &dir.path().join(format!("r{i}.log")), &[]))
        .collect();

    wait_until("two scans of every target", Duration::from_secs(60), || {
        let f = finished(&store_db);
        f.len() == 10 && f.values().all(|n| *n >= 2)
    });
    common::exec(&targets[0], DRIFT).await;
    let mail = smtp.wait_for(1, Duration::from_secs(30));
    assert!(mail[0].header("Subject").unwrap_or_default().contains("t0"));
    // The kill comes once the delivery is stored (the outbox emptied, the
    // delivery logged): a replica killed between the server's acceptance
    // and that write leaves the message to be sent again, the one
    // duplicate the README admits, and the kill would otherwise aim at it.
    wait_until("the delivery stored", Duration::from_secs(30), || {
        psql_rows(
            &store_db,
            "SELECT count(*) FILTER (WHERE path LIKE 'outbox/%') || ',' ||
                    count(*) FILTER (WHERE path = 'alerts/deliveries.jsonl')
               FROM driftwatch.files WHERE target = 't0'",
        ) == ["0,1"]
    });

    // One replica dies without a word; its targets' ticks go on.
    replicas[0].child.kill().unwrap();
    replicas[0].child.wait().unwrap();
    let killed_at = jiff::Timestamp::now().as_second();
    std::thread::sleep(Duration::from_secs(2));
    wait_until(
        "every target scanned after the kill plus a lease",
        Duration::from_secs(40),
        || {
            psql_rows(
                &store_db,
                &format!(
                    "SELECT count(DISTINCT target) FROM driftwatch.ticks
                  WHERE finished_at IS NOT NULL AND tick > to_timestamp({})",
                    killed_at + 4
                ),
            ) == ["10"]
        },
    );
    for r in &mut replicas[1..] {
        r.signal(Signal::SIGTERM);
    }
    for r in &mut replicas[1..] {
        assert!(r
            .wait_exit(Duration::from_secs(15))
            .expect("exits")
            .success());
    }

    // No tick was scanned twice: by the replicas' own logs, and every
    // finished tick left exactly one scan record.
    let mut scanned = std::collections::BTreeSet::new();
    for r in &replicas {
        for e in r.events_named("scan finished") {
            let key = (e["target"].to_string(), e["tick"].to_string());
            assert!(scanned.insert(key.clone()), "scanned twice: {key:?}");
        }
    }
    assert!(scanned.len() >= 40, "{} scans", scanned.len());
    let ticks = finished(&store_db);
    assert_eq!(scan_lines(&store_db), ticks);
    // Claimed ticks of the dead replica were taken over, none left behind.
    let stale = psql_rows(
        &store_db,
        "SELECT count(*) FROM driftwatch.ticks WHERE finished_at IS NULL AND heartbeat_at > '-infinity'",
    );
    assert_eq!(stale, ["0"], "unfinished claims left");
    let holders = psql_rows(
        &store_db,
        "SELECT count(DISTINCT holder) FROM driftwatch.ticks WHERE finished_at IS NOT NULL",
    );
    assert!(
        holders[0].parse::<u32>().unwrap() >= 2,
        "the work was shared: {holders:?}"
    );
    // The drift was alerted once, by whichever replica saw it first.
    std::thread::sleep(Duration::from_secs(1));
    let subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| format!("{:?} {:?}", m.header("Subject"), m.header("Message-ID")))
        .collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");

    // status reads the fleet store, check scans into it (a claimed tick of
    // its own), baseline accepts the drift into it (see also
    // baseline_on_a_fleet_store_with_two_replicas_running).
    let cfg = config.to_str().unwrap();
    let status = || {
        let out = common::driftwatch(&[
            "status", "--config", cfg, "--target", "t0", "--format", "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = status();
    assert_eq!(v[0]["last"]["result"], "drift", "{v}");
    assert_eq!(v[0]["scans"].as_u64().unwrap() as usize, ticks["t0"]);
    let out = common::driftwatch(&[
        "check", "--config", cfg, "--target", "t0", "--format", "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        status()[0]["scans"].as_u64().unwrap() as usize,
        ticks["t0"] + 1
    );
    assert_eq!(scan_lines(&store_db), finished(&store_db));
    let out = common::driftwatch(&[
        "baseline", "--config", cfg, "--target", "t0", "--reason", "x", "--yes",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::driftwatch(&["check", "--config", cfg, "--target", "t0"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `baseline` on a fleet store while two replicas scan the target every
/// two seconds: it claims the target (waiting out a running scan), stores
/// the accepted state and its audit line in the fleet store, and the
/// replicas' next scans compare against it and find nothing.
#[tokio::test(flavor = "multi_thread")]
async fn baseline_on_a_fleet_store_with_two_replicas_running() {
    let store_db = common::fresh_db().await;
    let target = small_target().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{}\"\n\n[watch]\nschedule = \"*/2 * * * * *\"\nlease = \"4s\"\n\n\
             [[target]]\nname = \"t0\"\nurl = \"{}\"\n",
            store_db.expose(),
            target.expose()
        ),
    )
    .unwrap();
    let mut replicas: Vec<Daemon> = (0..2)
        .map(|i| Daemon::start(&config, &dir.path().join(format!("r{i}.log")), &[]))
        .collect();
    let results = |since: i64| {
        psql_rows(
            &store_db,
            &format!(
                "SELECT coalesce(string_agg(result, ',' ORDER BY tick), '') FROM driftwatch.ticks
                  WHERE target = 't0' AND finished_at IS NOT NULL AND tick > to_timestamp({since})
                    AND result IN ('clean', 'drift', 'recorded', 'notice', 'failed')"
            ),
        )
        .join("")
    };
    // The replicas create the fleet store's tables as they start: on a
    // loaded machine the first poll may come before.
    wait_until("the fleet store's tables", Duration::from_secs(60), || {
        psql_rows(
            &store_db,
            "SELECT to_regclass('driftwatch.ticks') IS NOT NULL",
        ) == ["t"]
    });
    wait_until("two scans", Duration::from_secs(60), || {
        results(0).split(',').filter(|r| !r.is_empty()).count() >= 2
    });
    common::exec(&target, DRIFT).await;
    wait_until("the drift scanned", Duration::from_secs(30), || {
        results(0).ends_with("drift")
    });

    let cfg = config.to_str().unwrap();
    let out = common::driftwatch(&[
        "baseline",
        "--config",
        cfg,
        "--target",
        "t0",
        "--reason",
        "hand index kept",
        "--yes",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accepted_at = jiff::Timestamp::now().as_second();
    let stored = psql_rows(
        &store_db,
        "SELECT count(*) FILTER (WHERE path LIKE 'baselines/%.json') || ',' ||
                count(*) FILTER (WHERE path = 'baselines/audit.jsonl')
           FROM driftwatch.files WHERE target = 't0'",
    );
    // The first scan recorded an accepted state; the baseline is a second.
    assert_eq!(stored, ["2,1"], "baselines in the fleet store");
    let by_hand = psql_rows(
        &store_db,
        "SELECT count(*) FROM driftwatch.ticks WHERE target = 't0' AND result = 'baseline'",
    );
    assert_eq!(by_hand, ["1"], "the baseline's claim finished");

    wait_until(
        "two replica scans after the baseline",
        Duration::from_secs(30),
        || {
            results(accepted_at)
                .split(',')
                .filter(|r| !r.is_empty())
                .count()
                >= 2
        },
    );
    let after = results(accepted_at);
    assert!(
        after.split(',').all(|r| r == "clean"),
        "scans after the baseline: {after}"
    );
    for r in &mut replicas {
        r.signal(Signal::SIGTERM);
    }
    for r in &mut replicas {
        assert!(r
            .wait_exit(Duration::from_secs(15))
            .expect("exits")
            .success());
    }
    // The store's maintenance works on the fleet store too: gc under a
    // claim of its own, verify on a pulled copy.
    for command in ["gc", "verify"] {
        let out = common::driftwatch(&["store", command, "--config", cfg]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "store {command}: {stderr}");
        assert!(stderr.starts_with("t0: "), "store {command}: {stderr}");
    }
    let maintenance = psql_rows(
        &store_db,
        "SELECT count(*) FROM driftwatch.ticks WHERE target = 't0' AND result = 'store-maintenance'",
    );
    assert_eq!(maintenance, ["1"], "store gc claimed the target once");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fleet_store_is_created_and_a_bad_url_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        "[store]\nurl = \"postgres://dw:hunter2@127.0.0.1:1/nowhere\"\n[watch]\nschedule = \"@hourly\"\n\
         [[target]]\nname = \"a\"\nurl = \"postgres://x@127.0.0.1/y\"\n",
    )
    .unwrap();
    let out = common::driftwatch(&["watch", "--config", config.to_str().unwrap()]);
    common::assert_one_line_error(&out, "127.0.0.1:1", "hunter2");

    std::fs::write(&config, "[store]\nurl = \"mysql://x\"\n").unwrap();
    let out = common::driftwatch(&["watch", "--config", config.to_str().unwrap()]);
    common::assert_one_line_error(&out, "[store] url", "never");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grown_log_travels_as_its_new_lines_and_a_lost_claim_writes_nothing() {
    use driftwatch::store::fleet::{Claim, Fleet, Stage};
    let store_db = common::fresh_db().await;
    let one = Fleet::open(store_db.expose(), Duration::from_secs(2))
        .await
        .unwrap();
    let two = Fleet::open(store_db.expose(), Duration::from_secs(2))
        .await
        .unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let log = a.path().join("audit.jsonl");
    let content = || {
        psql_rows(
            &store_db,
            "SELECT convert_from(content, 'UTF8') FROM driftwatch.files WHERE path = 'audit.jsonl'",
        )
        .join("\n")
    };
    let tick = |s: i64| jiff::Timestamp::from_second(1_800_000_000 + s).unwrap();

    assert_eq!(one.claim("t", tick(0)).await.unwrap(), Claim::Ours);
    assert_eq!(two.claim("t", tick(0)).await.unwrap(), Claim::Taken);
    one.pull("t", a.path()).await.unwrap();
    std::fs::write(&log, "a\n").unwrap();
    assert!(one
        .push("t", tick(0), a.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(content(), "a\n");

    // The stored head is altered behind the replica's back (same length,
    // same recorded hash): an append that sent the whole file would undo it.
    common::psql(
        &store_db,
        "UPDATE driftwatch.files SET content = 'X\n' WHERE path = 'audit.jsonl'",
    );
    assert_eq!(one.claim("t", tick(1)).await.unwrap(), Claim::Ours);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(b"b\n")
        })
        .unwrap();
    assert!(one
        .push("t", tick(1), a.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(content(), "X\nb\n", "only the new line was sent");

    // Another replica's pull brings the whole file, then only what grew.
    common::psql(
        &store_db,
        "UPDATE driftwatch.files SET content = 'a\nb\n' WHERE path = 'audit.jsonl'",
    );
    assert_eq!(two.claim("t", tick(2)).await.unwrap(), Claim::Ours);
    two.pull("t", b.path()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(b.path().join("audit.jsonl")).unwrap(),
        "a\nb\n"
    );
    std::fs::write(b.path().join("audit.jsonl"), "a\nb\nc\n").unwrap();
    assert!(two
        .push("t", tick(2), b.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(one.claim("t", tick(3)).await.unwrap(), Claim::Ours);
    one.pull("t", a.path()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\nb\nc\n");

    // A claim taken over after the lease: the old holder's push writes nothing.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(two.claim("t", tick(3)).await.unwrap(), Claim::Ours);
    std::fs::write(&log, "a\nb\nc\nlost\n").unwrap();
    assert!(!one
        .push("t", tick(3), a.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(content(), "a\nb\nc\n");
    // While a tick of the target is alive, another tick is refused.
    assert_eq!(one.claim("t", tick(4)).await.unwrap(), Claim::Overrun);

    // Results stored, alerts not yet delivered: the tick stays alive, and
    // a replica that takes it over after the lease is told it needs no
    // scan, only its delivery.
    two.pull("t", b.path()).await.unwrap();
    assert!(two
        .push("t", tick(3), b.path(), Stage::Stored("drift"))
        .await
        .unwrap());
    assert_eq!(one.claim("t", tick(4)).await.unwrap(), Claim::Overrun);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        one.claim("t", tick(3)).await.unwrap(),
        Claim::Stored("drift".into())
    );
    one.pull("t", a.path()).await.unwrap();
    assert!(one
        .push("t", tick(3), a.path(), Stage::Finished(None))
        .await
        .unwrap());
    assert!(!two
        .push("t", tick(3), b.path(), Stage::Finished(None))
        .await
        .unwrap());
    assert_eq!(
        psql_rows(
            &store_db,
            "SELECT result, finished_at IS NOT NULL FROM driftwatch.ticks WHERE tick = to_timestamp(1800000003)"
        ),
        ["drift|t"]
    );
}

/// A replica stored a tick's results and died before its alerts went out:
/// the replica that takes the tick over delivers them, and does not scan
/// the tick again.
#[tokio::test(flavor = "multi_thread")]
async fn a_taken_over_tick_whose_results_were_stored_is_delivered_not_rescanned() {
    let store_db = common::fresh_db().await;
    let target = small_target().await;
    let smtp = SmtpServer::start(SmtpOptions::default());
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    let write_config = |smtp_port: u16| {
        std::fs::write(
            &config,
            format!(
                "[store]\nurl = \"{}\"\n\n[watch]\nschedule = \"@yearly\"\nlease = \"2s\"\n\n\
                 [alerts]\nretry_backoff = \"1s\"\n\n\
                 [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"drift@example.com\"\n\n\
                 [[target]]\nname = \"t0\"\nurl = \"{}\"\nnotify = [\"dba@example.com\"]\n",
                store_db.expose(),
                target.expose()
            ),
        )
        .unwrap()
    };
    let cfg = config.to_str().unwrap();
    let check = || {
        common::driftwatch(&[
            "check", "--config", cfg, "--target", "t0", "--notify", "--format", "json",
        ])
    };

    // The state is recorded, then a drift is scanned while the mail server
    // is down: its message waits in the store's outbox.
    write_config(closed);
    let out = check();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::exec(&target, DRIFT).await;
    let out = check();
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let waiting = || {
        psql_rows(
            &store_db,
            "SELECT count(*) FROM driftwatch.files WHERE target = 't0' AND path LIKE 'outbox/%'",
        )
    };
    assert_eq!(
        waiting(),
        ["1"],
        "the message waits in the outbox: {:?} {}",
        psql_rows(&store_db, "SELECT path FROM driftwatch.files"),
        String::from_utf8_lossy(&out.stderr)
    );
    let scans_before = scan_lines(&store_db)["t0"];

    // As if the replica had died between storing the tick and delivering:
    // the tick has its result but is unfinished, its claim stale.
    let reopened = psql_rows(
        &store_db,
        "UPDATE driftwatch.ticks SET finished_at = NULL, heartbeat_at = '-infinity'
          WHERE target = 't0' AND tick = (SELECT max(tick) FROM driftwatch.ticks WHERE target = 't0')
          RETURNING result",
    );
    assert_eq!(reopened, ["drift"]);

    write_config(smtp.port);
    std::thread::sleep(Duration::from_millis(1100)); // the retry backoff
    let mut replica = Daemon::start(&config, &dir.path().join("r.log"), &[]);
    let mail = smtp.wait_for(1, Duration::from_secs(30));
    assert!(mail[0].header("Subject").unwrap_or_default().contains("t0"));
    // The kill comes once the delivery is stored (the outbox emptied, the
    // delivery logged): a replica killed between the server's acceptance
    // and that write leaves the message to be sent again, the one
    // duplicate the README admits, and the kill would otherwise aim at it.
    wait_until("the delivery stored", Duration::from_secs(30), || {
        psql_rows(
            &store_db,
            "SELECT count(*) FILTER (WHERE path LIKE 'outbox/%') || ',' ||
                    count(*) FILTER (WHERE path = 'alerts/deliveries.jsonl')
               FROM driftwatch.files WHERE target = 't0'",
        ) == ["0,1"]
    });
    wait_until("the tick finished", Duration::from_secs(15), || {
        psql_rows(
            &store_db,
            "SELECT count(*) FROM driftwatch.ticks WHERE target = 't0' AND finished_at IS NULL",
        ) == ["0"]
    });
    assert_eq!(waiting(), ["0"], "the outbox was emptied in the store");
    replica.signal(Signal::SIGTERM);
    assert!(replica
        .wait_exit(Duration::from_secs(15))
        .expect("exits")
        .success());
    assert_eq!(
        scan_lines(&store_db)["t0"],
        scans_before,
        "not scanned again"
    );
    assert!(replica.events_named("scan finished").is_empty());
    assert_eq!(
        replica
            .events_named("delivering the alerts of a tick a stopped replica had stored")
            .len(),
        1
    );
    assert_eq!(smtp.messages().len(), 1);
}

/// A fleet store made by the previous version (`store_version` 2, the scan
/// log one bytea in `driftwatch.files`) is migrated at open: its log
/// becomes rows, reads back the same, and then grows by one row per scan
/// (an INSERT, not a rewrite); a rotation replaces the rows, its sequence
/// numbers going on.
#[tokio::test(flavor = "multi_thread")]
async fn scans_are_rows_and_a_version_2_store_is_migrated() {
    use driftwatch::store::fleet::{Claim, Fleet, Stage};
    let store_db = common::fresh_db().await;
    let old_log = "{\"time\":\"2026-01-01T00:00:00Z\",\"target\":\"t\",\"result\":\"drift\",\"findings\":[\"x\"]}\n\
                   {\"time\":\"2026-01-02T00:00:00Z\",\"target\":\"t\",\"result\":\"drift\",\"findings\":[\"x\"]}\n";
    common::psql(
        &store_db,
        &format!(
            "CREATE SCHEMA driftwatch;
             CREATE TABLE driftwatch.store_version (version integer NOT NULL);
             INSERT INTO driftwatch.store_version VALUES (2);
             CREATE TABLE driftwatch.files (target text NOT NULL, path text NOT NULL, content bytea NOT NULL,
                 sha256 text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (target, path));
             CREATE TABLE driftwatch.ticks (target text NOT NULL, tick timestamptz NOT NULL, holder text NOT NULL,
                 claimed_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL, claims integer NOT NULL DEFAULT 1,
                 finished_at timestamptz, result text, PRIMARY KEY (target, tick));
             INSERT INTO driftwatch.files (target, path, content, sha256)
             VALUES ('t', 'scans.jsonl', convert_to($log${old_log}$log$, 'UTF8'), 'old'),
                    ('t', 'layout', convert_to(E'2\\n', 'UTF8'), 'old');"
        ),
    );
    let one = Fleet::open(store_db.expose(), Duration::from_secs(30))
        .await
        .unwrap();
    let rows = |sql: &str| psql_rows(&store_db, sql);
    assert_eq!(
        rows("SELECT max(version) FROM driftwatch.store_version"),
        ["3"]
    );
    assert_eq!(
        rows("SELECT count(*) FROM driftwatch.files WHERE path = 'scans.jsonl'"),
        ["0"]
    );
    assert_eq!(
        rows("SELECT seq FROM driftwatch.scans WHERE target = 't' ORDER BY seq"),
        ["1", "2"]
    );
    let tick = |s: i64| jiff::Timestamp::from_second(1_800_000_000 + s).unwrap();
    let a = tempfile::tempdir().unwrap();
    let log = a.path().join("scans.jsonl");
    assert_eq!(one.claim("t", tick(0)).await.unwrap(), Claim::Ours);
    one.pull("t", a.path()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), old_log);
    assert_eq!(
        std::fs::read_to_string(a.path().join("layout")).unwrap(),
        "2\n"
    );
    // One more scan: one row inserted, the others untouched.
    let third = "{\"time\":\"2026-01-03T00:00:00Z\",\"target\":\"t\",\"result\":\"clean\"}";
    std::fs::write(&log, format!("{old_log}{third}\n")).unwrap();
    let ctids = "SELECT ctid FROM driftwatch.scans WHERE seq <= 2 ORDER BY seq";
    let before = rows(ctids);
    assert!(one
        .push("t", tick(0), a.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(rows(ctids), before, "the old rows were rewritten");
    assert_eq!(
        rows("SELECT seq, line FROM driftwatch.scans WHERE seq = 3"),
        [format!("3|{third}")]
    );
    // A rotation: the rows replaced, numbered on from 4.
    std::fs::write(&log, format!("{third}\n")).unwrap();
    assert_eq!(one.claim("t", tick(1)).await.unwrap(), Claim::Ours);
    assert!(one
        .push("t", tick(1), a.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(rows("SELECT seq FROM driftwatch.scans"), ["4"]);
    // Another replica reads it back whole, then only what grew.
    let two = Fleet::open(store_db.expose(), Duration::from_secs(30))
        .await
        .unwrap();
    let b = tempfile::tempdir().unwrap();
    assert_eq!(two.claim("t", tick(2)).await.unwrap(), Claim::Ours);
    two.pull("t", b.path()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(b.path().join("scans.jsonl")).unwrap(),
        format!("{third}\n")
    );
    std::fs::write(b.path().join("scans.jsonl"), format!("{third}\nnext\n")).unwrap();
    assert!(two
        .push("t", tick(2), b.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(one.claim("t", tick(3)).await.unwrap(), Claim::Ours);
    one.pull("t", a.path()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("{third}\nnext\n")
    );
    assert!(one
        .push("t", tick(3), a.path(), Stage::Finished(Some("clean")))
        .await
        .unwrap());
    assert_eq!(
        rows("SELECT seq FROM driftwatch.scans ORDER BY seq"),
        ["4", "5"]
    );
}
