//! `make demo`: the whole story on a throwaway PostgreSQL.
//!
//! 1. fixtures/migrations/demo (Flyway layout) is applied to a fresh
//!    database, with a history table as Flyway writes it;
//! 2. `driftwatch check` finds it clean (the expected state is the replay
//!    stored in snapshots/demo, checked in);
//! 3. someone changes production by hand: an index dropped, a column
//!    added, a grant to PUBLIC, a function body edited;
//! 4. `driftwatch check` reports each change with the migration that last
//!    touched the object, and writes the same report as HTML;
//! 5. the next deploy's migration (fixtures/migrations/demo_next) creates an
//!    index someone already made by hand in production: `driftwatch
//!    preflight` applies it to a shadow of the live schema and names the
//!    failing line and the drift that explains it, before anything runs.

use driftwatch::shadow::{load_sql, Shadow};
use std::process::{Command, ExitCode};

const MIGRATIONS: &str = "fixtures/migrations/demo";
const HTML: &str = "snapshots/demo/report.html";
const NEXT: &str = "fixtures/migrations/demo_next";

const OUT_OF_BAND: &str = "
DROP INDEX shop.orders_status_idx;
ALTER TABLE shop.customers ADD COLUMN nickname text;
GRANT SELECT ON shop.customers TO PUBLIC;
CREATE INDEX orders_placed_at_idx ON shop.orders (placed_at);
CREATE OR REPLACE FUNCTION shop.order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(sum(quantity * unit_price), 0) * 1.2
      FROM shop.order_lines
     WHERE order_id = p_order_id
$$;
";

/// Runs the real binary; returns its exit code.
fn run(bin: &str, args: &[&str], shown: &str) -> Option<i32> {
    println!("\n$ driftwatch {shown}");
    match Command::new(bin).args(args).status() {
        Ok(status) => status.code(),
        Err(e) => {
            eprintln!("demo: cannot run {bin}: {e}");
            None
        }
    }
}

async fn story(bin: &str, shadow: &Shadow) -> Result<(), String> {
    let db = shadow
        .fresh_database("demo")
        .await
        .map_err(|e| e.to_string())?;
    let set = driftwatch::migrations::read(std::path::Path::new(MIGRATIONS), None)
        .map_err(|e| e.to_string())?;
    driftwatch::replay::migrate(&db, &set, &set.migrations)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Applied {} migrations of {MIGRATIONS} to {}, recorded in flyway_schema_history as Flyway does.",
        set.migrations.len(),
        db.redacted()
    );
    let url = db.expose().to_string();
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--url",
            &url,
            "--migrations",
            MIGRATIONS,
            "--name",
            "demo",
            "--store",
            "snapshots",
        ];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let shown = format!("check --url $DEMO_URL --migrations {MIGRATIONS} --name demo");
    let args = check(&[]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    if run(bin, &refs, &shown) != Some(0) {
        return Err("the first check should be clean".into());
    }

    println!("\nNow someone changes production by hand:\n{OUT_OF_BAND}");
    load_sql(&db, OUT_OF_BAND, "out-of-band changes")
        .await
        .map_err(|e| e.to_string())?;
    if run(bin, &refs, &shown) != Some(1) {
        return Err("the second check should report drift (exit 1)".into());
    }
    let args = check(&["--format", "html", "-o", HTML]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    if run(bin, &refs, &format!("{shown} --format html -o {HTML}")) != Some(1) {
        return Err("the HTML check should report drift (exit 1)".into());
    }
    println!("\nThe same report as one self-contained HTML page: {HTML}");
    run(
        bin,
        &["status", "--store", "snapshots", "--target", "demo"],
        "status --target demo",
    );

    // The next deploy: the demo's migrations and the pending one, as a
    // pull request's branch holds them.
    let branch = tempfile::tempdir().map_err(|e| e.to_string())?;
    for dir in [MIGRATIONS, NEXT] {
        for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, branch.path().join(name)).map_err(|e| e.to_string())?;
            }
        }
    }
    println!("\nThe next deploy adds {NEXT}/V5__orders_by_date.sql: will it apply to production as it is?");
    let branch_dir = branch.path().display().to_string();
    let args = [
        "preflight",
        "--url",
        &url,
        "--migrations",
        &branch_dir,
        "--name",
        "demo",
        "--store",
        "snapshots",
    ];
    if run(
        bin,
        &args,
        "preflight --url $DEMO_URL --migrations $BRANCH --name demo",
    ) != Some(1)
    {
        return Err("the preflight should find that V5 fails on production (exit 1)".into());
    }
    shadow.drop_database(&db).await.map_err(|e| e.to_string())?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let bin =
        std::env::var("DRIFTWATCH_BIN").unwrap_or_else(|_| "target/release/driftwatch".into());
    println!("Starting a throwaway PostgreSQL cluster ...");
    let shadow = match Shadow::from_url_or_start(None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = story(&bin, &shadow).await;
    drop(shadow);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::from(2)
        }
    }
}
