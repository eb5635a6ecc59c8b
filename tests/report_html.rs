//! `driftwatch check --format html` opened in a real browser: headless
//! Chromium (Debian's `chromium`, installed by `make setup`) renders the
//! report of a real drift scan at a phone's size. The page must show one
//! row per finding, run no script, load nothing, and show hostile names,
//! comments and bodies as text. The JSON report of the same scan is checked
//! against docs/check.schema.json.
//!
//! The screenshot and the report are left in `target/tmp/report_html/` for
//! people to look at.

mod common;

use common::{driftwatch, exec, fresh_db, repo, shadow};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A phone's viewport (CSS pixels).
const WIDTH: u32 = 390;
const HEIGHT: u32 = 844;
/// Chromium gets this long per run before its process group is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

const TARGET: &str = "shop";

/// Out-of-band changes, each carrying markup that must stay text: a table
/// comment, a column name, a function body (shown in a `<pre>` diff).
const OUT_OF_BAND: &str = r#"
COMMENT ON TABLE shop.orders IS '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
ALTER TABLE shop.customers ADD COLUMN "nick<svg onload=alert(2)>" text;
DROP INDEX shop.orders_status_idx;
GRANT SELECT ON shop.customers TO PUBLIC;
CREATE OR REPLACE FUNCTION shop.order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(sum(quantity * unit_price), 0)
           + 0 * length('</pre><script>document.title="pwned"</script>')
      FROM shop.order_lines
     WHERE order_id = p_order_id
$$;
"#;

/// Debian's Chromium on PATH, or a failure that says how to get it.
fn chromium() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed: run `make setup` (scripts/setup.sh installs Debian's \
             chromium and fonts-dejavu-core); this test renders the HTML report in it"
        )
    })
}

/// Runs headless Chromium at the phone's size on `page` with `args`, its
/// standard output going to `stdout`. Kills its process group after
/// [`CHROMIUM_TIMEOUT`]; panics with its stderr when it fails.
fn run_chromium(page: &Path, args: &[String], stdout: &Path) {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir().unwrap();
    let err_path = profile.path().join("stderr.txt");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
    ])
    .arg(format!("--window-size={WIDTH},{HEIGHT}"))
    .arg(format!(
        "--user-data-dir={}",
        profile.path().join("profile").display()
    ));
    if nix::unistd::geteuid().is_root() {
        // Chromium refuses to start its sandbox as root.
        cmd.arg("--no-sandbox");
    }
    let url = url::Url::from_file_path(page).unwrap();
    cmd.args(args)
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0);
    let mut child = cmd.spawn().expect("start chromium");
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // The group is Chromium's own (process_group(0)) and its leader
            // is not reaped yet: this kills Chromium and its helpers only.
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!(
                "chromium {args:?} {url} did not finish in {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium {args:?} {url}: {status}; stderr:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
}

/// The DOM of `page` after Chromium loaded it.
fn dump_dom(page: &Path) -> String {
    let out = page.with_extension("dom.html");
    run_chromium(page, &["--dump-dom".into()], &out);
    std::fs::read_to_string(&out).unwrap()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "not a PNG: {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "the first chunk is IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&png[16..20]), be(&png[20..24]))
}

/// True when `html` opens a `<tag` element (case-insensitive).
fn has_element(html: &str, tag: &str) -> bool {
    html.to_ascii_lowercase().contains(&format!("<{tag}"))
}

/// Runs `driftwatch check` on the database; returns its exit code, stdout
/// and stderr.
fn check(url: &str, store: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let migrations = repo().join("fixtures/migrations/demo");
    // Replays go to the test's cluster (no second private cluster).
    let shadow_url = shadow().admin_url().expose().to_string();
    let mut args = vec![
        "check",
        "--url",
        url,
        "--migrations",
        migrations.to_str().unwrap(),
        "--name",
        TARGET,
        "--store",
        store.to_str().unwrap(),
        "--shadow-url",
        &shadow_url,
    ];
    args.extend_from_slice(extra);
    let out = driftwatch(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// --- A validator for the subset of JSON Schema 2020-12 the docs use. ---
// Unknown keywords are errors, so the schema cannot state a rule this test
// does not check.

/// The `pattern`s the schemas use, checked without a regex engine.
fn pattern_matches(pattern: &str, s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match pattern {
        "^sha256:[0-9a-f]{64}$" => s.strip_prefix("sha256:").is_some_and(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }),
        "^[a-z]+(-[a-z]+)*$" => s
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$" => {
            let b = s.as_bytes();
            s.len() == 20
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b'T'
                && b[13] == b':'
                && b[16] == b':'
                && b[19] == b'Z'
                && [
                    &s[0..4],
                    &s[5..7],
                    &s[8..10],
                    &s[11..13],
                    &s[14..16],
                    &s[17..19],
                ]
                .iter()
                .all(|t| digits(t))
        }
        other => panic!("the test does not know the pattern {other}: teach pattern_matches"),
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown JSON Schema type {other}"),
    }
}

