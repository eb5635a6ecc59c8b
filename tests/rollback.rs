//! `driftwatch rollback` end to end: the verified rollback of every
//! migration of `fixtures/migrations/evolving` (one step and all steps),
//! checked independently with psql, snapshots and pg_dump; data-loss
//! hazards; bad input; `--write` for golang-migrate and dbmate run by the
//! test's own applier, and for sqlx run by sqlx-cli's `migrate revert`.

mod common;

use common::*;
use driftwatch::catalog::DatabaseUrl;
use driftwatch::model::Snapshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Replays `dir` into `store` as target `target` (format given or detected).
fn replay(dir: &Path, store: &Path, target: &str, format: Option<&str>) {
    let mut args = vec![
        "replay".to_string(),
        dir.display().to_string(),
        "--store".into(),
        store.display().to_string(),
        "--target".into(),
        target.into(),
    ];
    if let Some(f) = format {
        args.extend(["--migration-format".into(), f.into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = driftwatch(&args);
    assert_eq!(out.status.code(), Some(0), "replay: {}", stderr(&out));
}

/// Runs `driftwatch rollback --store STORE --target TARGET ARGS…`.
fn rollback(store: &Path, target: &str, args: &[&str]) -> Output {
    let store = store.display().to_string();
    let mut all = vec!["rollback", "--store", &store, "--target", target];
    all.extend_from_slice(args);
    driftwatch(&all)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The store's index of `target`.
fn index(store: &Path, target: &str) -> serde_json::Value {
    let path = store.join(target).join("migrations/index.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("index")).expect("index json")
}

/// The stored snapshot `name` of `target`.
fn stored(store: &Path, target: &str, name: &str) -> Snapshot {
    driftwatch::source::read_snapshot(&store.join(target).join("migrations").join(name))
        .expect("stored snapshot")
}

/// The differences between the stored `expected` (replayed as the replay
/// role) and the database `db` (built by psql as the cluster's superuser),
/// owners aligned as `check` aligns them.
async fn differences(expected: &Snapshot, db: &DatabaseUrl) -> Vec<String> {
    let live = snap(db).await;
    let (live, expected) = driftwatch::replay::owners::aligned(live, expected.clone(), false, true);
    driftwatch::diff::compare(&expected, &live, &Default::default())
        .changes
        .iter()
        .map(|c| c.summary())
        .collect()
}

/// pg_dump --schema-only of `db` without what differs between any two
/// dumps (`\restrict` keys, session SETs), each run of GRANT lines sorted
/// (pg_dump prints them in the order they were made).
fn schema_dump(db: &DatabaseUrl) -> String {
    let out = Command::new("pg_dump")
        .args(["--schema-only", "--exclude-table=*.flyway_schema_history"])
        .arg(db.expose())
        .output()
        .expect("run pg_dump");
    assert!(out.status.success(), "pg_dump: {}", stderr(&out));
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            !(l.starts_with("\\restrict") || l.starts_with("\\unrestrict") || l.starts_with("SET "))
        })
        .map(str::to_string)
        .collect();
    // Identity sequences' names are not captured (docs/architecture.md):
    // a table the rollback creates again names its sequence after itself,
    // where the forward history kept the name of an older table.
    let identity: Vec<String> = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("SEQUENCE NAME "))
        .map(str::to_string)
        .collect();
    for name in identity {
        let short = name.rsplit('.').next().unwrap_or(&name).to_string();
        for l in lines.iter_mut() {
            *l = l
                .replace(&name, "<identity sequence>")
                .replace(&format!("Name: {short};"), "Name: <identity sequence>;");
        }
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
    lines.join("\n")
}

/// Runs an SQL text with psql (stopping at the first error).
fn psql_text(db: &DatabaseUrl, sql: &str) {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), sql).expect("write");
    psql_file(db, file.path());
}

/// A fresh database with the first `n` files of `files` applied by psql.
async fn db_at(files: &[PathBuf], n: usize) -> DatabaseUrl {
    let db = fresh_db().await;
    for f in &files[..n] {
        psql_file(&db, f);
    }
    db
}

/// The evolving history's files in the order Flyway runs them.
fn evolving_files() -> Vec<PathBuf> {
    let dir = repo().join("fixtures/migrations/evolving");
    let set = driftwatch::migrations::read(&dir, None).expect("read evolving");
    set.migrations.iter().map(|m| m.path.clone()).collect()
}

/// For every migration of evolving: the rollback of that one migration and
/// of all migrations up to it converges (the command's verdict, exit 0), and
/// its SQL applied with psql to a database migrated up to it gives the
/// stored `before` (snapshot) and the pg_dump of a database migrated to the
/// version before.
#[tokio::test(flavor = "multi_thread")]
async fn every_evolving_rollback_converges_one_step_and_all_steps() {
    let store = tempfile::tempdir().unwrap();
    replay(
        &repo().join("fixtures/migrations/evolving"),
        store.path(),
        "ev",
        None,
    );
    let index = index(store.path(), "ev");
    let migrations = index["migrations"].as_array().expect("migrations");
    let files = evolving_files();
    assert_eq!(migrations.len(), files.len());
    let empty_dump = schema_dump(&fresh_db().await);
    let mut previous_dump = empty_dump.clone();
    for (i, m) in migrations.iter().enumerate() {
        let version = m["version"].as_str().map(str::to_string);
        let from: Vec<String> = match &version {
            Some(v) => vec!["--from".into(), v.clone()],
            None => Vec::new(), // the repeatable runs last: the newest
        };
        let from: Vec<&str> = from.iter().map(String::as_str).collect();
        let this_dump = schema_dump(&db_at(&files, i + 1).await);
        for (steps, expected_before, expected_dump) in [
            (1, m["before"].as_str().unwrap(), &previous_dump),
            (
                i + 1,
                migrations[0]["before"].as_str().unwrap(),
                &empty_dump,
            ),
        ] {
            let steps_text = steps.to_string();
            let mut args = from.clone();
            args.extend(["--steps", &steps_text, "--allow-drops"]);
            let out = rollback(store.path(), "ev", &args);
            let what = format!("rollback of {steps} step(s) from migration #{}", i + 1);
            assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr(&out));
            let sql = stdout(&out);
            assert!(sql.contains("-- verified: converges"), "{what}: {sql}");
            // Independently: the script run by psql on the applied state.
            let db = db_at(&files, i + 1).await;
            psql_text(&db, &sql);
            let expected = stored(store.path(), "ev", expected_before);
            assert_eq!(
                differences(&expected, &db).await,
                Vec::<String>::new(),
                "{what}: snapshot against the stored before"
            );
            assert_eq!(&schema_dump(&db), expected_dump, "{what}: pg_dump -s");
        }
        previous_dump = this_dump;
    }
}

