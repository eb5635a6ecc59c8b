//! Where a target's records live, behind one seam: the file store (a folder
//! per target under `[store] path`) or the fleet store (a PostgreSQL
//! database several `watch` replicas share, [`super::fleet`]).
//!
//! Every command works on a target through a [`Lease`]: a no-op lock for
//! files; for the fleet, a claim on a tick, the target's folder pulled into
//! this process's private working copy, the claim renewed in the background
//! while the work runs, and what changed pushed back when it is done. The
//! records themselves (snapshots, scan log, outbox, alert state, reports)
//! are always read and written through [`TargetStore`], so both backends
//! share every format, lock and crash rule.

use super::fleet::{Claim, Fleet, Stage};
use super::TargetStore;
use crate::error::{Error, Result};
use jiff::Timestamp;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A store, opened from the `[store]` settings.
#[derive(Clone)]
pub struct Backend {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Files(PathBuf),
    Fleet {
        fleet: Arc<Fleet>,
        /// This process's private working copy: `<dir>/<target>` is a
        /// target's folder pulled from the store.
        working: Arc<tempfile::TempDir>,
    },
}

impl Backend {
    /// The file store rooted at `root`.
    pub fn files(root: PathBuf) -> Backend {
        Backend {
            kind: Kind::Files(root),
        }
    }

    /// The fleet store at `url` (`postgres://…` or `env:VAR`), its tables
    /// created or migrated; claims live `lease` without a renewal.
    pub async fn fleet(url: &str, lease: Duration) -> Result<Backend> {
        let fleet = Arc::new(Fleet::open(url, lease).await?);
        let working = tempfile::Builder::new()
            .prefix("driftwatch-fleet-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        Ok(Backend {
            kind: Kind::Fleet {
                fleet,
                working: Arc::new(working),
            },
        })
    }

    /// The fleet store's connection, when this is one (the daemon's
    /// sweep, prune and release).
    pub fn fleet_store(&self) -> Option<&Arc<Fleet>> {
        match &self.kind {
            Kind::Files(_) => None,
            Kind::Fleet { fleet, .. } => Some(fleet),
        }
    }

    /// Where target folders are: the file store's root, or the fleet
    /// store's private working copy.
    pub fn root(&self) -> &Path {
        match &self.kind {
            Kind::Files(root) => root,
            Kind::Fleet { working, .. } => working.path(),
        }
    }

    /// The store of `target` as it is in [`Self::root`], without a lease:
    /// for reading a file store's records, or the working copy's between
    /// leases (outbox depth).
    pub fn target_store(&self, target: &str) -> Result<TargetStore> {
        TargetStore::new(self.root(), target)
    }

    /// A lease on `target` for a command run by hand (`check`, `baseline`,
    /// `alert flush`). On the fleet store: claimed as a tick at the
    /// current second and its folder pulled; a replica's running scan of
    /// the target is waited out up to a lease, then refused in one line.
    pub async fn checkout(&self, target: &str) -> Result<Lease> {
        let store = self.target_store(target)?;
        let Kind::Fleet { fleet, .. } = &self.kind else {
            return Ok(Lease { store, fleet: None });
        };
        // A replica scanning the target refuses the claim (Overrun): its
        // scan is waited out, up to a lease, since a command run by hand
        // may well meet one on a busy schedule.
        let deadline = std::time::Instant::now() + fleet.lease().max(Duration::from_secs(5));
        let mut second = Timestamp::now().as_second();
        while std::time::Instant::now() < deadline {
            let tick = Timestamp::from_second(second).unwrap_or_else(|_| Timestamp::now());
            match fleet.claim(target, tick).await? {
                // A stored tick at this very second is worked again: a
                // command run by hand reports work of its own.
                Claim::Ours | Claim::Stored(_) => {
                    return Lease::fleet(fleet.clone(), store, tick).await;
                }
                // A tick of this second is taken already (a command run
                // twice in one second): the next second is as good.
                Claim::Taken => second += 1,
                Claim::Overrun => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    second = second.max(Timestamp::now().as_second());
                }
            }
        }
        Err(Error::Input {
            path: fleet.redacted().to_string(),
            message: format!("target {target} is being scanned by a watch replica"),
            hint: "try again in a few seconds".into(),
        })
    }

    /// A lease on `tick` of `target` for the daemon. On the file store
    /// always [`Claimed::Ours`]; on the fleet store whatever the claim
    /// found, the folder pulled when the tick is this replica's.
    pub async fn claim(&self, target: &str, tick: Timestamp) -> Result<Claimed> {
        let store = self.target_store(target)?;
        let Kind::Fleet { fleet, .. } = &self.kind else {
            return Ok(Claimed::Ours(Lease { store, fleet: None }));
        };
        Ok(match fleet.claim(target, tick).await? {
            Claim::Ours => Claimed::Ours(Lease::fleet(fleet.clone(), store, tick).await?),
            Claim::Stored(result) => {
                Claimed::Stored(Lease::fleet(fleet.clone(), store, tick).await?, result)
            }
            Claim::Taken => Claimed::Taken,
            Claim::Overrun => Claimed::Overrun,
        })
    }

    /// The folders of `targets` to read, without claiming them (`status`,
    /// `log`, `store`): the file store itself, or a fresh copy of the
    /// fleet store's folders (a read between two pushes is consistent
    /// per file; a scan that is running shows at its next push).
    pub async fn read_view(&self, targets: &[String]) -> Result<ReadView> {
        let Kind::Fleet { fleet, .. } = &self.kind else {
            return Ok(ReadView {
                root: self.root().to_path_buf(),
                _copy: None,
            });
        };
        let dir = tempfile::Builder::new()
            .prefix("driftwatch-read-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        for t in targets {
            let store = TargetStore::new(dir.path(), t)?;
            fleet.pull(t, &store.dir()).await?;
        }
        Ok(ReadView {
            root: dir.path().to_path_buf(),
            _copy: Some(dir),
        })
    }

    /// The error for a command run by hand whose claim on `target` a
    /// watch replica took over.
    pub fn lost_claim(&self, target: &str) -> Error {
        lost_claim(self.describe(), target)
    }

    /// The store for messages: its path, or its URL with the password
    /// hidden.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Files(root) => root.display().to_string(),
            Kind::Fleet { fleet, .. } => fleet.redacted().to_string(),
        }
    }
}

