//! Database URLs: parsing, password redaction, connecting with the capture's
//! safety settings, and turning connection failures into one clear line.

mod secrets;

use crate::error::{Error, Result};
use secrets::{encode_userinfo, for_client, hide_password_pairs, scrub};
pub use secrets::{endpoint_only, hide_url_paths, is_key_value, is_local_host, scrub_url};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// The oldest major driftwatch reads.
pub const OLDEST_MAJOR: u32 = 13;
/// The newest major the catalog SQL was written for.
pub const NEWEST_MAJOR: u32 = 18;

/// The major of a `server_version_num` (150018 → 15).
pub fn major_of(server_version_num: u32) -> u32 {
    server_version_num / 10_000
}

/// The server's major, refused with one line when it is older than
/// [`OLDEST_MAJOR`]; `target` is the URL with the password hidden.
pub fn supported_major(conn: &PgConnection, target: &str) -> Result<u32> {
    let num = conn.server_version_num().unwrap_or(0);
    let major = major_of(num);
    if major < OLDEST_MAJOR {
        return Err(Error::Query {
            target: target.to_string(),
            query: "server_version_num".into(),
            message: format!(
                "PostgreSQL {} is not supported; driftwatch reads PostgreSQL {OLDEST_MAJOR} to {NEWEST_MAJOR}",
                if num == 0 {
                    "of unknown version".to_string()
                } else {
                    major.to_string()
                },
            ),
        });
    }
    Ok(major)
}

/// A boxed `Send` future.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A PostgreSQL URL and its redacted form for messages.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: String,
    redacted: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl DatabaseUrl {
    /// Accepts `postgres://…` and `postgresql://…`. The userinfo ends at
    /// the last `@`, so a password may hold `/`, `?`, `#` or `@` as typed:
    /// it is percent-encoded here, before any URL parser splits it.
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let url = &encode_userinfo(url);
        let redacted = redact_url(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::Usage(format!(
                "{redacted}: not a PostgreSQL URL; write postgres://user@host:port/database"
            )));
        }
        if let Some(port) = bad_port(url) {
            return Err(Error::Usage(format!(
                "{}: invalid port {port:?}; a port is a number from 1 to 65535 (postgres://user@host:5432/database)",
                host_part(url)
            )));
        }
        PgConnectOptions::from_str(&for_client(url)).map_err(|e| Error::Connect {
            target: redacted.clone(),
            message: format!(
                "invalid URL ({})",
                without_locations(&scrub(&e.to_string(), url))
            ),
            hint: "check its syntax: postgres://user:password@host:port/database?sslmode=…".into(),
        })?;
        Ok(DatabaseUrl {
            url: url.to_string(),
            redacted,
        })
    }

    /// A URL as users give one: `postgres://…`, `postgresql://…`, or
    /// `env:VAR` naming the variable that holds it.
    pub fn resolve(text: &str) -> Result<DatabaseUrl> {
        match text.strip_prefix("env:") {
            Some(var) => {
                let value = std::env::var(var).map_err(|_| {
                    Error::Usage(format!(
                        "{text}: environment variable {var} is not set; export it with the database URL"
                    ))
                })?;
                DatabaseUrl::parse(&value)
            }
            None => DatabaseUrl::parse(text),
        }
    }

    /// The URL with any password replaced by `****`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// The full URL, password included: only for handing to a client.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The database name the URL names, if any.
    pub fn database_name(&self) -> Option<String> {
        let parsed = url::Url::parse(&self.url).ok()?;
        let name = parsed.path().trim_start_matches('/');
        (!name.is_empty()).then(|| name.to_string())
    }

    /// The same server with another database name.
    pub fn with_database(&self, database: &str) -> DatabaseUrl {
        match url::Url::parse(&self.url) {
            Ok(mut parsed) => {
                parsed.set_path(&format!("/{database}"));
                let url = parsed.to_string();
                DatabaseUrl {
                    redacted: redact_url(&url),
                    url,
                }
            }
            Err(_) => self.clone(),
        }
    }

    /// Connection options with the given session settings.
    pub fn options(&self, settings: &[(&str, String)]) -> Result<PgConnectOptions> {
        let opts =
            PgConnectOptions::from_str(&for_client(&self.url)).map_err(|e| Error::Connect {
                target: self.redacted.clone(),
                message: scrub(&e.to_string(), &self.url),
                hint: "check the URL".into(),
            })?;
        let opts = opts
            .application_name("driftwatch")
            .options(settings.iter().map(|(k, v)| (*k, v.as_str())))
            .disable_statement_logging();
        Ok(opts)
    }

    /// `message` (from a library) without this URL's password, in any form.
    pub fn scrub(&self, message: &str) -> String {
        scrub(message, &self.url)
    }

    /// Once a connection is made: one warning per URL and process when it
    /// reaches a remote server without an explicit `sslmode`.
    pub fn warn_without_sslmode(&self) {
        if let Ok(opts) = PgConnectOptions::from_str(&for_client(&self.url)) {
            secrets::warn_without_sslmode(&self.url, &self.redacted, &opts);
        }
    }

    /// Opens one connection, mapping failures to [`Error::Connect`].
    ///
    /// Boxed so that futures holding it stay provably `Send` (rustc's
    /// higher-ranked lifetime limits otherwise reject spawning them).
    pub fn connect<'a>(
        &'a self,
        settings: &[(&str, String)],
    ) -> BoxFuture<'a, Result<PgConnection>> {
        let opts = self.options(settings);
        Box::pin(async move {
            let opts = opts?;
            let connecting = opts.connect();
            match tokio::time::timeout(Duration::from_secs(15), connecting).await {
                Ok(Ok(conn)) => {
                    self.warn_without_sslmode();
                    Ok(conn)
                }
                Ok(Err(e)) => Err(connect_error(self, &e)),
                Err(_) => Err(Error::Connect {
                    target: self.redacted.clone(),
                    message: "no answer within 15 s".into(),
                    hint: "check host, port and firewall".into(),
                }),
            }
        })
    }
}

