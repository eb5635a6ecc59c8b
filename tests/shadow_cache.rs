//! The initdb cache of private clusters: the first cluster of a server
//! build leaves a copy of its fresh data directory, the next ones start
//! from it; a broken entry is replaced; `DRIFTWATCH_INITDB_CACHE=off`
//! leaves the cache alone. One test in its own binary: it sets the
//! process's environment.

use driftwatch::shadow::{Cluster, ClusterOptions};
use std::path::Path;
use std::process::Command;

fn select_one(cluster: &Cluster) {
    let out = Command::new("psql")
        .arg(cluster.url("postgres").expose())
        .args(["-X", "-A", "-t", "-c", "SELECT 1"])
        .output()
        .expect("psql");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn entries(cache: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(cache.join("initdb"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn clusters_start_from_a_cached_data_directory() {
    let cache = tempfile::tempdir().unwrap();
    std::env::set_var("DRIFTWATCH_CACHE", cache.path());
    std::env::remove_var("DRIFTWATCH_INITDB_CACHE");

    let first = Cluster::start(ClusterOptions::default()).expect("first cluster");
    select_one(&first);
    let list = entries(cache.path());
    assert_eq!(list.len(), 1, "{list:?}");
    let entry = &list[0];
    assert!(entry.join("PG_VERSION").is_file());
    // The entry is initdb's output, not the running cluster's directory.
    assert!(!entry.join("postmaster.pid").exists());
    let hba = std::fs::read_to_string(entry.join("pg_hba.conf")).unwrap();
    assert!(
        hba.contains("PostgreSQL Client Authentication Configuration File")
            && !hba.starts_with("local all postgres trust"),
        "the cluster's own pg_hba.conf leaked into the cache: {hba}"
    );

    // The second cluster copies it, and both run side by side.
    let second = Cluster::start(ClusterOptions {
        tcp: true,
        ..Default::default()
    })
    .expect("second cluster");
    select_one(&second);
    select_one(&first);
    assert_eq!(entries(cache.path()).len(), 1);

    // A broken entry (no PG_VERSION) is replaced by a fresh initdb.
    drop(second);
    std::fs::remove_file(entry.join("PG_VERSION")).unwrap();
    let third = Cluster::start(ClusterOptions::default()).expect("cluster after a broken entry");
    select_one(&third);
    assert!(
        entry.join("PG_VERSION").is_file(),
        "the entry was written again"
    );

    // Off: nothing read or written.
    let other = tempfile::tempdir().unwrap();
    std::env::set_var("DRIFTWATCH_CACHE", other.path());
    std::env::set_var("DRIFTWATCH_INITDB_CACHE", "off");
    let fourth = Cluster::start(ClusterOptions::default()).expect("cluster without the cache");
    select_one(&fourth);
    assert!(entries(other.path()).is_empty());
}
