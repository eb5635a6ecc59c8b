//! External conformance: the migra project's fixture pairs in
//! ../shared/corpus/migra (read in place). For each case, a and b load into
//! fresh databases; diff(a,a) and diff(b,b) must be empty, and the changes
//! of diff(a,b) are judged both ways against migra's expected.sql: every
//! expected statement's object is among the changes (expected found), and
//! every change is to an object some expected statement touches (nothing
//! unexpected). Where driftwatch and migra legitimately disagree, the
//! adaptation is written down in ADAPTATIONS and must be used. Failing cases
//! stay visible: they must match KNOWN_FAILURES exactly, and the summary
//! line (`N passed, M known failures`) goes straight to stderr, so `make
//! test` shows it even though libtest captures test output.

mod common;

use common::*;
use driftwatch::catalog::{capture, CaptureOptions, DatabaseUrl};
use driftwatch::diff::{diff, Change, IgnoreRules};
use driftwatch::model::Snapshot;
use std::path::{Path, PathBuf};

/// Cases that do not pass yet, each with the reason. A case that starts
/// passing must be removed from here (the test says so).
const KNOWN_FAILURES: &[(&str, &str)] = &[
    (
        "generated_added",
        "expected.sql alters demo_gencol, which is identical in a.sql and b.sql; the real difference (table t, dropped) is reported",
    ),
    (
        "singleschema",
        "--schema goodschema does not narrow extensions: hstore/citext installed in public are reported, migra (and the README's --schema) leave them out",
    ),
];

/// Changes driftwatch reports that migra's expected.sql has no statement
/// for, per case: (case, change code, object name, why this is right).
const ADAPTATIONS: &[(&str, &str, &str, &str)] = &[];

/// Expected statements that name no object: (prefix, why they need none).
const NAMELESS: &[(&str, &str)] = &[
    (
        "set ",
        "a session setting migra emits (check_function_bodies), not a schema change",
    ),
    (
        "select 1",
        "migra's placeholder for the index behind an exclusion constraint, which the constraint's own statement creates or drops",
    ),
];

fn corpus() -> PathBuf {
    repo().join("../shared/corpus/migra")
}