impl DatabaseUrl {
    /// The major version of the server (from the startup parameters; no
    /// statement runs).
    pub async fn server_major(&self) -> Result<u32> {
        let conn = self.connect(&[]).await?;
        let major = major_of(conn.server_version_num().unwrap_or(0));
        let _ = sqlx::Connection::close(conn).await;
        Ok(major)
    }

    /// [`Self::server_major`], refused with one line when it is older than
    /// the oldest major driftwatch reads (as every capture refuses it), for
    /// commands that read a database without capturing it (`history`).
    pub async fn supported_major(&self) -> Result<u32> {
        let conn = self.connect(&[]).await?;
        let major = supported_major(&conn, self.redacted());
        let _ = sqlx::Connection::close(conn).await;
        major
    }
}

/// `SET LOCAL` statements for `settings` (each ending in `;`), for the start
/// of a transaction. A connection pooler may drop the startup `options`
/// that carry them (PgBouncer with `ignore_startup_parameters`), and in
/// transaction pooling a session `SET` would reach another client's
/// server connection: set inside the transaction, they hold for it
/// whatever is in front of the server. `default_transaction_read_only`
/// is left out (the transaction says READ ONLY itself).
pub fn set_local_sql(settings: &[(&str, String)]) -> String {
    settings
        .iter()
        .filter(|(name, _)| *name != "default_transaction_read_only")
        .map(|(name, value)| format!("SET LOCAL {name} = '{}'; ", value.replace('\'', "''")))
        .collect()
}

/// Hides the password of a URL (userinfo, also when it holds `/`, `?` or
/// `@` unencoded, and `password=` parameter), or of a `key=value`
/// connection string.
pub fn redact_url(url: &str) -> String {
    let url = &encode_userinfo(url);
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("****"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let hidden = secrets::is_password_key(&k);
                    (
                        k.into_owned(),
                        if hidden {
                            "****".into()
                        } else {
                            v.into_owned()
                        },
                    )
                })
                .collect();
            if pairs.iter().any(|(k, _)| secrets::is_password_key(k)) {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        // Not a URL at all: show the scheme and nothing that could be a secret.
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => hide_password_pairs(&url.chars().take(80).collect::<String>()),
        },
    }
}

/// The port written in a URL's authority when it is not a number from 1 to
/// 65535 (`host:54x2`, `host:99999`).
fn bad_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // Several hosts (`h1:5432,h2:5433`) and [IPv6]: each after its last ':'.
    host_port.split(',').find_map(|h| {
        let port = match h.rsplit_once(']') {
            Some((_, after)) => after.strip_prefix(':')?,
            None => h.rsplit_once(':')?.1,
        };
        match port.parse::<u16>() {
            Ok(p) if p > 0 => None,
            _ if port.is_empty() => None,
            _ => Some(port.to_string()),
        }
    })
}

/// `scheme://[user@]host[:port]` of a URL that does not parse, for
/// messages: never its password, path or query.
fn host_part(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => format!("{scheme}://{authority}"),
    }
}

/// A library message without the source locations some errors carry
/// (`at /root/.cargo/registry/…/x.rs:12:5`).
fn without_locations(message: &str) -> String {
    let mut out = message.to_string();
    while let Some(start) = out.find(" at /") {
        let end = out[start + 4..]
            .find(|c: char| c.is_whitespace() || c == ')')
            .map_or(out.len(), |i| start + 4 + i);
        out.replace_range(start..end, "");
    }
    if let Some(i) = out.find("\n") {
        out.truncate(i);
    }
    out.lines().next().unwrap_or_default().to_string()
}

