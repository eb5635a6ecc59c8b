//! Database text that tries to act on its reader, end to end: a real
//! database whose table, column, comment and function body carry terminal
//! control sequences (screen clearing, an OSC 8 hyperlink, BEL, a bare
//! carriage return, CRLF, a bidi override) and Markdown and HTML (a link, an
//! image, an @-mention, an `<img onerror>`, a table pipe, backtick fences).
//! `driftwatch diff` and `driftwatch check` in text, Markdown and HTML must
//! show all of it as text: no raw control character but newline and tab, no
//! escape sequence but driftwatch's own colours, and Markdown that a GFM
//! renderer turns into no link, image, tag or extra table cell.

mod common;

use common::{assert_inert, driftwatch, exec, fresh_db, repo, shadow};
use std::path::Path;
use std::process::Output;

/// 36 bytes: clears the screen, opens a hyperlink, rings, adds a table
/// column and a link.
const TABLE: &str = "evil\x1b[2J\x1b]8;;http://e\x07|[x](http://e)";
/// CRLF (a name on two lines), a mention, an HTML image, a bidi override,
/// a backtick.
const COLUMN: &str = "c\r\n@org/team <img src=x onerror=alert(1)>\u{202e}`";
/// A comment with everything, a bare CR that would hide what precedes it.
const COMMENT: &str = "hi\rHIDDEN\x1b[2J\x1b]8;;http://evil\x07click\x1b]8;;\x07 \u{202e}\u{2066} ``` [x](http://evil) ![i](http://evil/p.png) @org/team <img src=x onerror=alert(1)> | end\x07";
/// A function body over several lines, with a tab, a bare CR and ESC in a
/// string literal, and a line of three backticks that both sides have (a
/// context line of the diff, which a three-backtick fence would end at).
const BODY: &str = "SELECT\n\t'a\x1b[2J\rhidden\u{202e}\n```\n'::text";

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The hostile table in `schema`, with a plain comment and a plain function.
fn plain_sql(schema: &str) -> String {
    format!(
        "CREATE TABLE {schema}.{t} (id int);\n\
         COMMENT ON TABLE {schema}.{t} IS 'plain';\n\
         CREATE FUNCTION {schema}.f() RETURNS text LANGUAGE sql AS $b$SELECT 'plain\n```\n'::text$b$;\n",
        t = ident(TABLE)
    )
}

/// The hostile column and comments, and the function's hostile body.
fn hostile_sql(schema: &str) -> String {
    format!(
        "ALTER TABLE {schema}.{t} ADD COLUMN {c} text;\n\
         COMMENT ON TABLE {schema}.{t} IS {comment};\n\
         COMMENT ON COLUMN {schema}.{t}.{c} IS {comment};\n\
         CREATE OR REPLACE FUNCTION {schema}.f() RETURNS text LANGUAGE sql AS {body};\n",
        t = ident(TABLE),
        c = ident(COLUMN),
        comment = literal(COMMENT),
        body = literal(BODY)
    )
}

/// Every payload is shown in its visible form.
fn assert_visible(what: &str, text: &str) {
    for shown in ["\\x1b[2J", "\\x1b]8;;http://e", "\\x07", "\\u202e", "\\r"] {
        assert!(text.contains(shown), "{what}: {shown} not shown in {text}");
    }
}

/// Markdown rendered the way GitHub does before it sanitises.
fn gfm(md: &str) -> String {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o.extension.tagfilter = true;
    o.render.r#unsafe = true;
    comrak::markdown_to_html(md, &o)
}

/// The element names in `html`.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|t| {
            t.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Markdown from driftwatch: inert, and rendered, only the elements the
/// report writes itself, table rows of `columns` cells.
fn assert_markdown(what: &str, md: &str, columns: usize) {
    assert_inert(what, md, false);
    let html = gfm(md);
    let allowed = [
        "h1",
        "h3",
        "p",
        "strong",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "pre",
        "details",
        "summary",
        "blockquote",
        "ul",
        "li",
    ];
    for t in tags(&html) {
        assert!(allowed.contains(&t.as_str()), "{what}: <{t}> in {html}");
    }
    for row in html.split("<tr>").skip(1) {
        let row = row.split("</tr>").next().unwrap_or_default();
        let cells = row.matches("<td").count() + row.matches("<th").count();
        assert_eq!(cells, columns, "{what}: a row of {cells} cells: {row}");
    }
    // Each diff stays in its fence, inside its `<details>`.
    assert_eq!(
        html.matches("</details>").count(),
        md.matches("<details>").count(),
        "{what}: a fence ended early: {html}"
    );
    // What a reader sees still names the objects (as SQL writes such a
    // name: `U&"…"` with escapes).
    assert!(html.contains("evil\\001B[2J"), "{what}: {html}");
}