/// The corpus's case folders, sorted.
fn corpus_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("the corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// A corpus file; a missing one fails the case instead of reading as empty.
fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Capture options and ignore rules mirroring the flags migra's own tests
/// (tests/test_migra.py) pass: `--with-privileges` only for some fixtures,
/// `--schema goodschema`, `--exclude-schema`, and for singleschema_ext
/// `--create-extensions-only` (extension additions and nothing else).
fn options(case: &str) -> (CaptureOptions, Vec<String>) {
    const WITH_PRIVILEGES: &[&str] = &[
        "everything",
        "privileges",
        "enumdefaults",
        "enumdeps",
        "extversions",
        "seq",
        "rls",
        "rls2",
    ];
    let mut opts = CaptureOptions::default();
    let mut ignore = vec!["code:extension-version-changed".to_string()];
    if !WITH_PRIVILEGES.contains(&case) {
        ignore.push("kind:privilege".into());
    }
    match case {
        "singleschema" => opts.schemas = vec!["goodschema".into()],
        "excludeschema" => opts.exclude_schemas = vec!["excludedschema".into()],
        "extversions" => ignore.retain(|r| r != "code:extension-version-changed"),
        "singleschema_ext" => {
            ignore.push("code:extension-removed".into());
            for kind in driftwatch::diff::ObjectKind::ALL {
                if kind != driftwatch::diff::ObjectKind::Extension {
                    ignore.push(format!("kind:{}", kind.as_str()));
                }
            }
        }
        _ => {}
    }
    (opts, ignore)
}

async fn load(db: &DatabaseUrl, path: &Path) -> Result<(), String> {
    let sql = read(path)?;
    if sql.trim().is_empty() {
        return Ok(());
    }
    driftwatch::shadow::load_sql(db, &sql, &path.display().to_string())
        .await
        .map_err(|e| e.to_string())
}

async fn snapshots(
    a: &DatabaseUrl,
    b: &DatabaseUrl,
    opts: &CaptureOptions,
) -> (Snapshot, Snapshot) {
    let (sa, _) = capture(a, opts).await.expect("capture");
    let (sb, _) = capture(b, opts).await.expect("capture");
    (sa, sb)
}

fn changes(sa: &Snapshot, sb: &Snapshot, rules: &IgnoreRules) -> Vec<Change> {
    let mut c = diff(sa, sb);
    rules.apply(&mut c);
    c
}

/// The table (schema.name) that has an index, constraint or trigger called
/// `name` (schema.name) on either side.
fn owning_table(sa: &Snapshot, sb: &Snapshot, name: &str) -> Option<String> {
    let (schema, child) = name.split_once('.')?;
    [sa, sb].iter().find_map(|s| {
        s.objects.tables.iter().find_map(|t| {
            let has = t.indexes.iter().any(|i| i.name == child)
                || t.constraints.iter().any(|c| c.name == child)
                || t.triggers.iter().any(|g| g.name == child);
            (t.schema == schema && has).then(|| format!("{}.{}", t.schema, t.name))
        })
    })
}

/// Views migra drops and recreates only because something they depend on
/// changed: present on both sides with the same canonical definition.
fn rebuilt_unchanged(sa: &Snapshot, sb: &Snapshot, name: &str) -> bool {
    let find = |s: &Snapshot| {
        s.objects
            .views
            .iter()
            .map(|v| (format!("{}.{}", v.schema, v.name), &v.definition))
            .chain(
                s.objects
                    .materialized_views
                    .iter()
                    .map(|v| (format!("{}.{}", v.schema, v.name), &v.definition)),
            )
            .find(|(n, _)| n == name)
            .map(|(_, d)| driftwatch::normalize::canonical_query(d))
    };
    matches!((find(sa), find(sb)), (Some(x), Some(y)) if x == y)
}

/// Names an expected statement touches: its relations and functions as
/// pg_query sees them, and the first quoted name in it.
fn touched(statement: &str) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(parsed) = pg_query::parse(statement, pg_query::ParserOptions::DEFAULT) {
        names.extend(parsed.tables());
        names.extend(parsed.functions());
    }
    // Every quoted name, qualified ones joined ("s"."t" → s.t).
    let mut rest = statement;
    let mut current: Vec<String> = Vec::new();
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        current.push(after[..end].to_string());
        let tail = &after[end + 1..];
        if tail.starts_with(".\"") {
            rest = &tail[1..];
        } else {
            names.push(current.join("."));
            current.clear();
            rest = tail;
        }
    }
    // A statement that creates or drops a view touches the view, not the
    // tables its query reads.
    let lower = statement.trim_start().to_lowercase();
    let view_ddl = [
        "create or replace view",
        "create view",
        "drop view",
        "create materialized view",
        "drop materialized view",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    if view_ddl {
        let first_quoted = names.iter().position(|n| n.contains('.'));
        names = first_quoted
            .map(|i| vec![names[i].clone()])
            .unwrap_or(names);
    }
    // migra renames a type out of the way before recreating it.
    names
        .into_iter()
        .map(|n| {
            n.trim_end_matches("__old_version_to_be_dropped")
                .to_string()
        })
        .collect()
}

