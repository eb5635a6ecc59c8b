//! `make demo`: starts a throwaway PostgreSQL, loads the fixture schema,
//! and runs the real driftwatch binary against it: a summary, then a
//! snapshot written under snapshots/demo/live/.

use driftwatch::shadow::{load_sql, Shadow};
use std::process::{Command, ExitCode};

fn run(bin: &str, args: &[&str], shown: &str) -> bool {
    println!("\n$ driftwatch {shown}");
    match Command::new(bin).args(args).status() {
        Ok(status) => status.success(),
        Err(e) => {
            eprintln!("cannot run {bin}: {e}");
            false
        }
    }
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
    let db = match shadow.fresh_database("demo").await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(2);
        }
    };
    let fixture = "fixtures/schemas/kitchen_sink.sql";
    let sql = std::fs::read_to_string(fixture).expect("fixture present");
    if let Err(e) = load_sql(&db, &sql, fixture).await {
        eprintln!("demo: {e}");
        return ExitCode::from(2);
    }
    println!("Loaded {fixture} into {}", db.redacted());

    let stamp = driftwatch::util::now_rfc3339().replace(':', "");
    let out = format!("snapshots/demo/live/{stamp}.json");
    let url = db.expose().to_string();
    let ok = run(
        &bin,
        &["snapshot", &url, "--format", "summary"],
        "snapshot $DEMO_URL --format summary",
    ) && run(
        &bin,
        &["snapshot", &url, "-o", &out, "--stats"],
        &format!("snapshot $DEMO_URL -o {out} --stats"),
    );
    if !ok {
        return ExitCode::from(2);
    }
    println!("\nThe snapshot is canonical JSON: capture the same schema again and the objects are byte-identical.");
    drop(shadow);
    ExitCode::SUCCESS
}