/// HTML from driftwatch: inert, no element from the database.
fn assert_html(what: &str, html: &str) {
    assert_inert(what, html, false);
    for t in tags(html) {
        assert!(
            t != "img" && t != "a" && t != "script",
            "{what}: <{t}> in {html}"
        );
    }
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{what}"
    );
    assert!(
        html.contains("\\x1b[2J") && html.contains("\\u202e"),
        "{what}"
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn diff_shows_hostile_names_comments_and_bodies_as_text() {
    let a = fresh_db().await;
    exec(&a, &format!("CREATE SCHEMA app;\n{}", plain_sql("app"))).await;
    let b = fresh_db().await;
    exec(
        &b,
        &format!(
            "CREATE SCHEMA app;\n{}{}",
            plain_sql("app"),
            hostile_sql("app")
        ),
    )
    .await;
    let (a, b) = (a.expose(), b.expose());

    let out = driftwatch(&["diff", a, b, "--format", "text", "--color", "never"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert_inert("diff text", &text, false);
    assert_visible("diff text", &text);
    // A name never spans lines; a body keeps its lines and its tab.
    assert!(text.contains("c\\000D\\000A@org/team <img"), "{text}");
    // A body with a control character is written as an `E'…'` literal
    // (its lines and tab kept), so the CR is shown as `\r`.
    assert!(
        text.contains("+\t''a\\x1b[2J\\rhidden\\u202e\n       ```\n"),
        "{text}"
    );

    let out = driftwatch(&["diff", a, b, "--format", "text", "--color", "always"]);
    let text = stdout(&out);
    assert!(
        text.contains("\x1b[1m"),
        "driftwatch's own colours stay: {text}"
    );
    assert_inert("diff text in colour", &text, true);
    assert_visible("diff text in colour", &text);

    let out = driftwatch(&["diff", a, b, "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert_markdown("diff markdown", &md, 4);
    assert_visible("diff markdown, rendered", &gfm(&md));
}

#[tokio::test]
async fn check_text_markdown_and_html_show_hostile_text_as_text() {
    let db = fresh_db().await;
    let migrations = repo().join("fixtures/migrations/demo");
    common::flyway::migrate(&db, &migrations).await;
    exec(
        &db,
        &format!("{}{}", plain_sql("shop"), hostile_sql("shop")),
    )
    .await;
    let store = tempfile::tempdir().expect("temp dir");
    let shadow_url = shadow().admin_url().expose().to_string();
    let check = |format: &str, store: &Path| {
        let out = driftwatch(&[
            "check",
            "--url",
            db.expose(),
            "--migrations",
            migrations.to_str().unwrap(),
            "--name",
            "shop",
            "--store",
            store.to_str().unwrap(),
            "--shadow-url",
            &shadow_url,
            "--format",
            format,
            "--color",
            "never",
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    };
    let text = check("text", store.path());
    assert_inert("check text", &text, false);
    assert_visible("check text", &text);
    let md = check("markdown", store.path());
    assert_markdown("check markdown", &md, 5);
    assert_visible("check markdown, rendered", &gfm(&md));
    let html = check("html", store.path());
    assert_html("check html", &html);
}

#[tokio::test]
async fn history_rows_and_error_lines_show_hostile_text_as_text() {
    // A hand-written runner's history whose rows say anything.
    let db = fresh_db().await;
    exec(
        &db,
        &format!(
            "CREATE TABLE public.schema_migrations (version text, name text, applied_at timestamptz);\n\
             INSERT INTO public.schema_migrations VALUES ({}, {}, now());",
            literal("1\x1b[2J"),
            literal(COMMENT)
        ),
    )
    .await;
    let out = driftwatch(&["history", db.expose()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert_inert("history text", &text, false);
    assert!(text.contains("1\\x1b[2J"), "{text}");
    assert!(
        text.contains("hi\\rHIDDEN\\x1b[2J\\x1b]8;;http://evil\\x07"),
        "{text}"
    );

    // An error quoting a name: one line, shown, not obeyed.
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = dir.path().join("schema.sql");
    std::fs::write(&schema, format!("SELECT * FROM {};\n", ident(TABLE))).expect("write");
    let shadow_url = shadow().admin_url().expose().to_string();
    let out = driftwatch(&[
        "snapshot",
        schema.to_str().unwrap(),
        "--shadow-url",
        &shadow_url,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_inert("error line", &err, false);
    assert!(err.contains("evil\\x1b[2J\\x1b]8;;http://e\\x07"), "{err}");
}

#[tokio::test]
async fn status_shows_a_failed_scans_hostile_error_as_text() {
    // An applied migration that fails in the shadow database, quoting a name.
    let db = fresh_db().await;
    exec(
        &db,
        "CREATE TABLE public.schema_migrations (version text, name text, applied_at timestamptz);\n\
         INSERT INTO public.schema_migrations VALUES ('1', 'evil', now());",
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).expect("mkdir");
    std::fs::write(
        migrations.join("V1__evil.sql"),
        format!("SELECT * FROM {};\n", ident(TABLE)),
    )
    .expect("write");
    let store = dir.path().join("store");
    let shadow_url = shadow().admin_url().expose().to_string();
    let out = driftwatch(&[
        "check",
        "--url",
        db.expose(),
        "--migrations",
        migrations.to_str().unwrap(),
        "--name",
        "shop",
        "--store",
        store.to_str().unwrap(),
        "--shadow-url",
        &shadow_url,
        "--color",
        "never",
    ]);
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_inert("failed check", &text, false);
    let out = driftwatch(&["status", "--store", store.to_str().unwrap()]);
    let status = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{status}");
    assert_inert("status", &status, false);
    assert!(
        status.contains("evil\\x1b[2J\\x1b]8;;http://e\\x07"),
        "{status}"
    );
}
