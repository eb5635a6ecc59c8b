//! Keeping a database URL's secrets out of what people read: passwords as
//! users type them (unencoded `/`, `?`, `#`, `@`), library messages that
//! echo them, connection parameters sqlx would log with their values, and
//! the warning for a remote server reached without an explicit `sslmode`.

use sqlx::postgres::PgConnectOptions;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Mutex;

/// The URL with its userinfo split at the LAST `@` and percent-encoded, so
/// that `postgres://app:Ab3/x?y@db/app` keeps `Ab3/x?y` as the password
/// instead of a URL parser taking `Ab3` for a port. `%XX` already written
/// is kept (an encoded password stays as it was). The last `@` always
/// ends the userinfo, so an `@` in the path or query is written `%40`.
pub(crate) fn encode_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    let (info, host) = (&rest[..at], &rest[at + 1..]);
    let mut out = format!("{scheme}://");
    match info.split_once(':') {
        Some((user, password)) => {
            out.push_str(&encode_part(user));
            out.push(':');
            out.push_str(&encode_part(password));
        }
        None => out.push_str(&encode_part(info)),
    }
    out.push('@');
    out.push_str(host);
    out
}

/// Percent-encodes what may not stand in a URL's userinfo, keeping `%XX`.
fn encode_part(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, ch) in text.char_indices() {
        let escape = ch == '%'
            && bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        if ch.is_ascii_alphanumeric() || "-._~!$&'()*+,;=".contains(ch) || escape {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// True for a query parameter holding a password (`password`, libpq's
/// `sslpassword`).
pub(crate) fn is_password_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

/// Every form the URL's passwords could take in a message: as encoded in
/// the URL and decoded, from the userinfo and from `password=`; longest
/// first so that one form does not leave part of another.
fn password_forms(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Vec::new();
    };
    let mut forms = Vec::new();
    if let Some(pw) = parsed.password() {
        forms.push(pw.to_string());
        forms.push(percent_decode(pw));
    }
    for (k, v) in parsed.query_pairs() {
        if is_password_key(&k) {
            forms.push(v.into_owned());
        }
    }
    if let Some(query) = parsed.query() {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if is_password_key(k) {
                    forms.push(v.to_string());
                }
            }
        }
    }
    forms.retain(|f| !f.is_empty());
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// `%XX` sequences decoded (invalid UTF-8 replaced).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `scheme://host[:port]/…` of a URL whose path or query may hold a token
/// (Slack, Teams and Discord webhooks): never its userinfo, path or query.
pub fn endpoint_only(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(u) => {
            let host = match u.host() {
                Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
                Some(h) => h.to_string(),
                None => String::new(),
            };
            match u.port() {
                Some(port) => format!("{}://{host}:{port}/…", u.scheme()),
                None => format!("{}://{host}/…", u.scheme()),
            }
        }
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) if scheme.chars().all(|c| c.is_ascii_alphanumeric()) => {
                format!("{scheme}://…")
            }
            _ => "(not a URL)".into(),
        },
    }
}

/// Replaces each occurrence of `url` (and of its path and query, which
/// libraries also print alone) in `message` with `shown`.
pub fn scrub_url(message: &str, url: &str, shown: &str) -> String {
    let mut out = message.replace(url, shown);
    if let Ok(u) = url::Url::parse(url) {
        out = out.replace(u.as_str(), shown);
        let path_query = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        if path_query.len() > 1 {
            out = out.replace(&path_query, "/…");
        }
    }
    out
}

/// Every http(s) URL in `text` shortened to `scheme://host[:port]/…`: for
/// error texts stored before webhook URLs were shortened where they arise.
pub fn hide_url_paths(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = ["http://", "https://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        out.push_str(&rest[..i]);
        let len = rest[i..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '>')
            .unwrap_or(rest.len() - i);
        let token = &rest[i..i + len];
        let core = token.trim_end_matches([':', ',', ';', ')', '.']);
        out.push_str(&endpoint_only(core));
        out.push_str(&token[core.len()..]);
        rest = &rest[i + len..];
    }
    out.push_str(rest);
    out
}

