//! Text search configurations and dictionaries end to end, on every
//! supported major (13 to 18, each on a cluster of its own from
//! `scripts/postgres.sh`'s binaries): captured with their parser and
//! mappings (a dictionary with its template and options), diffed, rendered for reports,
//! planned and applied (created from nothing, mappings dropped, altered and
//! added, owner and comment changed, dropped to nothing) until the database
//! captures as the target; and read by a replay's incremental captures as a
//! full capture reads them.

mod common;

use common::{major_bindir, psql, psql_rows, replay_last_after, snap};
use driftwatch::catalog::DatabaseUrl;
use driftwatch::diff::{diff, Change, ObjectKind};
use driftwatch::model::{Snapshot, TextSearchConfiguration};
use driftwatch::shadow::{Cluster, ClusterOptions, Shadow};
use std::process::Command;

/// The configuration real projects write: a copy of `english` whose words
/// go through `unaccent` first; a table whose generated column and index
/// name it (so it must exist before them and go after them).
const BASE: &str = r#"
CREATE EXTENSION unaccent SCHEMA public;
CREATE SCHEMA search;
CREATE TEXT SEARCH DICTIONARY search.english_simple (TEMPLATE = simple, STOPWORDS = english);
COMMENT ON TEXT SEARCH DICTIONARY search.english_simple IS 'simple, less English stop words';
CREATE TEXT SEARCH CONFIGURATION search.docs (COPY = english);
ALTER TEXT SEARCH CONFIGURATION search.docs
  ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, english_stem;
ALTER TEXT SEARCH CONFIGURATION search.docs ALTER MAPPING FOR numword WITH search.english_simple;
COMMENT ON TEXT SEARCH CONFIGURATION search.docs IS 'documents';
CREATE TABLE search.doc (
  id int PRIMARY KEY,
  body text,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('search.docs'::regconfig, body)) STORED
);
CREATE INDEX doc_body ON search.doc USING gin (to_tsvector('search.docs'::regconfig, body));
"#;

/// BASE with mappings dropped, altered and added, another owner and
/// comment, and a second configuration with a name that needs quoting.
const CHANGED: &str = r#"
CREATE EXTENSION unaccent SCHEMA public;
CREATE SCHEMA search;
CREATE TEXT SEARCH DICTIONARY search.english_simple
  (TEMPLATE = simple, STOPWORDS = english, ACCEPT = false);
CREATE TEXT SEARCH DICTIONARY search.french (TEMPLATE = snowball, LANGUAGE = french);
CREATE TEXT SEARCH CONFIGURATION search.docs (COPY = english);
ALTER TEXT SEARCH CONFIGURATION search.docs ALTER MAPPING FOR numword WITH search.english_simple;
ALTER TEXT SEARCH CONFIGURATION search.docs ALTER MAPPING FOR int WITH search.french, simple;
ALTER TEXT SEARCH CONFIGURATION search.docs DROP MAPPING FOR email, url, url_path;
ALTER TEXT SEARCH CONFIGURATION search.docs
  ALTER MAPPING FOR asciiword, asciihword, hword_asciipart WITH simple;
ALTER TEXT SEARCH CONFIGURATION search.docs
  ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, simple;
ALTER TEXT SEARCH CONFIGURATION search.docs OWNER TO dw_owner;
COMMENT ON TEXT SEARCH CONFIGURATION search.docs IS 'documents, plainly';
CREATE TEXT SEARCH CONFIGURATION search."Odd ""name""" (PARSER = default);
ALTER TEXT SEARCH CONFIGURATION search."Odd ""name"""
  ADD MAPPING FOR asciiword, word WITH simple;
CREATE TABLE search.doc (
  id int PRIMARY KEY,
  body text,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('search.docs'::regconfig, body)) STORED
);
CREATE INDEX doc_body ON search.doc USING gin (to_tsvector('search.docs'::regconfig, body));
"#;

/// One configuration of a snapshot by name.
fn configuration<'a>(s: &'a Snapshot, name: &str) -> &'a TextSearchConfiguration {
    s.objects
        .text_search_configurations
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no configuration {name} in {:?}",
                s.objects.text_search_configurations
            )
        })
}

/// The dictionaries `token` goes through in `c`.
fn dictionaries<'a>(c: &'a TextSearchConfiguration, token: &str) -> Option<&'a [String]> {
    c.mappings
        .iter()
        .find(|m| m.token == token)
        .map(|m| m.dictionaries.as_slice())
}