fn mentions(changes: &[Change], name: &str) -> bool {
    let plain = |s: &str| s.replace('"', "");
    // migra names indexes and constraints schema.name; driftwatch keys them
    // schema.table.name.
    let (schema, last) = name.split_once('.').unwrap_or(("", name));
    changes.iter().any(|c| {
        let id = plain(&c.object.name);
        let parts: Vec<&str> = id.split('.').collect();
        if parts.len() == 3 && parts[0] == schema && parts[2] == last {
            return true;
        }
        // A rename mentions the old name too.
        if let (driftwatch::diff::ChangeCode::Renamed(_), Some(old)) = (c.code, c.before.as_str()) {
            if format!("{}.{old}", c.object.schema.clone().unwrap_or_default()) == name {
                return true;
            }
        }
        let parent = c
            .object
            .parent
            .as_deref()
            .map(|p| plain(p.split_once(':').map(|x| x.1).unwrap_or(p)))
            .unwrap_or_default();
        [id, parent].iter().any(|x| {
            x == name
                || x.starts_with(&format!("{name}."))
                || x.starts_with(&format!("{name}("))
                || x.ends_with(&format!(".{name}"))
                || x.contains(&format!(".{name}."))
        })
    })
}

/// What a case needed beyond the plain rules: adaptations used (counted in
/// the summary).
#[derive(Default)]
struct Outcome {
    adaptations: Vec<String>,
}

async fn run_case(dir: &Path) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    let case = dir.file_name().unwrap().to_string_lossy().to_string();
    let (opts, ignore) = options(&case);
    let rules = IgnoreRules::parse(&ignore).unwrap();
    let a = fresh_db().await;
    let b = fresh_db().await;
    load(&a, &dir.join("a.sql")).await?;
    load(&b, &dir.join("b.sql")).await?;
    let additions = read(&dir.join("additions.sql"))?;
    // As migra's tests do: additions run on a only, and expected2.sql is
    // then the migration from a to b.
    let expected_file = if additions.trim().is_empty() {
        "expected.sql"
    } else {
        load(&a, &dir.join("additions.sql")).await?;
        "expected2.sql"
    };
    let expected = read(&dir.join(expected_file))?;
    let statements: Vec<String> = driftwatch::normalize::split_statements(&expected)
        .map_err(|e| format!("{expected_file}: {e}"))?
        .into_iter()
        .map(|s| s.text.to_string())
        .collect();

    let (sa, sb) = snapshots(&a, &b, &opts).await;
    for (side, s) in [("a", &sa), ("b", &sb)] {
        let (again, _) = capture(if side == "a" { &a } else { &b }, &opts)
            .await
            .expect("capture");
        let same = changes(s, &again, &rules);
        if !same.is_empty() {
            return Err(format!(
                "diff({side},{side}) not empty: {}",
                same[0].summary()
            ));
        }
    }
    let found = changes(&sa, &sb, &rules);
    if std::env::var("DW_CONFORMANCE_DEBUG").as_deref() == Ok(case.as_str()) {
        for c in &found {
            eprintln!("  change: {} {}", c.code, c.summary());
        }
    }
    if found.is_empty() != statements.is_empty() {
        return Err(format!(
            "{} changes but {} expected statements{}",
            found.len(),
            statements.len(),
            found
                .first()
                .map(|c| format!(" (first: {})", c.summary()))
                .unwrap_or_default()
        ));
    }
    // Expected found: each statement names an object, and one of them is
    // among the changes (or is a view migra rebuilds unchanged).
    let mut expected_names: Vec<String> = Vec::new();
    for s in &statements {
        let mut names: Vec<String> = touched(s).into_iter().map(|n| n.replace('"', "")).collect();
        // An index, constraint or trigger migra names schema.name belongs to
        // a table: a change to that table (added, removed) covers it.
        let owners: Vec<String> = names
            .iter()
            .filter_map(|n| owning_table(&sa, &sb, n))
            .collect();
        names.extend(owners);
        expected_names.extend(names.iter().cloned());
        if names.is_empty() {
            let lower = s.trim_start().to_lowercase();
            match NAMELESS
                .iter()
                .find(|(prefix, _)| lower.starts_with(prefix))
            {
                Some((prefix, _)) => {
                    outcome
                        .adaptations
                        .push(format!("nameless `{}`", prefix.trim()));
                    continue;
                }
                None => {
                    return Err(format!(
                        "{:?} names no object and is not a documented nameless statement",
                        s.lines().next().unwrap_or_default()
                    ))
                }
            }
        }
        if names.iter().all(|n| rebuilt_unchanged(&sa, &sb, n)) {
            continue;
        }
        if !names.iter().any(|n| mentions(&found, n)) {
            return Err(format!(
                "{:?} touches {names:?}, absent from the changes",
                s.lines().next().unwrap_or_default()
            ));
        }
    }
    // Nothing unexpected: every change is to an object an expected
    // statement touches, or a documented adaptation.
    for c in &found {
        let one = std::slice::from_ref(c);
        if expected_names.iter().any(|n| mentions(one, n)) {
            continue;
        }
        let code = c.code.to_string();
        let adaptation = ADAPTATIONS
            .iter()
            .find(|(k, cc, obj, _)| *k == case && *cc == code && *obj == c.object.name);
        match adaptation {
            Some((_, cc, obj, _)) => outcome.adaptations.push(format!("{cc} {obj}")),
            None => {
                return Err(format!(
                    "unexpected change {code} {} (no expected statement touches it): {}",
                    c.object.name,
                    c.summary()
                ))
            }
        }
    }
    // Every adaptation written down for this case was needed.
    for (k, code, obj, _) in ADAPTATIONS.iter().filter(|a| a.0 == case) {
        let used = format!("{code} {obj}");
        if !outcome.adaptations.contains(&used) {
            return Err(format!(
                "adaptation {used} of {k} is no longer needed: remove it"
            ));
        }
    }
    Ok(outcome)
}