/// Removes the URL's password from a message, should a library echo it,
/// in every form it may take there (encoded or raw).
pub(crate) fn scrub(message: &str, url: &str) -> String {
    password_forms(url)
        .iter()
        .fold(message.to_string(), |m, pw| m.replace(pw.as_str(), "****"))
}

/// `password=VALUE` (or `'quoted value'`) of a `key=value` connection
/// string replaced by `password=****`.
pub(crate) fn hide_password_pairs(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("password") {
        let start = pos + found;
        let after = start + "password".len();
        let rest = &text[after..];
        let eq = rest.len() - rest.trim_start().len();
        if !rest.trim_start().starts_with('=') {
            out.push_str(&text[pos..after]);
            pos = after;
            continue;
        }
        let value_start = after + eq + 1;
        let value = &text[value_start..];
        let skip = value.len() - value.trim_start().len();
        let value = value.trim_start();
        let len = if let Some(quoted) = value.strip_prefix('\'') {
            quoted.find('\'').map_or(value.len(), |i| i + 2)
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        out.push_str(&text[pos..value_start + skip]);
        out.push_str("****");
        pos = value_start + skip + len;
    }
    out.push_str(&text[pos..]);
    out
}

/// True for a libpq `key=value` connection string (`host=db user=app
/// password=…`), which driftwatch does not read: it is refused with its
/// password hidden rather than taken for a file name and echoed.
pub fn is_key_value(text: &str) -> bool {
    const KEYS: &[&str] = &[
        "host", "hostaddr", "port", "dbname", "user", "password", "sslmode",
    ];
    hide_password_pairs(text) != text
        || text.split_whitespace().any(|t| {
            t.split_once('=')
                .is_some_and(|(k, _)| KEYS.contains(&k.to_ascii_lowercase().as_str()))
        })
}

/// Query parameters sqlx's PostgreSQL driver reads; it logs any other one
/// with its value ("ignoring unrecognized connect parameter").
const CLIENT_PARAMETERS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// The URL as handed to sqlx: parameters it does not read are left out
/// (it would ignore them anyway, after logging their values), and named
/// once, without their values, in a warning.
pub(crate) fn for_client(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let known = |k: &str| CLIENT_PARAMETERS.contains(&k) || k.starts_with("options[");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let unknown: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| !known(k))
        .map(|(k, _)| k.as_str())
        .collect();
    if unknown.is_empty() {
        return url.to_string();
    }
    let host = parsed.host_str().unwrap_or_default().to_string();
    warn_once(
        &format!("unknown {host} {unknown:?}"),
        &format!(
            "{host}: connection parameter {} ignored (driftwatch's PostgreSQL client does not know {}; its value is not shown)",
            unknown.join(", "),
            if unknown.len() == 1 { "it" } else { "them" }
        ),
    );
    let kept: Vec<(String, String)> = pairs.iter().filter(|(k, _)| known(k)).cloned().collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// Prints `line` once per process for `key`: as a log event under `watch`
/// (which installs a subscriber), else as a `warning:` line on stderr.
pub(crate) fn warn_once(key: &str, line: &str) {
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = SEEN
        .lock()
        .map(|mut seen| seen.insert(key.to_string()))
        .unwrap_or(true);
    if !first {
        return;
    }
    if tracing::dispatcher::has_been_set() {
        tracing::warn!("{line}");
    } else {
        eprintln!("warning: {line}");
    }
}

/// True for a Unix socket path, `localhost`, and loopback addresses
/// (127.0.0.0/8, ::1).
pub fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.is_empty()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Warns once per URL when a remote server is reached without an explicit
/// `sslmode`: sqlx's default `prefer` falls back to plain text, so anyone
/// on the path can strip TLS and answer with crafted catalogs.
pub(crate) fn warn_without_sslmode(url: &str, redacted: &str, opts: &PgConnectOptions) {
    let explicit = url::Url::parse(url).is_ok_and(|u| {
        u.query_pairs()
            .any(|(k, _)| k == "sslmode" || k == "ssl-mode")
    });
    if explicit || std::env::var_os("PGSSLMODE").is_some() {
        return;
    }
    if opts.get_socket().is_some() || is_local_host(opts.get_host()) {
        return;
    }
    warn_once(
        &format!("sslmode {redacted}"),
        &format!(
            "{redacted}: no sslmode, so TLS can be stripped on the way to this server (and crafted catalogs fed in); add sslmode=require or, better, sslmode=verify-full"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_ends_at_the_last_at_sign() {
        assert_eq!(
            encode_userinfo("postgres://app:Ab3/x@db/app"),
            "postgres://app:Ab3%2Fx@db/app"
        );
        assert_eq!(
            encode_userinfo("postgres://app:p?q#r@s@db:5432/app?sslmode=require"),
            "postgres://app:p%3Fq%23r%40s@db:5432/app?sslmode=require"
        );
        // Already encoded stays as it was; a bare '%' is encoded.
        assert_eq!(
            encode_userinfo("postgres://app:p%40ss@db/app"),
            "postgres://app:p%40ss@db/app"
        );
        assert_eq!(
            encode_userinfo("postgres://app:50%@db/app"),
            "postgres://app:50%25@db/app"
        );
        assert_eq!(encode_userinfo("postgres://db/app"), "postgres://db/app");
    }

    #[test]
    fn every_form_of_the_password_is_scrubbed() {
        let url = encode_userinfo("postgres://app:Ab3/x@db/app");
        let m = scrub("password Ab3/x or Ab3%2Fx rejected", &url);
        assert_eq!(m, "password **** or **** rejected");
        let url = "postgres://app@db/app?password=p%2Fq";
        assert_eq!(scrub("p/q and p%2Fq", url), "**** and ****");
    }

    #[test]
    fn key_value_strings_hide_the_password() {
        assert_eq!(
            hide_password_pairs("host=db password=Ab3/x user=app"),
            "host=db password=**** user=app"
        );
        assert_eq!(
            hide_password_pairs("host=db PASSWORD = 'a b' user=app"),
            "host=db PASSWORD = **** user=app"
        );
        assert!(is_key_value("host=db dbname=app"));
        assert!(is_key_value("password = x"));
        assert!(!is_key_value("migrations/V1__x.sql"));
    }

    #[test]
    fn unknown_parameters_do_not_reach_the_client() {
        assert_eq!(
            for_client("postgres://db/app?passwd=Ab3&sslmode=require"),
            "postgres://db/app?sslmode=require"
        );
        assert_eq!(
            for_client("postgres://db/app?pass=Ab3"),
            "postgres://db/app"
        );
        let same = "postgres://db/app?sslmode=require&options[search_path]=x";
        assert_eq!(for_client(same), same);
    }

    #[test]
    fn webhook_urls_show_scheme_host_and_port_only() {
        let url = "https://hooks.slack.com/services/T0/B0/XyzToken?x=1";
        assert_eq!(endpoint_only(url), "https://hooks.slack.com/…");
        assert_eq!(
            endpoint_only("http://u:pw@127.0.0.1:8080/hook/TOKEN"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(endpoint_only("not a url /TOKEN"), "(not a URL)");
        let m = scrub_url(
            &format!("{url}: Connection Failed; POST /services/T0/B0/XyzToken?x=1"),
            url,
            &endpoint_only(url),
        );
        assert!(!m.contains("XyzToken"), "{m}");
        assert!(
            m.starts_with("https://hooks.slack.com/…: Connection Failed"),
            "{m}"
        );
        assert_eq!(
            hide_url_paths("http://127.0.0.1:9/h/TOKEN: HTTP 503, then https://x.org/a/B."),
            "http://127.0.0.1:9/…: HTTP 503, then https://x.org/…."
        );
    }

    #[test]
    fn local_hosts() {
        for h in [
            "",
            "/tmp",
            "localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "::1",
        ] {
            assert!(is_local_host(h), "{h}");
        }
        for h in [
            "db",
            "10.0.0.1",
            "192.0.2.1",
            "localhost.example.com",
            "[fd00::1]",
        ] {
            assert!(!is_local_host(h), "{h}");
        }
    }
}
