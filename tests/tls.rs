//! sslmode against a real TLS server: a throwaway cluster with ssl=on and a
//! certificate signed by a CA the test makes with openssl.

use driftwatch::catalog::{capture, CaptureOptions, DatabaseUrl};
use driftwatch::shadow::{Cluster, ClusterOptions};
use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes ca.crt and server.crt/server.key for localhost and 127.0.0.1, and a
/// second, unrelated other-ca.crt.
fn make_certificates(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    for ca in ["ca", "other-ca"] {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
                "-subj",
                &format!("/CN=driftwatch {ca}"),
            ],
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

async fn uses_tls(url: &str) -> bool {
    let db = DatabaseUrl::parse(url).unwrap();
    let mut conn = db.connect(&[]).await.expect("connect");
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    ssl
}

#[tokio::test]
async fn every_sslmode_works_and_a_wrong_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let cert = std::fs::read_to_string(dir.path().join("server.crt")).unwrap();
    let key = std::fs::read_to_string(dir.path().join("server.key")).unwrap();
    let cluster = Cluster::start(ClusterOptions {
        tcp: true,
        tls: Some((cert, key)),
        ..ClusterOptions::default()
    })
    .expect("start a TLS cluster");
    let ca = dir.path().join("ca.crt");
    let other_ca = dir.path().join("other-ca.crt");
    let url = |params: String| cluster.tcp_url("postgres", "postgres", &params).unwrap();

    let cases = [
        ("sslmode=disable".to_string(), false),
        ("sslmode=prefer".to_string(), true),
        ("sslmode=require".to_string(), true),
        (
            format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
            true,
        ),
        (
            format!("sslmode=verify-full&sslrootcert={}", ca.display()),
            true,
        ),
    ];
    let mut fingerprints = Vec::new();
    for (params, tls) in &cases {
        let u = url(params.clone());
        assert_eq!(uses_tls(&u).await, *tls, "{params}");
        let (s, _) = capture(&DatabaseUrl::parse(&u).unwrap(), &CaptureOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{params}: {e}"));
        fingerprints.push(s.fingerprint);
    }
    assert!(fingerprints.windows(2).all(|w| w[0] == w[1]));

    let wrong = url(format!(
        "sslmode=verify-full&sslrootcert={}",
        other_ca.display()
    ));
    let err = capture(
        &DatabaseUrl::parse(&wrong).unwrap(),
        &CaptureOptions::default(),
    )
    .await
    .expect_err("a certificate from another CA must be refused")
    .to_string();
    assert!(err.contains("sslrootcert"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
