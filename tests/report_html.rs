//! `driftwatch check --format html` opened in a real browser: headless
//! Chromium (Debian's `chromium`, installed by `make setup`) renders the
//! report of a real drift scan at a phone's size. The page must show one
//! row per finding, run no script, load nothing, and show hostile names,
//! comments and bodies as text. The JSON report of the same scan is checked
//! against docs/check.schema.json.
//!
//! The screenshot and the report are left in `target/tmp/report_html/` for
//! people to look at.

#[path = "common/chromium.rs"]
mod chromium;
mod common;

use chromium::{
    dump_dom, find_chromium, has_element, phone_screenshot, probe_text, probe_value, read_probe,
    title_of, write_layout_probe, OUT_OF_BAND, WIDTH,
};
use common::{driftwatch, exec, fresh_db, repo, shadow};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

const TARGET: &str = "shop";

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

/// The report's layout probe ([`write_layout_probe`]), as `probe.html` in
/// `dir`: it measures how wide the report is against the phone-sized frame,
/// its rows, the finding codes broken over lines and the elements whose
/// content is wider than their box (outside the DDL diffs, which scroll).
fn layout_probe(html: &str, dir: &Path) -> PathBuf {
    const MEASURE: &str = "function measure(f){var doc=f.contentDocument,d=doc.documentElement,wide=[],broken=0;\
        doc.querySelectorAll('body, body *').forEach(function(e){\
        if(!e.closest('pre')&&e.clientWidth>0&&e.scrollWidth>e.clientWidth+1)\
        wide.push(e.tagName.toLowerCase()+(e.className?'.'+e.className.split(' ').join('.'):''));});\
        doc.querySelectorAll('tr.finding code').forEach(function(c){if(c.getClientRects().length>1)broken++;});\
        document.title='probe page='+d.scrollWidth+' viewport='+d.clientWidth\
        +' rows='+doc.querySelectorAll('tr.finding').length+' broken='+broken\
        +' overflowing='+(wide.slice(0,6).join(',')||'none');}";
    let path = dir.join("probe.html");
    write_layout_probe(html, MEASURE, &path);
    path
}

#[tokio::test]
async fn the_html_report_renders_in_chromium_with_one_row_per_finding_and_no_script() {
    let started = Instant::now();
    find_chromium("the HTML report"); // fail first, and say how to install it

    // A database as Flyway left it, then hand-made changes.
    let db = fresh_db().await;
    common::flyway::migrate(&db, &repo().join("fixtures/migrations/demo")).await;
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
    phone_screenshot(&html_path, &shot, &dir.path().join("screenshot.out"));

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
    let title = &read_probe(&layout_probe(&html, dir.path()));
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

/// A script a hostile table name carries, which sets the page's title.
const PAYLOAD: &str = "<script>document.title='pwned'</script>";

/// The sources each directive of the report's Content-Security-Policy
/// allows, from its `<meta http-equiv>` tag, which must come before
/// anything it governs (a policy applies only to what follows it).
fn csp_of(html: &str) -> Vec<(String, Vec<String>)> {
    let tag = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
    let start = html
        .find(tag)
        .unwrap_or_else(|| panic!("no Content-Security-Policy meta tag:\n{html}"));
    for governed in ["<style", "<body", "<script", "<img"] {
        if let Some(at) = html.find(governed) {
            assert!(start < at, "the policy comes after {governed}:\n{html}");
        }
    }
    assert_eq!(html.matches("Content-Security-Policy").count(), 1, "{html}");
    let content = &html[start + tag.len()..];
    let content = &content[..content.find('"').expect("end of the policy")];
    content
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace().map(str::to_string);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

/// The report's Content-Security-Policy, the line of defence behind
/// escaping: present, before what it governs, and strict (nothing loads,
/// no script of any kind runs, only the report's own inline style). In
/// Chromium, a hostile table name's script written raw into the report, as
/// an escaping bug would write it, does not run under the policy; the
/// same page without the policy runs it, which shows this Chromium runs
/// scripts and the check can fail.
#[tokio::test]
async fn the_html_reports_csp_keeps_a_script_from_running() {
    find_chromium("the HTML report's Content-Security-Policy");
    let db = fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let html_path = dir.path().join("report.html");
    let scan = || {
        let out = driftwatch(&[
            "check",
            "--url",
            db.expose(),
            "--name",
            "csp",
            "--store",
            store.to_str().unwrap(),
            "--format",
            "html",
            "-o",
            html_path.to_str().unwrap(),
        ]);
        out.status.code()
    };
    // The first scan records the accepted state; the table then drifts in.
    assert_eq!(scan(), Some(0));
    exec(&db, &format!("CREATE TABLE \"{PAYLOAD}\" (id int)")).await;
    assert_eq!(scan(), Some(1), "drift");
    let html = std::fs::read_to_string(&html_path).unwrap();

    let csp = csp_of(&html);
    let sources = |name: &str| csp.iter().find(|(d, _)| d == name).map(|(_, s)| s.clone());
    assert_eq!(
        sources("default-src"),
        Some(vec!["'none'".to_string()]),
        "{csp:?}"
    );
    for (directive, allowed) in &csp {
        assert!(
            !directive.starts_with("script-src") && directive != "connect-src",
            "{directive} loosens the policy: {csp:?}"
        );
        for source in allowed {
            let inline_style = directive == "style-src" && source == "'unsafe-inline'";
            assert!(
                source == "'none'" || inline_style,
                "{directive} allows {source}: {csp:?}"
            );
        }
    }

    // The name is escaped; written raw instead, its script is in the page.
    let escaped = driftwatch::report::escape_html(PAYLOAD);
    assert!(html.contains(&escaped), "the hostile name in:\n{html}");
    let title = "driftwatch: csp drift".to_string();
    let load = |name: &str, page: &str| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, page).unwrap();
        title_of(&dump_dom(&path)).to_string()
    };
    let raw = html.replace(&escaped, PAYLOAD);
    assert!(has_element(&raw, "script"));
    assert_eq!(
        load("raw.html", &raw),
        title,
        "the script ran under the policy"
    );
    let start = raw
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let end = start + raw[start..].find('>').unwrap() + 1;
    let unguarded = format!("{}{}", &raw[..start], &raw[end..]);
    assert_eq!(
        load("unguarded.html", &unguarded),
        "pwned",
        "without the policy the script runs (else this proves nothing)"
    );
    shadow().drop_database(&db).await.unwrap();
}
