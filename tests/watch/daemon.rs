//! One `watch` process with a file store.

use super::mail::{SmtpOptions, SmtpServer};
use super::*;
use std::time::Duration;

/// `[smtp]` for the test server, plain (the alerts tests cover TLS).
fn smtp_section(smtp: &SmtpServer) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"driftwatch <drift@example.com>\"\n",
        smtp.port
    )
}

fn target_section(name: &str, url: &str, extra: &str) -> String {
    format!(
        "[[target]]\nname = \"{name}\"\nurl = \"{url}\"\nnotify = [\"dba@example.com\"]\nremind_after = \"off\"\n{extra}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_targets_drift_is_alerted_once_across_a_restart_and_sigterm_exits_0() {
    let a = small_target().await;
    let b = small_target().await;
    let smtp = SmtpServer::start(SmtpOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[watch]\nschedule = \"{EVERY_2S}\"\njitter = \"0s\"\nlisten = \"{addr}\"\n\n{}\n{}{}",
            smtp_section(&smtp),
            target_section("alpha", a.expose(), ""),
            target_section("beta", b.expose(), ""),
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let log = dir.path().join("watch.log");
    let mut daemon = Daemon::start(&config, &log, &[]);
    wait_until("two scans of each target", Duration::from_secs(30), || {
        scans(&store, "alpha").len() >= 2 && scans(&store, "beta").len() >= 2
    });
    assert_eq!(scans(&store, "alpha")[0]["result"], "recorded");
    assert_eq!(scans(&store, "alpha")[1]["result"], "clean");

    let (status, body) = http_get(&addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, metrics) = http_get(&addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        sample(&metrics, "driftwatch_scans_total{target=\"alpha\"}").unwrap() >= 2.0,
        "{metrics}"
    );

    // Drift mid-run: one message, however many scans see it.
    common::exec(&a, DRIFT).await;
    let mail = smtp.wait_for(1, Duration::from_secs(30));
    let subject = mail[0].header("Subject").unwrap_or_default().to_string();
    assert!(subject.contains("alpha"), "{subject}");
    let seen = scans(&store, "alpha").len();
    wait_until("three more scans of alpha", Duration::from_secs(30), || {
        scans(&store, "alpha").len() >= seen + 3
    });
    assert_eq!(scans(&store, "alpha").last().unwrap()["result"], "drift");
    assert_eq!(smtp.messages().len(), 1, "alerted once");
    let (_, metrics) = http_get(&addr, "/metrics");
    assert_eq!(
        sample(
            &metrics,
            "driftwatch_findings{target=\"alpha\",severity=\"warning\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    // Rescans of the unchanged target reused its live snapshot; the
    // drifted one's probe saw the index.
    let probes = |t: &str, r: &str| {
        sample(
            &metrics,
            &format!("driftwatch_catalog_probes_total{{target=\"{t}\",result=\"{r}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert!(probes("beta", "unchanged") >= 3.0, "{metrics}");
    assert!(probes("alpha", "changed") >= 2.0, "{metrics}");

    // SIGTERM: exit 0 within a few seconds, the last events logged.
    daemon.signal(Signal::SIGTERM);
    let status = daemon
        .wait_exit(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let finished = daemon.events_named("scan finished");
    assert!(finished.len() >= 8, "{finished:?}");
    assert!(finished
        .iter()
        .all(|e| e["target"].is_string() && e["duration_ms"].is_u64() && e["result"].is_string()));
    assert_eq!(daemon.events_named("watch stopped").len(), 1);

    // A restart neither alerts again nor forgets since when.
    let since_before = last_since(&store);
    let log2 = dir.path().join("watch2.log");
    let mut again = Daemon::start(&config, &log2, &[]);
    let seen = scans(&store, "alpha").len();
    wait_until(
        "two scans after the restart",
        Duration::from_secs(30),
        || scans(&store, "alpha").len() >= seen + 2,
    );
    assert_eq!(
        smtp.messages().len(),
        1,
        "no second message after a restart"
    );
    assert_eq!(last_since(&store), since_before);
    again.signal(Signal::SIGINT);
    assert!(again
        .wait_exit(Duration::from_secs(10))
        .expect("exits")
        .success());
}

/// `driftwatch status --target alpha --format json`'s drift-since.
fn last_since(store: &Path) -> String {
    let out = common::driftwatch(&[
        "status",
        "--store",
        store.to_str().unwrap(),
        "--target",
        "alpha",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = if v.is_array() { &v[0] } else { &v };
    let since = t["drift_since"].as_str().unwrap_or_default().to_string();
    assert!(!since.is_empty(), "{v}");
    since
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_keeps_the_running_config_when_the_new_one_is_bad_and_adds_a_target_when_good() {
    let a = small_target().await;
    let b = small_target().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    let head = format!(
        "[store]\npath = \"store\"\n\n[watch]\nschedule = \"{EVERY_2S}\"\njitter = \"0s\"\n\n"
    );
    let one = format!(
        "{head}[[target]]\nname = \"one\"\nurl = \"{}\"\n",
        a.expose()
    );
    std::fs::write(&config, &one).unwrap();
    let store = dir.path().join("store");
    let mut daemon = Daemon::start(&config, &dir.path().join("watch.log"), &[]);
    wait_until("a scan of one", Duration::from_secs(30), || {
        !scans(&store, "one").is_empty()
    });

    std::fs::write(&config, one.replace(EVERY_2S, "61 * * * *")).unwrap();
    daemon.signal(Signal::SIGHUP);
    wait_until("the reload error", Duration::from_secs(10), || {
        !daemon
            .events_named("configuration not reloaded; the running one is kept")
            .is_empty()
    });
    let err = &daemon.events_named("configuration not reloaded; the running one is kept")[0];
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("[watch]: schedule \"61 * * * *\""),
        "{err}"
    );
    let seen = scans(&store, "one").len();
    wait_until("scans go on", Duration::from_secs(20), || {
        scans(&store, "one").len() >= seen + 2
    });

    let two = format!(
        "{one}\n[[target]]\nname = \"two\"\nurl = \"{}\"\n",
        b.expose()
    );
    std::fs::write(&config, two).unwrap();
    daemon.signal(Signal::SIGHUP);
    wait_until("a scan of the new target", Duration::from_secs(30), || {
        !scans(&store, "two").is_empty()
    });
    daemon.signal(Signal::SIGTERM);
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .expect("exits")
        .success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_that_hangs_is_cancelled_at_scan_timeout_and_its_ticks_are_skipped() {
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let metrics_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[watch]\nschedule = \"* * * * * *\"\njitter = \"0s\"\nscan_timeout = \"3s\"\n\
             listen = \"127.0.0.1:{metrics_port}\"\n\n[[target]]\nname = \"silent\"\nurl = \"postgres://dw:secret-pw@127.0.0.1:{port}/db?connect_timeout=60&sslpassword=key-pw-77\"\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let mut daemon = Daemon::start(&config, &dir.path().join("watch.log"), &[]);
    wait_until(
        "a scan cancelled by scan_timeout",
        Duration::from_secs(20),
        || !scans(&store, "silent").is_empty(),
    );
    let record = &scans(&store, "silent")[0];
    assert_eq!(record["result"], "failed");
    assert!(
        record["error"].as_str().unwrap().contains("scan_timeout"),
        "{record}"
    );
    // The metrics follow the record.
    let fetch = || http_get(&format!("127.0.0.1:{metrics_port}"), "/metrics").1;
    wait_until(
        "the failed scan in /metrics",
        Duration::from_secs(10),
        || {
            sample(&fetch(), "driftwatch_scans_failed_total{target=\"silent\"}").unwrap_or(0.0)
                >= 1.0
        },
    );
    let metrics = fetch();
    let skipped = sample(
        &metrics,
        "driftwatch_ticks_skipped_total{target=\"silent\"}",
    )
    .unwrap();
    assert!(skipped >= 1.0, "{metrics}");
    daemon.signal(Signal::SIGTERM);
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .expect("exits")
        .success());
    let text = std::fs::read_to_string(dir.path().join("watch.log")).unwrap();
    assert!(!text.contains("secret-pw"), "the password is never logged");
    // libpq's sslpassword, unknown to sqlx (which would log its value):
    // named once, its value never.
    assert!(!text.contains("key-pw-77"), "{text}");
    assert_eq!(text.matches("sslpassword").count(), 1, "{text}");
    drop(silent);
}

#[test]
fn print_schedule_lists_the_next_five_runs_in_the_configured_zone() {
    let text = print_schedule(
        "[watch]\ntimezone = \"Europe/Berlin\"\nschedule = \"@daily\"\n\n\
         [[target]]\nname = \"weekdays\"\nurl = \"postgres://x@127.0.0.1/y\"\nschedule = \"0 9 * * 1-5\"\n\n\
         [[target]]\nname = \"nightly\"\nurl = \"postgres://x@127.0.0.1/y\"\n",
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "{text}");
    assert_eq!(lines[0], "weekdays");
    assert_eq!(lines[6], "nightly");
    for l in &lines[1..6] {
        let t: jiff::Zoned = l
            .parse::<jiff::Timestamp>()
            .unwrap()
            .in_tz("Europe/Berlin")
            .unwrap();
        assert_eq!((t.hour(), t.minute(), t.second()), (9, 0, 0), "{l}");
        assert!(
            !matches!(
                t.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            ),
            "{l}"
        );
        assert!(l.ends_with("+01:00") || l.ends_with("+02:00"), "{l}");
    }
    for l in &lines[7..12] {
        let t: jiff::Zoned = l
            .parse::<jiff::Timestamp>()
            .unwrap()
            .in_tz("Europe/Berlin")
            .unwrap();
        assert_eq!((t.hour(), t.minute()), (0, 0), "{l}");
    }
}

#[test]
fn a_bad_schedule_is_one_line_naming_the_target_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        "[[target]]\nname = \"shop\"\nurl = \"postgres://x@127.0.0.1/y\"\nschedule = \"0 0 * * 8\"\n",
    )
    .unwrap();
    let out = common::driftwatch(&[
        "watch",
        "--config",
        config.to_str().unwrap(),
        "--print-schedule",
    ]);
    common::assert_one_line_error(&out, "target shop", "never");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("driftwatch.toml:4"), "{err}");

    std::fs::write(
        &config,
        "[[target]]\nname = \"shop\"\nurl = \"postgres://x@127.0.0.1/y\"\n",
    )
    .unwrap();
    let out = common::driftwatch(&["watch", "--config", config.to_str().unwrap()]);
    common::assert_one_line_error(&out, "no target has a schedule", "never");

    std::fs::write(&config, "[watch]\ntimezone = \"Mars/Olympus\"\n").unwrap();
    let out = common::driftwatch(&["watch", "--config", config.to_str().unwrap()]);
    common::assert_one_line_error(&out, "Mars/Olympus", "never");
}

#[test]
fn the_kubernetes_example_configuration_is_valid() {
    let yaml = std::fs::read_to_string(common::repo().join("docs/deploy/kubernetes.yaml")).unwrap();
    let start = yaml
        .find("driftwatch.toml: |\n")
        .expect("the ConfigMap's file")
        + "driftwatch.toml: |\n".len();
    let end = start + yaml[start..].find("\n---").unwrap();
    let toml: String = yaml[start..end]
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    // It serves on the pod's IP (from the environment), not 0.0.0.0, and
    // a NetworkPolicy lets only Prometheus in.
    assert!(
        toml.contains("listen = \"env:DRIFTWATCH_LISTEN\""),
        "{toml}"
    );
    assert!(yaml.contains("value: \"$(POD_IP):9187\""), "{yaml}");
    assert!(yaml.contains("kind: NetworkPolicy"), "{yaml}");
    assert!(!yaml.contains("0.0.0.0"), "{yaml}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(&config, &toml).unwrap();
    let run = |listen: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"));
        command
            .args(["watch", "--print-schedule", "--config"])
            .arg(&config)
            .env_remove("DRIFTWATCH_LISTEN");
        if let Some(listen) = listen {
            command.env("DRIFTWATCH_LISTEN", listen);
        }
        command.output().unwrap()
    };
    let out = run(Some("10.1.2.3:9187"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("shop\n"));
    let out = run(None);
    common::assert_one_line_error(&out, "DRIFTWATCH_LISTEN is not set", "");
    let out = run(Some("0.0.0.0"));
    common::assert_one_line_error(
        &out,
        "\"0.0.0.0\" (from DRIFTWATCH_LISTEN) is not an address and port",
        "",
    );
}

/// The daemon's endpoint, at an address from the environment, answers
/// /healthz at once while more slow clients than it has slots hold
/// connections (each may for up to 5 s).
#[test]
fn the_daemon_answers_healthz_during_a_burst_of_slow_clients() {
    use std::io::Write;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"store\"\n\n[watch]\nschedule = \"0 0 1 1 *\"\nlisten = \"env:DW_TEST_LISTEN\"\n\n\
             [[target]]\nname = \"silent\"\nurl = \"postgres://dw@127.0.0.1:{port}/db\"\n"
        ),
    )
    .unwrap();
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["watch", "--config"])
        .arg(&config)
        .env("DW_TEST_LISTEN", &addr)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the endpoint", Duration::from_secs(20), || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    let burst: Vec<std::net::TcpStream> = (0..100)
        .map(|i| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET /metrics HTTP/1.1\r\nHo").unwrap();
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let (status, body) = http_get(&addr, "/healthz");
    let took = started.elapsed();
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(burst);
}

/// `watch --print-schedule` on a configuration file holding `text`: its
/// standard output (the run must succeed).
fn print_schedule(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(&config, text).unwrap();
    let out = common::driftwatch(&[
        "watch",
        "--config",
        config.to_str().unwrap(),
        "--print-schedule",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
