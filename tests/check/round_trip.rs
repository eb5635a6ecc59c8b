//! A baseline's migration rebuilds what was accepted, in every layout
//! driftwatch writes one into: a migration directory of our own (two
//! migrations, written in the layout), applied to a database as its tool
//! would; out-of-band drift of many kinds; `driftwatch baseline` (ad hoc
//! form) writes the migration; then the whole directory, baseline file
//! included, applied in the tool's order to an empty database equals the
//! live schema, the new file is the directory's last migration, and (where
//! driftwatch records history) the next check is clean at the baseline's
//! version.

use super::common::{exec, fresh_db};
use super::*;
use driftwatch::migrations::{Format, MigrationSet};
use driftwatch::util::Named;

const INIT: &str = "\
CREATE SCHEMA app;
CREATE TYPE app.order_state AS ENUM ('new', 'paid');
CREATE TABLE app.accounts (
    id serial PRIMARY KEY,
    email varchar(50) NOT NULL,
    score smallint NOT NULL DEFAULT 0,
    balance numeric(10,2),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE app.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id integer NOT NULL REFERENCES app.accounts (id),
    total numeric(12,2) NOT NULL DEFAULT 0,
    state app.order_state NOT NULL DEFAULT 'new',
    status text NOT NULL DEFAULT 'new',
    tags text[],
    updated_at timestamptz
);
CREATE INDEX orders_status_idx ON app.orders (status);
CREATE SEQUENCE app.invoice_no START 1000;
";

const INIT_DOWN: &str = "\
DROP TABLE app.orders;
DROP TABLE app.accounts;
DROP SEQUENCE app.invoice_no;
DROP TYPE app.order_state;
DROP SCHEMA app;
";

const MORE: &str = "\
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders
    FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE VIEW app.order_totals AS
    SELECT account_id, sum(total) AS total FROM app.orders GROUP BY account_id;
CREATE FUNCTION app.order_count(p_account integer) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT count(*) FROM app.orders WHERE account_id = p_account $$;
COMMENT ON TABLE app.accounts IS 'customers';
";

const MORE_DOWN: &str = "\
DROP VIEW app.order_totals;
DROP FUNCTION app.order_count(integer);
DROP TRIGGER orders_touch ON app.orders;
DROP FUNCTION app.touch();
";

/// Out-of-band changes of many kinds, as someone makes them by hand.
const DRIFT: &str = "
CREATE INDEX orders_account_idx ON app.orders (account_id) WHERE status <> 'void';
DROP INDEX app.orders_status_idx;
ALTER TABLE app.accounts ADD COLUMN nickname text DEFAULT 'none';
ALTER TABLE app.accounts ALTER COLUMN email TYPE varchar(100);
ALTER TABLE app.accounts ALTER COLUMN score TYPE integer;
ALTER TABLE app.accounts ALTER COLUMN balance TYPE numeric(14,2);
ALTER TABLE app.orders ALTER COLUMN status SET DEFAULT 'pending';
CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;
GRANT SELECT ON app.accounts TO PUBLIC;
REVOKE EXECUTE ON FUNCTION app.order_count(integer) FROM PUBLIC;
ALTER TABLE app.orders DISABLE TRIGGER orders_touch;
ALTER TABLE app.orders ADD CONSTRAINT orders_total_nonnegative CHECK (total >= 0);
ALTER TABLE app.accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
DROP VIEW app.order_totals;
ALTER TABLE app.orders ALTER COLUMN total TYPE numeric(14,2);
CREATE VIEW app.order_totals AS
    SELECT account_id, sum(total) AS total, count(*) AS n FROM app.orders GROUP BY account_id;