/// Errors of `value` against `schema` (a node of `root`), at JSON path `at`.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let node = schema
        .as_object()
        .unwrap_or_else(|| panic!("schema node at {at} is not an object"));
    for (keyword, rule) in node {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let pointer = rule.as_str().unwrap().strip_prefix('#').unwrap();
                let target = root
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {pointer}"));
                validate(root, target, value, at, errors);
            }
            "type" => {
                let ok = match rule {
                    Value::String(t) => type_matches(t, value),
                    Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), value)),
                    _ => panic!("bad type at {at}"),
                };
                if !ok {
                    errors.push(format!("{at}: {value} is not of type {rule}"));
                }
            }
            "const" => {
                if value != rule {
                    errors.push(format!("{at}: {value} is not {rule}"));
                }
            }
            "enum" => {
                if !rule.as_array().unwrap().contains(value) {
                    errors.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "minimum" => {
                if value.as_f64().is_some_and(|n| n < rule.as_f64().unwrap()) {
                    errors.push(format!("{at}: {value} < {rule}"));
                }
            }
            "pattern" => {
                if let Some(s) = value.as_str() {
                    if !pattern_matches(rule.as_str().unwrap(), s) {
                        errors.push(format!("{at}: {s:?} does not match {rule}"));
                    }
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for key in rule.as_array().unwrap() {
                        if !obj.contains_key(key.as_str().unwrap()) {
                            errors.push(format!("{at}: missing {key}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(obj) = value.as_object() {
                    for (key, sub) in rule.as_object().unwrap() {
                        if let Some(v) = obj.get(key) {
                            validate(root, sub, v, &format!("{at}.{key}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                assert_eq!(
                    rule,
                    &Value::Bool(false),
                    "only additionalProperties: false"
                );
                if let Some(obj) = value.as_object() {
                    let known = node.get("properties").and_then(Value::as_object);
                    for key in obj.keys() {
                        if !known.is_some_and(|k| k.contains_key(key)) {
                            errors.push(format!("{at}: {key} is not in the schema"));
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        validate(root, rule, v, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            "oneOf" => {
                let passing = rule
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| {
                        let mut e = Vec::new();
                        validate(root, sub, value, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                if passing != 1 {
                    errors.push(format!(
                        "{at}: {passing} of the oneOf alternatives match {value}"
                    ));
                }
            }
            other => panic!("schema keyword {other:?} at {at}: the test does not check it"),
        }
    }
}

fn schema_errors(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(schema, schema, value, "$", &mut errors);
    errors
}

/// The JSON report follows docs/check.schema.json, and the check would
/// notice if it did not.
fn assert_follows_check_schema(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/check.schema.json")).unwrap(),
    )
    .expect("docs/check.schema.json is JSON");
    assert_eq!(
        schema["$id"], report["format"],
        "the schema's $id is the format"
    );
    let errors = schema_errors(&schema, report);
    assert!(errors.is_empty(), "docs/check.schema.json: {errors:#?}");
    // Several targets: an array of reports.
    let errors = schema_errors(&schema, &Value::Array(vec![report.clone(), report.clone()]));
    assert!(errors.is_empty(), "as an array: {errors:#?}");

    // The check can fail: an unknown key, a missing key, a bad value.
    let mut extra = report.clone();
    extra["surprise"] = true.into();
    let mut missing = report.clone();
    missing.as_object_mut().unwrap().remove("findings");
    let mut bad_severity = report.clone();
    bad_severity["findings"][0]["severity"] = "fatal".into();
    let mut bad_kind = report.clone();
    bad_kind["findings"][0]["object"] = serde_json::json!({"kind": "tabel", "name": "x"});
    let mut bad_attribution = report.clone();
    bad_attribution["findings"][0]["attribution"] = serde_json::json!({"by": "migration"});
    for (what, broken) in [
        ("an unknown key", extra),
        ("a missing key", missing),
        ("a bad severity", bad_severity),
        ("a bad kind", bad_kind),
        ("an attribution without its migration", bad_attribution),
    ] {
        assert!(
            !schema_errors(&schema, &broken).is_empty(),
            "the schema check misses {what}"
        );
    }

    // Every object kind driftwatch has is in the schema.
    let kinds = schema["$defs"]["kind"]["enum"].as_array().unwrap();
    for kind in driftwatch::diff::ObjectKind::ALL {
        assert!(
            kinds.contains(&Value::from(kind.as_str())),
            "check.schema.json lacks the kind {}",
            kind.as_str()
        );
    }
}

/// A page that shows the report, unchanged, in a phone-sized frame and
/// measures it with a script into its own title: how wide the report is
/// against the frame, its rows, the finding codes broken over lines and the
/// elements whose content is wider than their box (outside the DDL diffs,
/// which scroll). A frame, because Chromium's window is at least 500 pixels
/// wide when it dumps the DOM (only the screenshot gets 390).
fn layout_probe(html: &str, dir: &Path) -> PathBuf {
    const MEASURE: &str = "function measure(f){var doc=f.contentDocument,d=doc.documentElement,wide=[],broken=0;\
        doc.querySelectorAll('body, body *').forEach(function(e){\
        if(!e.closest('pre')&&e.clientWidth>0&&e.scrollWidth>e.clientWidth+1)\
        wide.push(e.tagName.toLowerCase()+(e.className?'.'+e.className.split(' ').join('.'):''));});\
        doc.querySelectorAll('tr.finding code').forEach(function(c){if(c.getClientRects().length>1)broken++;});\
        document.title='probe page='+d.scrollWidth+' viewport='+d.clientWidth\
        +' rows='+doc.querySelectorAll('tr.finding').length+' broken='+broken\
        +' overflowing='+(wide.slice(0,6).join(',')||'none');}";
    let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
    let probe = format!(
        "<!DOCTYPE html><html><head><title>probe pending</title><script>{MEASURE}</script></head>\
         <body style=\"margin:0\"><iframe style=\"border:0;width:{WIDTH}px;height:{HEIGHT}px\" \
         onload=\"measure(this)\" srcdoc=\"{srcdoc}\"></iframe></body></html>"
    );
    let path = dir.join("probe.html");
    std::fs::write(&path, probe).unwrap();
    path
}

/// `key=value` from the probe's title.
fn probe_text<'a>(title: &'a str, key: &str) -> &'a str {
    title
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in the probe's title {title:?}"))
}

/// `key=number` from the probe's title.
fn probe_value(title: &str, key: &str) -> u64 {
    let text = probe_text(title, key);
    text.parse()
        .unwrap_or_else(|_| panic!("{key}={text} is not a number in {title:?}"))
}

fn title_of(dom: &str) -> &str {
    let start = dom.find("<title>").expect("a <title>") + "<title>".len();
    let end = dom[start..].find("</title>").expect("</title>") + start;
    &dom[start..end]
}

#[tokio::test]
async fn the_html_report_renders_in_chromium_with_one_row_per_finding_and_no_script() {
    let started = Instant::now();
    chromium(); // fail first, and say how to install it

    // A database as Flyway left it, then hand-made changes.
    let db = fresh_db().await;
    let set = driftwatch::migrations::read(&repo().join("fixtures/migrations/demo"), None)
        .expect("read fixtures/migrations/demo");
    driftwatch::replay::migrate(&db, &set, &set.migrations)
        .await
        .expect("apply fixtures/migrations/demo");
    exec(&db, OUT_OF_BAND).await;

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let url = db.expose().to_string();

    // The JSON report: the findings, and the schema.
    let (code, json, stderr) = check(&url, &store, &["--format", "json"]);
    assert_eq!(code, Some(1), "drift is exit 1; stderr: {stderr}\n{json}");
    let report: Value = serde_json::from_str(&json).expect("the JSON report");
    assert_eq!(report["result"], "drift", "{json}");
    assert!(report.get("error").is_none(), "{json}");
    let findings = report["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for wanted in [
        "comment-changed",
        "column-added",
        "index-removed",
        "privilege-granted",
        "function-body-changed",
    ] {
        assert!(codes.contains(&wanted), "{wanted} missing from {codes:?}");
    }
    let counts = &report["counts"];
    assert_eq!(
        ["critical", "warning", "info"]
            .iter()
            .map(|k| counts[k].as_u64().unwrap())
            .sum::<u64>(),
        findings.len() as u64,
        "counts add up to the findings"
    );
    assert_follows_check_schema(&report);

    // The HTML report of the same database.
    let html_path = dir.path().join("report.html");
    let (code, _, stderr) = check(
        &url,
        &store,
        &["--format", "html", "-o", html_path.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "drift is exit 1; stderr: {stderr}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_html");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join("report.html"), &html).unwrap();

    // The file itself: self-contained, for phones, markup escaped.
    for tag in ["script", "img", "svg", "iframe", "link", "object", "embed"] {
        assert!(!has_element(&html, tag), "<{tag} in the HTML file:\n{html}");
    }
    for reference in ["http://", "https://", "url(", "@import", "src=\"", "href="] {
        assert!(
            !html.to_ascii_lowercase().contains(reference),
            "{reference} in the HTML file (it must load nothing):\n{html}"
        );
    }
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "viewport meta tag:\n{html}"
    );
    for escaped in [
        "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;&lt;img src=x",
        "nick&lt;svg onload=alert(2)&gt;",
        "&lt;/pre&gt;&lt;script&gt;",
    ] {
        assert!(
            html.contains(escaped),
            "{escaped} in the HTML file:\n{html}"
        );
    }

    // A phone's screenshot.
    let shot = keep.join("phone.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &html_path,
        &[format!("--screenshot={}", shot.display())],
        &dir.path().join("screenshot.out"),
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert_eq!(png_size(&png), (WIDTH, HEIGHT), "{}", shot.display());
    // A blank page at this size is 2.7 KB, Chromium's page for a missing
    // file 14 KB; this report about 90 KB.
    assert!(
        png.len() > 24_000,
        "{}: {} bytes, nothing much rendered",
        shot.display(),
        png.len()
    );

    // The DOM after loading: one row per finding, in order, no script.
    let dom = dump_dom(&html_path);
    std::fs::write(keep.join("report.dom.html"), &dom).unwrap();
    let rows: Vec<&str> = dom
        .split("<tr class=\"finding\" data-code=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(
        rows, codes,
        "one row per finding of the JSON report, in order"
    );
    assert_eq!(
        dom.matches("<tr class=\"finding\"").count(),
        findings.len(),
        "rows with class finding"
    );
    for tag in ["script", "img", "svg"] {
        assert!(
            !has_element(&dom, tag),
            "a <{tag}> element in the DOM:\n{dom}"
        );
    }
    assert!(dom.contains("&lt;script&gt;"), "the comment shows as text");
    assert!(
        dom.contains("nick&lt;svg onload=alert(2)&gt;"),
        "the column name shows as text"
    );
    assert_eq!(
        title_of(&dom),
        format!("driftwatch: {TARGET} drift"),
        "the title is the report's own"
    );
    assert_eq!(
        dom.matches("<pre>").count(),
        dom.matches("</pre>").count(),
        "the DDL diffs' <pre> blocks are closed where the report closes them"
    );

    // Readable on a phone: the report in a 390-pixel frame, measured by
    // the probe's script (which also shows this Chromium runs scripts).
    let probe = dump_dom(&layout_probe(&html, dir.path()));
    let title = title_of(&probe);
    assert!(
        title.starts_with("probe page="),
        "the probe's script ran: {title:?}"
    );
    assert_eq!(probe_value(title, "viewport"), u64::from(WIDTH), "{title}");
    assert_eq!(probe_value(title, "rows"), findings.len() as u64, "{title}");
    assert!(
        probe_value(title, "page") <= u64::from(WIDTH),
        "the report is wider than a phone's screen (it scrolls sideways): {title}; see {}",
        shot.display()
    );
    assert_eq!(
        probe_value(title, "broken"),
        0,
        "finding codes broken over lines (columns too narrow): {title}; see {}",
        shot.display()
    );
    assert_eq!(
        probe_text(title, "overflowing"),
        "none",
        "text wider than its box: {title}; see {}",
        shot.display()
    );

    shadow().drop_database(&db).await.unwrap();
    eprintln!("report_html: {:.1} s", started.elapsed().as_secs_f64());
}
