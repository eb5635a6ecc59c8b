//! Messages: an invalid port, a shadow role that may not create databases,
//! a server that is not PostgreSQL.

use super::*;

#[test]
fn an_invalid_port_names_the_input() {
    for (url, port) in [
        ("postgres://app:hunter2@db.internal:99999/app", "99999"),
        ("postgres://app@db.internal:54x2/app", "54x2"),
    ] {
        let out = driftwatch(&["snapshot", url]);
        assert_one_line_error(&out, &format!("invalid port \"{port}\""), "hunter2");
        assert!(String::from_utf8_lossy(&out.stderr).contains("db.internal"));
    }
}

#[test]
fn a_shadow_role_without_createdb_gets_the_fix() {
    let admin = shadow().admin_url();
    let url = admin
        .expose()
        .replacen("postgres@", "dw_scanner:scanner-pw@", 1);
    let out = driftwatch(&[
        "diff",
        &fixture("layouts/accounts.sql"),
        &fixture("layouts/accounts.sql"),
        "--shadow-url",
        &url,
    ]);
    assert_one_line_error(&out, "ALTER ROLE dw_scanner CREATEDB", "scanner-pw");
}

#[test]
fn a_server_that_is_not_postgresql_gets_one_line() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            use std::io::{Read, Write};
            let mut stream = stream;
            // Read what the client sent first and close only our side, as
            // an HTTP server does: closing with unread input would send a
            // reset instead of the reply.
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let _ = stream.read_to_end(&mut Vec::new());
        }
    });
    for mode in ["disable", "prefer"] {
        let url = format!("postgres://app@127.0.0.1:{port}/app?sslmode={mode}");
        let out = driftwatch(&["snapshot", &url]);
        assert_one_line_error(&out, "did not answer as PostgreSQL does", "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains(".rs:"), "{stderr}");
    }
}