ALTER SEQUENCE app.invoice_no INCREMENT BY 5 MAXVALUE 1000000 CACHE 10;
COMMENT ON TABLE app.accounts IS 'customers, by hand';
COMMENT ON COLUMN app.orders.status IS 'new, paid or void';
ALTER TYPE app.order_state ADD VALUE 'void';
CREATE TABLE app.audit_log (
    id bigserial PRIMARY KEY,
    account_id integer REFERENCES app.accounts (id) ON DELETE CASCADE,
    note text
);
ALTER TABLE app.orders ALTER COLUMN id SET INCREMENT BY 10;
ALTER TABLE app.orders ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE app.orders DROP COLUMN tags;
CREATE INDEX accounts_lower_email_idx ON app.accounts (lower(email));
ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_own ON app.accounts USING (email = current_user);
CREATE MATERIALIZED VIEW app.big_accounts AS SELECT id, email FROM app.accounts WHERE balance > 1000;
CREATE DOMAIN app.positive AS numeric CHECK (VALUE > 0);
ALTER TABLE app.orders ENABLE ALWAYS TRIGGER orders_touch;
ALTER TABLE app.accounts ADD COLUMN email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED;
ALTER TABLE app.accounts ADD COLUMN kind varchar(10) CHECK (kind IN ('person', 'company'));
ALTER TABLE app.orders DROP CONSTRAINT orders_account_id_fkey;
ALTER TABLE app.orders ADD CONSTRAINT orders_account_id_fkey FOREIGN KEY (account_id)
    REFERENCES app.accounts (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
ALTER SEQUENCE app.invoice_no OWNED BY app.orders.id;
ALTER TABLE app.orders ALTER COLUMN status SET STATISTICS 500;
ALTER TABLE app.orders SET (fillfactor = 80);
";

/// A layout: its name for `--migration-format`, the two migrations' files,
/// and what the baseline's new files must look like (`#` stands for the
/// version driftwatch picks, a number or a timestamp).
struct Layout {
    format: &'static str,
    files: Vec<(&'static str, String)>,
    expect: &'static [&'static str],
    records: bool,
    /// golang-migrate's `x-migrations-table`: the history table renamed,
    /// named to driftwatch with `--history-table public.NAME`.
    history_table: Option<&'static str>,
}

fn layouts() -> Vec<Layout> {
    let s = |t: &str| t.to_string();
    let dbmate = |up: &str, down: &str| format!("-- migrate:up\n{up}\n-- migrate:down\n{down}");
    vec![
        Layout {
            format: "flyway",
            files: vec![("V1__init.sql", s(INIT)), ("V2__more.sql", s(MORE))],
            expect: &["V3__baseline_round_trip.sql"],
            records: true,
            history_table: None,
        },
        Layout {
            format: "golang-migrate",
            files: vec![
                ("000001_init.up.sql", s(INIT)),
                ("000001_init.down.sql", s(INIT_DOWN)),
                ("000002_more.up.sql", s(MORE)),
                ("000002_more.down.sql", s(MORE_DOWN)),
            ],
            expect: &[
                "000003_baseline_round_trip.down.sql",
                "000003_baseline_round_trip.up.sql",
            ],
            records: true,
            history_table: None,
        },
        Layout {
            format: "golang-migrate",
            files: vec![
                ("1_init.up.sql", s(INIT)),
                ("1_init.down.sql", s(INIT_DOWN)),
                ("2_more.up.sql", s(MORE)),
                ("2_more.down.sql", s(MORE_DOWN)),
            ],
            expect: &[
                "3_baseline_round_trip.down.sql",
                "3_baseline_round_trip.up.sql",
            ],
            records: true,
            history_table: Some("schema_om"),
        },
        Layout {
            format: "sqlx",
            files: vec![
                ("20240101000000_init.sql", s(INIT)),
                ("20240102000000_more.sql", s(MORE)),
            ],
            expect: &["#_baseline_round_trip.sql"],
            records: true,
            history_table: None,
        },
        Layout {
            format: "sqlx",
            files: vec![
                ("20240101000000_init.up.sql", s(INIT)),
                ("20240101000000_init.down.sql", s(INIT_DOWN)),
                ("20240102000000_more.up.sql", s(MORE)),
                ("20240102000000_more.down.sql", s(MORE_DOWN)),
            ],
            expect: &[
                "#_baseline_round_trip.down.sql",
                "#_baseline_round_trip.up.sql",
            ],
            records: true,
            history_table: None,
        },
        Layout {
            format: "dbmate",
            files: vec![
                ("20240101000000_init.sql", dbmate(INIT, INIT_DOWN)),
                ("20240102000000_more.sql", dbmate(MORE, MORE_DOWN)),
            ],
            expect: &["#_baseline_round_trip.sql"],
            records: true,
            history_table: None,
        },
        Layout {
            format: "plain",
            files: vec![("001_init.sql", s(INIT)), ("002_more.sql", s(MORE))],
            expect: &["003_baseline_round_trip.sql"],
            records: false,
            history_table: None,
        },
        Layout {
            format: "plain",
            files: vec![
                ("001_init.up.sql", s(INIT)),
                ("001_init.down.sql", s(INIT_DOWN)),
                ("002_more.up.sql", s(MORE)),
                ("002_more.down.sql", s(MORE_DOWN)),
            ],
            expect: &[
                "003_baseline_round_trip.down.sql",
                "003_baseline_round_trip.up.sql",
            ],
            records: false,
            history_table: None,
        },
        Layout {
            format: "diesel",
            files: vec![
                ("2024-01-01-000000_init/up.sql", s(INIT)),
                ("2024-01-01-000000_init/down.sql", s(INIT_DOWN)),
                ("2024-01-02-000000_more/up.sql", s(MORE)),
                ("2024-01-02-000000_more/down.sql", s(MORE_DOWN)),
            ],
            expect: &[
                "#_baseline_round_trip/down.sql",
                "#_baseline_round_trip/up.sql",
            ],
            records: false,
            history_table: None,
        },
        Layout {
            format: "prisma",
            files: vec![
                ("20240101000000_init/migration.sql", s(INIT)),
                ("20240102000000_more/migration.sql", s(MORE)),
            ],
            expect: &["#_baseline_round_trip/migration.sql"],
            records: true,
            history_table: None,
        },
        Layout {
            format: "version-folders",
            files: vec![
                ("001_init/up.sql", s(INIT)),
                ("001_init/down.sql", s(INIT_DOWN)),
                ("002_more/up.sql", s(MORE)),
                ("002_more/down.sql", s(MORE_DOWN)),
            ],
            expect: &[
                "003_baseline_round_trip/down.sql",
                "003_baseline_round_trip/up.sql",
            ],
            records: false,
            history_table: None,
        },
    ]
}

/// True when `name` matches `pattern`, whose `#` stands for one or more
/// digits and dashes (a version).
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('#') {
        None => pattern == name,
        Some((before, after)) => {
            name.len() > before.len() + after.len()
                && name.starts_with(before)
                && name.ends_with(after)
                && name[before.len()..name.len() - after.len()]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-')
        }
    }
}

