//! An SMTP outage during a scan, and alert configuration that is wrong.

use super::common::assert_one_line_error;
use super::mail::{SmtpOptions, SmtpServer};
use super::*;

#[tokio::test]
async fn smtp_down_keeps_the_message_and_the_next_run_delivers_it_once() {
    let mut smtp = SmtpServer::start(SmtpOptions::default());
    smtp.stop();
    let s = Scene::demo().await;
    s.configure(&plain_smtp(smtp.port), r#"notify = ["dba@example.com"]"#);
    s.sql(ADD_INDEX).await;
    let out = s.check(&[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("not delivered yet"), "{err}");
    assert_eq!(s.outbox().len(), 1, "the message waits in the outbox");
    let status = s.status();
    assert!(
        status.contains("alerts: 1 waiting in the outbox (last error: "),
        "{status}"
    );

    // The same drift while the server is still down: nothing new is queued.
    assert_exit(&s.check(&[]), 1);
    assert_eq!(s.outbox().len(), 1);

    smtp.restart();
    assert_exit(&s.check(&[]), 1);
    let mails = smtp.wait_for(1, ARRIVES);
    assert_eq!(
        mails[0].header("Subject"),
        Some("[driftwatch] shop: 1 warning schema drift")
    );
    assert!(s.outbox().is_empty());
    assert_exit(&s.check(&[]), 1);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(smtp.messages().len(), 1, "delivered exactly once");

    // A temporary refusal (451) is the same: kept, then delivered once.
    smtp.set_tempfail(true);
    s.sql(DROP_INDEX).await;
    assert_exit(&s.check(&[]), 0);
    assert_eq!(s.outbox().len(), 1);
    smtp.set_tempfail(false);
    let config = s.config_path().display().to_string();
    assert_exit(&s.run(&["alert", "flush", "--config", &config], &[]), 0);
    let mails = smtp.wait_for(2, ARRIVES);
    assert_eq!(
        mails[1].header("Subject"),
        Some("[driftwatch] shop: schema drift resolved")
    );
    assert!(s.outbox().is_empty());
}

#[tokio::test]
async fn wrong_alert_configuration_is_one_line_with_file_key_and_line() {
    let s = Scene::demo().await;
    let config = s.config_path().display().to_string();
    let shadow_url = shadow().admin_url().expose().to_string();
    let check = || {
        s.run(
            &[
                "check",
                "--config",
                &config,
                "--notify",
                "--shadow-url",
                &shadow_url,
            ],
            &[],
        )
    };
    let smtp = |extra: &str| {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = 2525\n{extra}\nfrom = \"driftwatch <drift@example.com>\""
        )
    };
    let line_of = |needle: &str| {
        let text = std::fs::read_to_string(s.config_path()).unwrap();
        let n = text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        format!("driftwatch.toml:{n}: ")
    };

    s.configure(&smtp("tls = \"none\""), r#"notify = ["not an address"]"#);
    let out = check();
    assert_one_line_error(&out, &line_of("not an address"), "");
    assert!(stderr(&out).contains("notify"), "{}", stderr(&out));

    s.configure(&smtp("tls = \"ssl\""), r#"notify = ["dba@example.com"]"#);
    let out = check();
    assert_one_line_error(&out, &line_of("ssl"), "");
    assert!(stderr(&out).contains("starttls"), "{}", stderr(&out));

    s.configure(
        &smtp("username = \"dw\"\npassword_env = \"DW_TEST_UNSET_PASSWORD\""),
        r#"notify = ["dba@example.com"]"#,
    );
    let out = check();
    assert_one_line_error(&out, &line_of("password_env"), "");
    assert!(
        stderr(&out).contains("DW_TEST_UNSET_PASSWORD is not set"),
        "{}",
        stderr(&out)
    );
    assert!(
        !s.target_dir().exists(),
        "no scan ran: nothing written to the store"
    );

    // AUTH over a plain connection: refused at load unless the relay is on
    // this host (then the unset variable is the next thing said).
    let auth_plain = "tls = \"none\"\nusername = \"dw\"\npassword_env = \"DW_TEST_UNSET_PW\"";
    s.configure(
        &smtp(auth_plain).replace("127.0.0.1", "smtp.example.com"),
        r#"notify = ["dba@example.com"]"#,
    );
    let out = check();
    assert_one_line_error(&out, &line_of("password_env"), "");
    assert!(stderr(&out).contains("tls = \"none\""), "{}", stderr(&out));
    assert!(stderr(&out).contains("clear text"), "{}", stderr(&out));
    for local in ["localhost", "127.0.0.2", "::1"] {
        s.configure(
            &smtp(auth_plain).replace("127.0.0.1", local),
            r#"notify = ["dba@example.com"]"#,
        );
        let out = check();
        assert_one_line_error(&out, "DW_TEST_UNSET_PW is not set", "");
    }

    s.configure(
        &smtp("username = \"dw\"\npassword = \"hunter2-pw\""),
        r#"notify = ["dba@example.com"]"#,
    );
    assert_one_line_error(&check(), &line_of("hunter2-pw"), "hunter2-pw");

    s.configure("", r#"notify = ["dba@example.com"]"#);
    assert_one_line_error(&check(), "has no [smtp] section", "");

    s.configure("", r#"webhooks = ["ops"]"#);
    assert_one_line_error(&check(), "no [webhooks.ops] is defined", "");

    s.configure(
        &smtp("tls = \"none\""),
        "notify = [\"dba@example.com\"]\nremind_after = \"soon\"",
    );
    assert_one_line_error(&check(), &line_of("soon"), "");
}