/// The change codes of a diff, as text.
fn codes(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| format!("{} {}", c.code, c.object.name))
        .collect()
}

/// Writes `sql` to a file and runs it through psql, stopping at the first
/// error.
fn apply(db: &DatabaseUrl, sql: &str) {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), sql).expect("write script");
    let out = Command::new("psql")
        .arg(db.expose())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file.path())
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "the plan does not apply: {}\n{sql}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Plans `from` → `to` on `major`, applies the plan to a database holding
/// `from`, and asserts it then captures as `to`. Returns the plan's SQL.
async fn round_trip(here: &Shadow, major: u32, from: &str, to: &str) -> String {
    let a = here.fresh_database("ts_from").await.expect("database");
    let b = here.fresh_database("ts_to").await.expect("database");
    if !from.is_empty() {
        psql(&a, from);
    }
    if !to.is_empty() {
        psql(&b, to);
    }
    let (sa, sb) = (snap(&a).await, snap(&b).await);
    assert_eq!(sa.meta.server_version_num.map(|n| n / 10_000), Some(major));
    let plan = driftwatch::ddl::plan::plan(
        &sa,
        &sb,
        &driftwatch::ddl::plan::PlanOptions {
            allow_drops: true,
            server_major: Some(major),
            ..Default::default()
        },
    );
    for s in &plan.statements {
        pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT)
            .unwrap_or_else(|e| panic!("does not parse: {}: {e}", s.sql));
    }
    let sql = plan.to_sql();
    apply(&a, &sql);
    let after = snap(&a).await;
    let left = codes(&diff(&after, &sb));
    assert!(
        left.is_empty(),
        "PostgreSQL {major}: left after the plan: {left:?}\n{sql}"
    );
    sql
}

/// Replays migrations that create a configuration, then change other
/// objects only (incremental captures that must keep it), then its
/// mappings, and compares the last after-snapshot's configurations with a
/// full capture of the same migrations.
async fn replay_keeps_configurations(here: &Shadow, major: u32) {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = [
        ("V1__search.sql", BASE),
        ("V2__other.sql", "CREATE TABLE search.tag (id int);"),
        (
            "V3__mapping.sql",
            "ALTER TEXT SEARCH CONFIGURATION search.docs ALTER MAPPING FOR asciiword WITH simple;",
        ),
        (
            "V4__more.sql",
            "ALTER TABLE search.tag ADD COLUMN name text;",
        ),
    ];
    for (name, sql) in migrations {
        std::fs::write(dir.path().join(name), sql).expect("write migration");
    }
    let replayed = replay_last_after(dir.path(), Some(&major_bindir(major)));
    let full = here.fresh_database("ts_full").await.expect("database");
    for (_, sql) in migrations {
        psql(&full, sql);
    }
    let captured = snap(&full).await;
    // A replay's objects belong to the replay's own role.
    let unowned = |s: &Snapshot| {
        let mut list = s.objects.text_search_configurations.clone();
        list.iter_mut().for_each(|c| c.owner.clear());
        let mut dictionaries = s.objects.text_search_dictionaries.clone();
        dictionaries.iter_mut().for_each(|d| d.owner.clear());
        (list, dictionaries)
    };
    assert_eq!(
        unowned(&replayed),
        unowned(&captured),
        "PostgreSQL {major}: the replay's incremental captures lost or kept a stale configuration"
    );
    let docs = configuration(&replayed, "docs");
    assert_eq!(
        dictionaries(docs, "asciiword"),
        Some(&["simple".to_string()][..])
    );
}