/// The history rows of the layouts whose tool driftwatch does not write
/// rows for: diesel's `__diesel_schema_migrations(version)` (its
/// documented table) and a hand-written runner's `schema_migrations(version,
/// name)`, one row per applied migration, as those runners record them.
async fn record_by_hand(db: &driftwatch::catalog::DatabaseUrl, set: &MigrationSet) {
    for m in &set.migrations {
        let version = m.version.clone().unwrap();
        let sql = if set.format == Format::Diesel {
            format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')")
        } else {
            format!(
                "INSERT INTO schema_migrations (version, name) VALUES ('{version}', '{}')",
                m.description
            )
        };
        exec(db, &sql).await;
    }
}

/// Runs `driftwatch ARGS --shadow-url …`.
fn dw(args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend([
        "--shadow-url".to_string(),
        shadow().admin_url().expose().to_string(),
    ]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    driftwatch(&refs)
}

/// The whole round trip for one layout.
async fn round_trip(layout: &Layout) {
    let what = format!(
        "{} ({}{})",
        layout.format,
        layout.files[0].0,
        layout
            .history_table
            .map(|t| format!(", table {t}"))
            .unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in &layout.files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let db = fresh_db().await;
    let set = driftwatch::migrations::read(dir.path(), Format::from_name(layout.format)).unwrap();
    assert_eq!(set.migrations.len(), 2, "{what}");
    driftwatch::replay::migrate(&db, &set, &set.migrations)
        .await
        .unwrap_or_else(|e| panic!("{what}: migrate: {e}"));
    if !layout.records {
        record_by_hand(&db, &set).await;
    }
    let history_args: Vec<String> = match layout.history_table {
        Some(t) => {
            exec(&db, &format!("ALTER TABLE schema_migrations RENAME TO {t}")).await;
            vec![
                "--history".into(),
                layout.format.into(),
                "--history-table".into(),
                format!("public.{t}"),
            ]
        }
        None => Vec::new(),
    };
    exec(&db, DRIFT).await;
    let before = common::files_under(dir.path());
    let store = tempfile::tempdir().unwrap();
    let dir_s = dir.path().display().to_string();
    let store_s = store.path().display().to_string();
    let mut args = vec![
        "baseline",
        "--url",
        db.expose(),
        "--migrations",
        &dir_s,
        "--migration-format",
        layout.format,
        "--name",
        "t",
        "--store",
        &store_s,
        "--reason",
        "round trip",
        "--yes",
        "--write-migration",
        "--allow-drops",
    ];
    if layout.records {
        args.push("--record-history");
    }
    args.extend(history_args.iter().map(String::as_str));
    let out = dw(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: baseline: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Named and placed as the tool runs it: the new files match the
    // layout, and the directory's last migration is the baseline.
    let new: Vec<String> = common::files_under(dir.path())
        .into_iter()
        .filter(|f| !before.contains(f))
        .map(|f| f.display().to_string())
        .collect();
    assert_eq!(new.len(), layout.expect.len(), "{what}: {new:?}");
    for (file, pattern) in new.iter().zip(layout.expect) {
        assert!(matches(pattern, file), "{what}: {file} is not {pattern}");
    }
    let set = driftwatch::migrations::read(dir.path(), Format::from_name(layout.format)).unwrap();
    assert_eq!(set.migrations.len(), 3, "{what}");
    let last = set.migrations.last().unwrap();
    assert!(
        last.path
            .display()
            .to_string()
            .contains("baseline_round_trip"),
        "{what}: the baseline runs last, yet the last is {}",
        last.path.display()
    );
    let sql = std::fs::read_to_string(&last.path).unwrap();
    assert!(
        !sql.contains("(not run"),
        "{what}: statements held back:\n{sql}"
    );

    // The whole directory on an empty database, in the tool's order,
    // gives the accepted (live) schema.
    let fresh = fresh_db().await;
    driftwatch::replay::migrate(&fresh, &set, &set.migrations)
        .await
        .unwrap_or_else(|e| panic!("{what}: the directory does not apply: {e}\n{sql}"));
    if let Some(t) = layout.history_table {
        exec(
            &fresh,
            &format!("ALTER TABLE schema_migrations RENAME TO {t}"),
        )
        .await;
        assert_eq!(
            super::common::psql_rows(&db, &format!("SELECT version || ' ' || dirty FROM {t}")),
            ["3 false"],
            "{what}: the row goes into the custom table"
        );
    }
    let out = driftwatch(&["diff", fresh.expose(), db.expose()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: rebuilt schema differs from the accepted one:\n{}\n{sql}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The check replays the directory up to the recorded baseline version:
    // clean.
    if layout.records {
        let mut check = vec![
            "check",
            "--url",
            db.expose(),
            "--migrations",
            &dir_s,
            "--migration-format",
            layout.format,
            "--name",
            "t",
            "--store",
            &store_s,
            "--format",
            "json",
        ];
        check.extend(history_args.iter().map(String::as_str));
        let out = dw(&check);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{what}: check printed no report ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(out.status.code(), Some(0), "{what}: {report}");
        assert_eq!(report["result"], "clean", "{what}: {report}");
        // golang-migrate records the version as a number: 000003 is 3.
        let number = |v: &str| v.trim_start_matches('0').to_string();
        assert_eq!(
            report["applied_version"].as_str().map(number),
            last.version.as_deref().map(number),
            "{what}: {report}"
        );
    }
}

#[tokio::test]
async fn every_layout_rebuilds_the_accepted_schema_from_its_directory() {
    for layout in layouts() {
        round_trip(&layout).await;
    }
}

#[test]
fn version_patterns_match_what_they_should() {
    assert!(matches("#_a.sql", "20261207152400_a.sql"));
    assert!(matches("#_a/up.sql", "2026-12-07-152400_a/up.sql"));
    assert!(!matches("#_a.sql", "_a.sql"));
    assert!(!matches("#_a.sql", "x1_a.sql"));
    assert!(matches("V3__a.sql", "V3__a.sql"));
}