#[tokio::test]
async fn migra_fixture_pairs() {
    let dir = corpus();
    assert!(
        dir.is_dir(),
        "{} is missing: the conformance corpus ships beside the repository (../shared/corpus/migra)",
        dir.display()
    );
    let cases = corpus_cases();
    let mut failures = Vec::new();
    let mut adapted = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        match run_case(case).await {
            Ok(outcome) if outcome.adaptations.is_empty() => eprintln!("pass  {name}"),
            Ok(outcome) => {
                adapted += 1;
                eprintln!("pass  {name} (adapted: {})", outcome.adaptations.join("; "));
            }
            Err(why) => {
                eprintln!("FAIL  {name}: {why}");
                failures.push((name, why));
            }
        }
    }
    let failed: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    let known: Vec<&str> = KNOWN_FAILURES.iter().map(|(n, _)| *n).collect();
    let new: Vec<_> = failures
        .iter()
        .filter(|(n, _)| !known.contains(&n.as_str()))
        .collect();
    let fixed: Vec<_> = known.iter().filter(|n| !failed.contains(n)).collect();
    let passed = cases.len() - failures.len();
    // Straight to the process's stderr: libtest captures eprintln!, not this.
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\nmigra conformance: {passed} passed, {} known failures ({}), {} new failures, {adapted} passed with written-down adaptations, of {} cases",
            failures.len() - new.len(),
            known.join(", "),
            new.len(),
            cases.len()
        );
    }
    assert!(new.is_empty(), "new conformance failures: {new:#?}");
    assert!(
        fixed.is_empty(),
        "now passing, remove from KNOWN_FAILURES: {fixed:?}"
    );
    assert_eq!(cases.len(), 26, "the corpus should hold 26 cases");
}

/// Round-trip cases that do not converge yet, each with the reason. A case
/// that starts converging must be removed from here (the test says so).
const ROUND_TRIP_KNOWN_FAILURES: &[(&str, &str)] = &[];