/// Maps a connection failure to a message and a hint.
fn connect_error(target: &DatabaseUrl, err: &sqlx::Error) -> Error {
    let message = scrub(&err.to_string(), target.expose());
    let (message, hint) = match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            let what = scrub(db.message(), target.expose());
            match code.as_str() {
                "28P01" | "28000" => (what, "check the user name and password"),
                "3D000" => (what, "check the database name, or create it"),
                "42501" => (
                    what,
                    "grant the role CONNECT on the database (driftwatch needs no other privilege)",
                ),
                "53300" => (what, "the server has no free connection slots; retry later"),
                // PgBouncer (before 1.20 without ignore_startup_parameters)
                // refuses the startup parameters it does not know.
                _ if what.starts_with("unsupported startup parameter") => {
                    let name = what.rsplit(':').next().unwrap_or_default().trim();
                    let name: String = name
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .take(63)
                        .collect();
                    (
                        format!("a connection pooler (PgBouncer?) refused startup parameter {name}"),
                        "add `ignore_startup_parameters = extra_float_digits,options` to pgbouncer.ini (driftwatch then sets its timeouts inside each transaction)",
                    )
                }
                _ => (what, "check the server log"),
            }
        }
        // rustls's verdicts on the server certificate arrive as I/O errors.
        sqlx::Error::Io(_) if message.contains("certificate") => (
            message,
            "check sslmode and sslrootcert (verify-ca/verify-full need the server's CA; verify-full also the host name the certificate names)",
        ),
        // A reply that is not the PostgreSQL protocol (an HTTP server, a
        // proxy): sqlx reads its first bytes as a message length.
        sqlx::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            ) =>
        {
            (
                format!(
                    "the server did not answer as PostgreSQL does ({})",
                    without_locations(&message)
                ),
                "check that host and port are a PostgreSQL server, not another service or a proxy that does not speak its protocol",
            )
        }
        sqlx::Error::Io(_) => (
            message,
            "is the server running and reachable at this host and port?",
        ),
        sqlx::Error::Tls(_) => (
            message,
            "check sslmode and sslrootcert (verify-ca/verify-full need the server's CA)",
        ),
        sqlx::Error::Protocol(_) | sqlx::Error::Decode(_) => (
            format!(
                "the server did not answer as PostgreSQL does ({})",
                without_locations(&message)
            ),
            "check that host and port are a PostgreSQL server, not another service or a proxy that does not speak its protocol",
        ),
        _ => (without_locations(&message), "check the URL and the server"),
    };
    Error::Connect {
        target: target.redacted.clone(),
        message,
        hint: hint.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        let r = redact_url("postgres://bob:s3cret@db:5432/app?sslmode=require");
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("bob:****@db"), "{r}");
        let r = redact_url("postgres://bob@db/app?password=s3cret&sslmode=disable");
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("sslmode=disable"), "{r}");
        let r = redact_url("postgres://app:Ab3/x?q@db/app?sslpassword=k3y&sslmode=require");
        assert!(!r.contains("Ab3") && !r.contains("k3y"), "{r}");
        assert!(r.contains("app:****@db/app?sslpassword=****"), "{r}");
    }

    #[test]
    fn settings_become_set_local_statements() {
        let sql = set_local_sql(&[
            ("default_transaction_read_only", "on".into()),
            ("lock_timeout", "1000ms".into()),
            ("search_path", "a'b".into()),
        ]);
        assert_eq!(
            sql,
            "SET LOCAL lock_timeout = '1000ms'; SET LOCAL search_path = 'a''b'; "
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = DatabaseUrl::parse("mysql://u:pw@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a PostgreSQL URL"), "{err}");
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn ports_and_library_locations() {
        assert_eq!(bad_port("postgres://u:pw@h:5432/db"), None);
        assert_eq!(bad_port("postgres://u@h/db"), None);
        assert_eq!(bad_port("postgres://u@[::1]:5432/db"), None);
        assert_eq!(bad_port("postgres://u@h:0/db"), Some("0".into()));
        assert_eq!(bad_port("postgres://u@h1:5432,h2:7x/db"), Some("7x".into()));
        assert_eq!(
            host_part("postgres://u:pw@h:99999/db?x=1"),
            "postgres://u@h:99999"
        );
        assert_eq!(
            without_locations("bad data at /root/.cargo/registry/src/x/y.rs:12:5 (more)"),
            "bad data (more)"
        );
    }
}