/// How a claim on a scheduled tick went.
pub enum Claimed {
    /// This process works the tick.
    Ours(Lease),
    /// A stopped replica had stored this tick's scan with this result:
    /// only its alerts are left to deliver.
    Stored(Lease, String),
    /// Another replica has it, or it is done.
    Taken,
    /// Another tick of the target is still being worked.
    Overrun,
}

/// A folder of target folders to read; a fleet store's copy is removed
/// when this is dropped.
pub struct ReadView {
    root: PathBuf,
    _copy: Option<tempfile::TempDir>,
}

impl ReadView {
    /// The root the target folders are in.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// A target held for one piece of work. Dropped without [`Lease::finish`]
/// (the work failed), a fleet claim is renewed no more: it ages out and a
/// replica takes the tick over.
pub struct Lease {
    store: TargetStore,
    fleet: Option<FleetLease>,
}

struct FleetLease {
    fleet: Arc<Fleet>,
    tick: Timestamp,
    heartbeat: tokio::task::JoinHandle<()>,
    lost: tokio::sync::watch::Receiver<bool>,
}

impl Lease {
    async fn fleet(fleet: Arc<Fleet>, store: TargetStore, tick: Timestamp) -> Result<Lease> {
        fleet.pull(store.target(), &store.dir()).await?;
        let (lost_tx, lost) = tokio::sync::watch::channel(false);
        let (f, name) = (fleet.clone(), store.target().to_string());
        let every = fleet.heartbeat_every();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match f.heartbeat(&name, tick).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(target = %name, tick = %tick, "claim lost to another replica; work abandoned");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(target = %name, tick = %tick, error = %e, "claim not renewed; work abandoned");
                        break;
                    }
                }
            }
            let _ = lost_tx.send(true);
        });
        Ok(Lease {
            store,
            fleet: Some(FleetLease {
                fleet,
                tick,
                heartbeat,
                lost,
            }),
        })
    }

    /// The target's store (on the fleet: its folder in the working copy).
    pub fn store(&self) -> &TargetStore {
        &self.store
    }

    /// The tick claimed (None on the file store).
    pub fn tick(&self) -> Option<Timestamp> {
        self.fleet.as_ref().map(|f| f.tick)
    }

    /// Runs `work` while the lease holds: None when the claim was lost
    /// meanwhile (this process stalled past the lease and another replica
    /// took the tick over), and `work` is then dropped unfinished.
    pub async fn guard<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let Some(f) = &self.fleet else {
            return Some(work.await);
        };
        let mut lost = f.lost.clone();
        tokio::select! {
            out = work => Some(out),
            _ = lost.wait_for(|l| *l) => None,
        }
    }

    /// Stores what the work wrote so far, with its `result`, keeping the
    /// claim (the scan is stored, its alerts not yet delivered: a replica
    /// that takes over delivers them instead of scanning again). False when
    /// the claim was lost and nothing was stored. A no-op on files.
    pub async fn store_results(&self, result: &str) -> Result<bool> {
        self.push(Stage::Stored(result)).await
    }

    /// Stores what the work wrote and ends the lease, with `result` (None:
    /// the one [`Self::store_results`] stored). False when the claim was
    /// lost and nothing was stored. A no-op on files.
    pub async fn finish(self, result: Option<&str>) -> Result<bool> {
        self.push(Stage::Finished(result)).await
    }

    /// Pushes the folder and takes the tick to `stage` (true on files).
    async fn push(&self, stage: Stage<'_>) -> Result<bool> {
        match &self.fleet {
            None => Ok(true),
            Some(f) => {
                f.fleet
                    .push(self.store.target(), f.tick, &self.store.dir(), stage)
                    .await
            }
        }
    }

    /// [`Self::finish`] for a command run by hand: a lost claim is an
    /// error naming the target.
    pub async fn finish_checked(self, result: Option<&str>) -> Result<()> {
        let lost = self.lost_error();
        if self.finish(result).await? {
            Ok(())
        } else {
            Err(lost)
        }
    }

    /// The error for a command run by hand whose lease was lost.
    fn lost_error(&self) -> Error {
        let path = self
            .fleet
            .as_ref()
            .map(|f| f.fleet.redacted().to_string())
            .unwrap_or_default();
        lost_claim(path, self.store.target())
    }
}

/// A fleet claim a watch replica took over while a command worked on
/// `target` of the store at `path`.
fn lost_claim(path: String, target: &str) -> Error {
    Error::Input {
        path,
        message: format!(
            "target {target}: a watch replica took the claim over; nothing was stored"
        ),
        hint: "run the command again".into(),
    }
}

impl Drop for FleetLease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}