/// pg_dump --schema-only of `db`, limited as the case's capture is, without
/// the lines that differ between any two dumps (`\restrict` keys), and with
/// each run of GRANT lines sorted: pg_dump prints an object's grants in the
/// order they were made (aclitem order), which is history, not schema;
/// user mappings without their OPTIONS (credentials, never captured);
/// event trigger tag lists sorted (a set); no session SET lines.
fn schema_dump(db: &DatabaseUrl, opts: &CaptureOptions) -> Result<String, String> {
    let mut cmd = std::process::Command::new("pg_dump");
    // History tables are never part of a snapshot (kitchen_sink.sql has
    // Flyway's): the plan leaves them alone, and so does the comparison.
    cmd.args([
        "--schema-only",
        "--no-comments",
        "--exclude-table=*.flyway_schema_history",
    ])
    .arg(db.expose());
    for s in &opts.schemas {
        cmd.args(["-n", s]);
    }
    for s in &opts.exclude_schemas {
        cmd.args(["-N", s]);
    }
    let out = cmd.output().map_err(|e| format!("pg_dump: {e}"))?;
    if !out.status.success() {
        return Err(format!("pg_dump: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let mut lines: Vec<String> = Vec::new();
    let mut in_mapping_options = false;
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        // pg_dump's session settings (some printed only when a table is
        // dumped) are not schema.
        if l.starts_with("\\restrict") || l.starts_with("\\unrestrict") || l.starts_with("SET ") {
            continue;
        }
        // User mapping OPTIONS hold credentials, which driftwatch never
        // reads: the mapping is compared without them.
        if in_mapping_options {
            in_mapping_options = l != ");";
            continue;
        }
        if l.starts_with("CREATE USER MAPPING ") && l.ends_with(" OPTIONS (") {
            lines.push(format!("{};", l.trim_end_matches(" OPTIONS (")));
            in_mapping_options = true;
            continue;
        }
        // An event trigger's tag list is a set; the snapshot keeps it sorted.
        if let Some((head, rest)) = l.split_once("WHEN TAG IN (") {
            if let Some((list, tail)) = rest.split_once(')') {
                let mut tags: Vec<&str> = list.split(", ").collect();
                tags.sort();
                lines.push(format!("{head}WHEN TAG IN ({}){tail}", tags.join(", ")));
                continue;
            }
        }
        lines.push(l.to_string());
    }
    let mut i = 0;
    while i < lines.len() {
        let run = lines[i..]
            .iter()
            .take_while(|l| l.starts_with("GRANT ") || l.starts_with("REVOKE "))
            .count();
        lines[i..i + run].sort();
        i += run.max(1);
    }
    Ok(lines.join("\n"))
}

/// Applies a migration script with psql (the script has its own BEGIN and
/// COMMIT), stopping at the first error.
fn apply_script(db: &DatabaseUrl, sql: &str) -> Result<(), String> {
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), sql).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("psql")
        .arg(db.expose())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file.path())
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// One case: a's migration to b (drops allowed), applied to a, must leave
/// a with b's snapshot and b's pg_dump.
async fn round_trip(dir: &Path) -> Result<usize, String> {
    let case = dir.file_name().unwrap().to_string_lossy().to_string();
    let (opts, ignore) = options(&case);
    let a = fresh_db().await;
    let b = fresh_db().await;
    load(&a, &dir.join("a.sql")).await?;
    load(&b, &dir.join("b.sql")).await?;
    converge(&case, &a, &b, &opts, &ignore).await
}