async fn check_major(major: u32) {
    let bindir = major_bindir(major);
    assert!(
        bindir.join("postgres").is_file(),
        "PostgreSQL {major} is not installed in {} (make test runs scripts/postgres.sh install)",
        bindir.display()
    );
    let cluster = Cluster::start(ClusterOptions {
        bindir: Some(bindir),
        ..ClusterOptions::default()
    })
    .expect("cluster");
    let here = Shadow::Local(cluster);
    psql(&here.admin_url(), common::ROLES_SQL);

    // Captured: parser, mappings in token order, dictionaries in order,
    // owner and comment; nothing of pg_catalog's own configurations.
    let db = here.fresh_database("ts_capture").await.expect("database");
    psql(&db, BASE);
    let s = snap(&db).await;
    assert_eq!(s.objects.text_search_configurations.len(), 1);
    let docs = configuration(&s, "docs");
    // `default` is a key word: the parser's name is written quoted.
    assert_eq!(
        (docs.schema.as_str(), docs.parser.as_str()),
        ("search", "\"default\"")
    );
    assert_eq!(docs.comment.as_deref(), Some("documents"));
    assert_eq!(
        dictionaries(docs, "word"),
        Some(&["public.unaccent".to_string(), "english_stem".to_string()][..])
    );
    assert_eq!(
        dictionaries(docs, "asciiword"),
        Some(&["english_stem".to_string()][..])
    );
    assert_eq!(
        dictionaries(docs, "numword"),
        Some(&["search.english_simple".to_string()][..])
    );
    assert_eq!(s.objects.text_search_dictionaries.len(), 1);
    let simple = &s.objects.text_search_dictionaries[0];
    assert_eq!(
        (simple.name.as_str(), simple.template.as_str()),
        ("english_simple", "simple")
    );
    assert_eq!(simple.options, ["stopwords = 'english'"]);
    let tokens: Vec<&str> = docs.mappings.iter().map(|m| m.token.as_str()).collect();
    let parser_order = psql_rows(
        &db,
        "SELECT alias FROM ts_token_type('default') t \
         WHERE EXISTS (SELECT 1 FROM pg_ts_config_map m WHERE m.mapcfg = 'search.docs'::regconfig AND m.maptokentype = t.tokid) \
         ORDER BY tokid",
    );
    assert_eq!(tokens, parser_order);

    // Diffed and rendered: one change per configuration, the report's SQL
    // parses.
    let empty = here.fresh_database("ts_empty").await.expect("database");
    let changes = diff(&snap(&empty).await, &s);
    assert!(
        codes(&changes).contains(&"text-search-configuration-added search.docs".to_string()),
        "{:?}",
        codes(&changes)
    );
    let rendered = driftwatch::ddl::render(
        &s.objects,
        ObjectKind::TextSearchConfiguration,
        "search.docs",
    )
    .expect("rendered");
    assert!(rendered
        .starts_with("CREATE TEXT SEARCH CONFIGURATION search.docs (PARSER = \"default\");\n"));
    pg_query::parse(&rendered, pg_query::ParserOptions::DEFAULT).expect("the report's SQL parses");
    let changed_db = here.fresh_database("ts_changed").await.expect("database");
    psql(&changed_db, CHANGED);
    let changed = codes(&diff(&s, &snap(&changed_db).await));
    for expected in [
        "text-search-configuration-mappings-changed search.docs",
        "owner-changed search.docs",
        "comment-changed search.docs",
        "text-search-configuration-added search.\"Odd \"\"name\"\"\"",
        "text-search-dictionary-options-changed search.english_simple",
        "comment-changed search.english_simple",
        "text-search-dictionary-added search.french",
    ] {
        assert!(
            changed.contains(&expected.to_string()),
            "{expected} not in {changed:?}"
        );
    }

    // Planned and applied, every way.
    let created = round_trip(&here, major, "", BASE).await;
    assert!(
        created.contains("CREATE TEXT SEARCH CONFIGURATION search.docs (PARSER = \"default\");")
    );
    let altered = round_trip(&here, major, BASE, CHANGED).await;
    assert!(
        !altered.contains("DROP TEXT SEARCH CONFIGURATION search.docs"),
        "{altered}"
    );
    assert!(
        altered.contains("DROP MAPPING FOR email, url, url_path;"),
        "{altered}"
    );
    round_trip(&here, major, CHANGED, BASE).await;
    let dropped = round_trip(&here, major, BASE, "").await;
    let at = |sql: &str, what: &str| {
        sql.find(what)
            .unwrap_or_else(|| panic!("no {what} in {sql}"))
    };
    assert!(
        at(&dropped, "DROP TEXT SEARCH CONFIGURATION search.docs;")
            < at(
                &dropped,
                "DROP TEXT SEARCH DICTIONARY search.english_simple;"
            )
    );
    assert!(
        at(
            &created,
            "CREATE TEXT SEARCH DICTIONARY search.english_simple"
        ) < at(&created, "CREATE TEXT SEARCH CONFIGURATION search.docs")
    );
    assert!(
        altered.contains("ALTER TEXT SEARCH DICTIONARY search.english_simple (accept = 'false');"),
        "{altered}"
    );

    // Replayed: the incremental captures keep it and follow its changes.
    replay_keeps_configurations(&here, major).await;
}

common::per_major!(check_major);