/// The three-migration golang-migrate history the hazard and --write tests
/// share: a table, a column and an index, then the column dropped.
fn golang_dir(root: &Path) -> PathBuf {
    let dir = root.join("gm");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, sql) in [
        (
            "000001_accounts.up.sql",
            "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n",
        ),
        (
            "000002_nickname.up.sql",
            "ALTER TABLE accounts ADD COLUMN nickname text;\nCREATE INDEX accounts_email ON accounts (email);\n",
        ),
        (
            "000003_drop_nickname.up.sql",
            "ALTER TABLE accounts DROP COLUMN nickname;\n",
        ),
    ] {
        std::fs::write(dir.join(name), sql).unwrap();
    }
    dir
}

/// A rollback across a dropped column names the data it cannot bring back;
/// one that drops what a migration created holds the DROP back without
/// --allow-drops and says it does not converge (exit 1).
#[tokio::test(flavor = "multi_thread")]
async fn data_loss_is_named_and_held_back_drops_do_not_converge() {
    let root = tempfile::tempdir().unwrap();
    let dir = golang_dir(root.path());
    let store = root.path().join("store");
    replay(&dir, &store, "gm", None);

    let out = rollback(&store, "gm", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("-- data loss: 000003 drop nickname dropped column public.accounts.nickname with its data: the rollback re-creates it empty"),
        "{text}"
    );
    assert!(text.contains("ADD COLUMN nickname text;"), "{text}");
    assert!(
        text.contains("-- history: golang-migrate's rollback removes from schema_migrations the row of version 3 (dirty false); afterwards one row: version 2, dirty false"),
        "{text}"
    );

    let out = rollback(&store, "gm", &["--from", "2", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["verification"]["verdict"], "differs");
    let changes: Vec<String> = report["verification"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["code"].as_str().unwrap(),
                c["object"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(changes, ["column-added public.accounts.nickname"]);
    assert!(
        report["data_loss"][0].as_str().unwrap().starts_with(
            "deletes-data: ALTER TABLE public.accounts DROP COLUMN nickname; (held back"
        ),
        "{report}"
    );
    assert!(stderr(&out).contains("verified: does not converge: 1 difference"));
}

/// Bad input: one line each, exit 2, nothing written.
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_one_line_and_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let dir = golang_dir(root.path());
    let store = root.path().join("store");
    replay(&dir, &store, "gm", None);
    let out_file = root.path().join("rollback.sql");
    let out_path = out_file.display().to_string();
    for (args, target, needle) in [
        (
            vec![],
            "nobody",
            "holds no replayed migrations for target nobody",
        ),
        (
            vec!["--to", "7"],
            "gm",
            "--to 7 is not a replayed migration of target gm",
        ),
        (
            vec!["--from", "9"],
            "gm",
            "--from 9 is not a replayed migration",
        ),
        (
            vec!["--steps", "4"],
            "gm",
            "--steps 4 is more than the 3 migrations",
        ),
        (
            vec!["--to", "3"],
            "gm",
            "is not before the applied migration",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["-o", &out_path]);
        let out = rollback(&store, target, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_one_line_error(&out, needle, "no-secret-here");
        assert!(!out_file.exists(), "{args:?} wrote {out_path}");
    }
    // A stored snapshot gone missing.
    let index = index(&store, "gm");
    let before = index["migrations"][2]["before"].as_str().unwrap();
    let path = store.join("gm/migrations").join(before);
    std::fs::remove_file(&path).unwrap();
    let out = rollback(&store, "gm", &["-o", &out_path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains(before), "{}", stderr(&out));
    assert!(!out_file.exists());
}

/// Prisma has no down files: --write is refused with one line, before any
/// work, and the directory is left as it was.
#[tokio::test(flavor = "multi_thread")]
async fn write_is_refused_for_prisma() {
    let root = tempfile::tempdir().unwrap();
    let dir = repo().join("fixtures/tools/prisma/migrations");
    let store = root.path().join("store");
    replay(&dir, &store, "pr", None);
    let before = files_under(&dir);
    let out = rollback(
        &store,
        "pr",
        &["--write", "--migrations", &dir.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_one_line_error(
        &out,
        "Prisma migrations have no down files",
        "no-secret-here",
    );
    assert_eq!(files_under(&dir), before);
}

/// golang-migrate: `--write` writes one `.down.sql` beside each `.up.sql`,
/// which the test's own applier (psql, newest first, as `migrate down`)
/// runs on a database migrated by the up files: each leaves the stored
/// `before`. A second `--write` refuses to overwrite them.
#[tokio::test(flavor = "multi_thread")]
async fn write_golang_migrate_down_files_restore_each_before() {
    let root = tempfile::tempdir().unwrap();
    let dir = golang_dir(root.path());
    let store = root.path().join("store");
    replay(&dir, &store, "gm", None);
    let out = rollback(&store, "gm", &["--steps", "3", "--write", "--allow-drops"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for name in ["000003_drop_nickname", "000002_nickname", "000001_accounts"] {
        let path = dir.join(format!("{name}.down.sql"));
        assert!(
            text.contains(&format!("-- wrote {}: converges", path.display())),
            "{text}"
        );
    }
    let ups: Vec<PathBuf> = ["000001_accounts", "000002_nickname", "000003_drop_nickname"]
        .iter()
        .map(|n| dir.join(format!("{n}.up.sql")))
        .collect();
    let db = db_at(&ups, 3).await;
    let index = index(&store, "gm");
    for (i, name) in ["000003_drop_nickname", "000002_nickname", "000001_accounts"]
        .iter()
        .enumerate()
    {
        psql_file(&db, &dir.join(format!("{name}.down.sql")));
        let before = index["migrations"][2 - i]["before"].as_str().unwrap();
        assert_eq!(
            differences(&stored(&store, "gm", before), &db).await,
            Vec::<String>::new(),
            "after {name}.down.sql"
        );
    }
    // The directory still reads as the same three migrations.
    let set = driftwatch::migrations::read(&dir, None).unwrap();
    assert_eq!(set.migrations.len(), 3);

    let written = std::fs::read_to_string(dir.join("000003_drop_nickname.down.sql")).unwrap();
    let out = rollback(&store, "gm", &["--write", "--allow-drops"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_one_line_error(&out, "already holds a down migration", "no-secret-here");
    assert_eq!(
        std::fs::read_to_string(dir.join("000003_drop_nickname.down.sql")).unwrap(),
        written
    );
}

/// dbmate: the `-- migrate:down` section is appended to a file without
/// one and written under an empty one; a file whose section has
/// statements is refused. The up sections are unchanged, and each down
/// section run by the test's applier restores the stored `before`.
#[tokio::test(flavor = "multi_thread")]
async fn write_dbmate_sections() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("db");
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        (
            "20240101000000_accounts.sql",
            "-- migrate:up\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n",
        ),
        (
            "20240201000000_sessions.sql",
            "-- migrate:up\nCREATE TABLE sessions (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));\nCREATE INDEX sessions_account ON sessions (account_id);\n\n-- migrate:down\n\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let store = root.path().join("store");
    replay(&dir, &store, "dbm", None);
    let out = rollback(&store, "dbm", &["--steps", "2", "--write", "--allow-drops"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("-- appended a -- migrate:down section to"),
        "{}",
        stdout(&out)
    );
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    for (name, original) in files {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let (up, down) = text.split_once("-- migrate:down").expect("a down section");
        assert_eq!(
            up.trim_end(),
            original.split("-- migrate:down").next().unwrap().trim_end(),
            "{name}: the up section changed"
        );
        assert!(down.contains("DROP TABLE public."), "{name}:\n{text}");
        assert_eq!(text.matches("-- migrate:down").count(), 1, "{text}");
        ups.push(up.to_string());
        downs.push(down.to_string());
    }
    let db = fresh_db().await;
    for up in &ups {
        psql_text(&db, up);
    }
    let index = index(&store, "dbm");
    for i in [1, 0] {
        psql_text(&db, &downs[i]);
        let before = index["migrations"][i]["before"].as_str().unwrap();
        assert_eq!(
            differences(&stored(&store, "dbm", before), &db).await,
            Vec::<String>::new(),
            "after the down section of {}",
            files[i].0
        );
    }
    // Now both sections hold statements: refused, nothing changed.
    let kept: Vec<String> = files
        .iter()
        .map(|(n, _)| std::fs::read_to_string(dir.join(n)).unwrap())
        .collect();
    let out = rollback(&store, "dbm", &["--write", "--allow-drops"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_one_line_error(
        &out,
        "already has a -- migrate:down section",
        "no-secret-here",
    );
    for ((n, _), k) in files.iter().zip(kept) {
        assert_eq!(std::fs::read_to_string(dir.join(n)).unwrap(), k);
    }
}

/// The URL sqlx-cli accepts: a host name (it rejects an empty one; the
/// socket stays in `host=`).
fn sqlx_url(db: &DatabaseUrl) -> String {
    db.expose()
        .replace("postgres://postgres@/", "postgres://postgres@localhost/")
}

/// sqlx-cli's own `migrate revert`, after `--write`, reads the
/// `.down.sql` files and leaves the stored `before`, migration by
/// migration; the history rows it removes are the ones the output names.
#[tokio::test(flavor = "multi_thread")]
async fn sqlx_migrate_revert_runs_the_written_down_files() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, sql) in [
        (
            "20240105093000_create_accounts.up.sql",
            "CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);\n",
        ),
        (
            "20240212141500_add_display_name.up.sql",
            "ALTER TABLE accounts ADD COLUMN display_name text;\nCREATE VIEW account_names AS SELECT id, display_name FROM accounts;\n",
        ),
        (
            "20240318170000_drop_email.up.sql",
            "ALTER TABLE accounts DROP COLUMN email;\n",
        ),
    ] {
        std::fs::write(dir.join(name), sql).unwrap();
    }
    let store = root.path().join("store");
    replay(&dir, &store, "sq", Some("sqlx"));
    let sqlx = tools_sh(&["path", "sqlx"]);
    let db = fresh_db().await;
    let url = sqlx_url(&db);
    let run = |args: &[&str]| {
        let out = Command::new(&sqlx)
            .args(["migrate"])
            .args(args)
            .args([
                "--source",
                &dir.display().to_string(),
                "--database-url",
                &url,
            ])
            .output()
            .expect("run sqlx");
        assert!(
            out.status.success(),
            "sqlx {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    };
    run(&["run"]);

    // Re-adding `email` at the end would change the column order: moved back.
    let out = rollback(
        &store,
        "sq",
        &[
            "--steps",
            "3",
            "--write",
            "--allow-drops",
            "--reorder-columns",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("-- history: sqlx's rollback removes from _sqlx_migrations the rows of version 20240318170000, 20240212141500, 20240105093000; afterwards no row is left"),
        "{}",
        stdout(&out)
    );
    let index = index(&store, "sq");
    for i in [2, 1, 0] {
        run(&["revert"]);
        let before = index["migrations"][i]["before"].as_str().unwrap();
        assert_eq!(
            differences(&stored(&store, "sq", before), &db).await,
            Vec::<String>::new(),
            "after sqlx migrate revert of migration #{}",
            i + 1
        );
        let left = psql_rows(&db, "SELECT count(*) FROM _sqlx_migrations");
        assert_eq!(left, [i.to_string()]);
    }
}

/// On a fleet store: `check` replays the target's golang-migrate history
/// into it; `rollback --config` reads the snapshots from there, and
/// `--write` finds the directory in the target's configuration.
#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_store_and_the_configured_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = golang_dir(root.path());
    let ups: Vec<PathBuf> = ["000001_accounts", "000002_nickname", "000003_drop_nickname"]
        .iter()
        .map(|n| dir.join(format!("{n}.up.sql")))
        .collect();
    let target = db_at(&ups, 3).await;
    psql(
        &target,
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (3, false);",
    );
    let store_db = fresh_db().await;
    let config = root.path().join("driftwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{}\"\n\n[[target]]\nname = \"gm\"\nurl = \"{}\"\nmigrations = \"{}\"\nformat = \"golang-migrate\"\n",
            store_db.expose(),
            target.expose(),
            dir.display()
        ),
    )
    .unwrap();
    let cfg = config.display().to_string();
    let out = driftwatch(&["check", "--config", &cfg, "--target", "gm"]);
    assert_eq!(out.status.code(), Some(0), "check: {}", stderr(&out));
    let rollback = |more: &[&str]| {
        let mut args = vec![
            "rollback", "--config", &cfg, "--target", "gm", "--steps", "2", "--write",
        ];
        args.extend_from_slice(more);
        driftwatch(&args)
    };
    // 000002's down file drops a column: held back, so it does not
    // converge, and no down file is written.
    let out = rollback(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 of 2 down file(s) do not converge: none written"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("000003_drop_nickname.down.sql").exists());
    let out = rollback(&["--allow-drops"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("-- undoes, in order: 000003 drop nickname; 000002 nickname"),
        "{text}"
    );
    assert!(text.contains("-- verified: converges"), "{text}");
    for name in ["000003_drop_nickname", "000002_nickname"] {
        assert!(
            dir.join(format!("{name}.down.sql")).exists(),
            "{name}: {text}"
        );
    }
    assert!(!dir.join("000001_accounts.down.sql").exists());
    // Nothing was written to the watched database.
    assert_eq!(
        psql_rows(&target, "SELECT version FROM schema_migrations"),
        ["3"]
    );
}

/// A table whose name holds a line break, SQL and terminal controls:
/// the rollback's script (its comments and its statements) runs as one
/// script that re-creates that table and drops nothing else, and neither
/// the script nor the Markdown report carries a raw control character.
#[tokio::test]
async fn hostile_names_stay_names_in_the_script_and_the_report() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let evil = "evil\nDROP TABLE keepme; --\u{1b}[31m\u{202e}";
    let quoted = "U&\"evil\\000ADROP TABLE keepme; --\\001B[31m\\202E\"";
    let files = [dir.join("V1__base.sql"), dir.join("V2__drop_evil.sql")];
    std::fs::write(
        &files[0],
        format!("CREATE TABLE keepme (id int);\nCREATE TABLE {quoted} (id int);\nCOMMENT ON TABLE {quoted} IS 'x'';\nDROP TABLE keepme; --';\n"),
    )
    .unwrap();
    std::fs::write(&files[1], format!("DROP TABLE {quoted};\n")).unwrap();
    let store = work.path().join("store");
    replay(&dir, &store, "h", None);
    let out = rollback(&store, "h", &["--allow-drops"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    assert_inert("rollback script", &script, false);
    assert!(
        !script
            .lines()
            .any(|l| l.trim_start().starts_with("DROP TABLE keepme")),
        "{script}"
    );
    let db = db_at(&files, 2).await;
    psql_text(&db, &script);
    let tables = psql_rows(
        &db,
        "SELECT string_agg(relname, '|' ORDER BY relname) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
    );
    // psql prints the name's line break as one.
    assert_eq!(tables.join("\n"), format!("{evil}|keepme"));
    let out = rollback(&store, "h", &["--allow-drops", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_inert("rollback markdown", &stdout(&out), false);
}