/// Plans a → b, applies the plan to a, and compares a with b.
async fn converge(
    case: &str,
    a: &DatabaseUrl,
    b: &DatabaseUrl,
    opts: &CaptureOptions,
    ignore: &[String],
) -> Result<usize, String> {
    let rules = IgnoreRules::parse(ignore).unwrap();
    let (a, b) = (a.clone(), b.clone());
    let opts = opts.clone();
    let (sa, sb) = snapshots(&a, &b, &opts).await;
    let plan = driftwatch::ddl::plan::plan(
        &sa,
        &sb,
        &driftwatch::ddl::plan::PlanOptions {
            allow_drops: true,
            reorder_columns: true,
            server_major: driftwatch::ddl::plan::snapshot_major(&sa),
            ..Default::default()
        },
    );
    let sql = plan.to_sql();
    for s in &plan.statements {
        pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT)
            .map_err(|e| format!("does not parse: {}: {e}", s.sql))?;
    }
    if std::env::var("DW_ROUNDTRIP_DEBUG").as_deref() == Ok(case) {
        eprintln!("{sql}");
    }
    apply_script(&a, &sql).map_err(|e| format!("applying the migration: {e}"))?;
    let (after, _) = capture(&a, &opts).await.expect("capture");
    let left = changes(&after, &sb, &rules);
    if !left.is_empty() {
        let shown: Vec<String> = left
            .iter()
            .take(10)
            .map(|c| format!("{} {}", c.code, c.summary()))
            .collect();
        return Err(format!(
            "{} difference(s) left: {}",
            left.len(),
            shown.join(" | ")
        ));
    }
    if case != "singleschema_ext" {
        let (da, db) = (schema_dump(&a, &opts)?, schema_dump(&b, &opts)?);
        if da != db {
            let diff = similar::TextDiff::from_lines(&da, &db);
            let first: Vec<String> = diff
                .iter_all_changes()
                .filter(|c| c.tag() != similar::ChangeTag::Equal)
                .take(4)
                .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
                .collect();
            return Err(format!("pg_dump differs: {}", first.join(" | ")));
        }
    }
    Ok(plan.statements.len())
}

#[tokio::test]
async fn migra_fixture_pairs_round_trip() {
    let cases = corpus_cases();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        match round_trip(case).await {
            Ok(n) => eprintln!("converges  {name} ({n} statements)"),
            Err(why) => {
                eprintln!("DIVERGES   {name}: {why}");
                failures.push((name, why));
            }
        }
    }
    let known: Vec<&str> = ROUND_TRIP_KNOWN_FAILURES.iter().map(|(n, _)| *n).collect();
    let new: Vec<_> = failures
        .iter()
        .filter(|(n, _)| !known.contains(&n.as_str()))
        .collect();
    let fixed: Vec<_> = known
        .iter()
        .filter(|n| !failures.iter().any(|(f, _)| f == *n))
        .collect();
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\nmigra round trip: {} of {} converge (snapshot and pg_dump equal), {} known failures ({}), {} new",
            cases.len() - failures.len(),
            cases.len(),
            failures.len() - new.len(),
            known.join(", "),
            new.len()
        );
    }
    assert!(new.is_empty(), "new round-trip failures: {new:#?}");
    assert!(
        fixed.is_empty(),
        "now converging, remove from ROUND_TRIP_KNOWN_FAILURES: {fixed:?}"
    );
}

/// The project's own pairs: every kind created from nothing and dropped
/// to nothing (kitchen_sink.sql has one of each), and two orderings of
/// one schema with ALTERs, a dropped column and enum values added before.
#[tokio::test]
async fn own_fixture_pairs_round_trip() {
    let pairs = [
        ("", "kitchen_sink.sql"),
        ("kitchen_sink.sql", ""),
        ("order_a.sql", "order_b.sql"),
        ("order_b.sql", "kitchen_sink.sql"),
    ];
    let mut failures = Vec::new();
    for (from, to) in pairs {
        let name = format!("{} -> {}", or_empty(from), or_empty(to));
        let (a, b) = (fresh_db().await, fresh_db().await);
        if !from.is_empty() {
            load_fixture(&a, from).await;
        }
        if !to.is_empty() {
            load_fixture(&b, to).await;
        }
        match converge(&name, &a, &b, &CaptureOptions::default(), &[]).await {
            Ok(n) => eprintln!("converges  {name} ({n} statements)"),
            Err(why) => {
                eprintln!("DIVERGES   {name}: {why}");
                failures.push((name, why));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn or_empty(f: &str) -> &str {
    if f.is_empty() {
        "(empty)"
    } else {
        f
    }
}
