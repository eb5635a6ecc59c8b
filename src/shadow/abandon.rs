//! Shadow databases a replay did not give back. A scan cancelled by
//! `scan_timeout` or at shutdown drops its replay mid-statement: on a
//! server given by URL its database would stay, and the statement it ran
//! would go on (PostgreSQL does not notice a client gone while a query
//! runs). Each such database has a [`Guard`]; dropped before
//! [`super::Shadow::discard`] gave the database back, it drops the
//! database `WITH (FORCE)`, which also ends its sessions, in a task of its
//! own, and [`settle`] waits for those tasks.

use crate::database::DatabaseUrl;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Clean-ups started and not yet awaited by [`settle`].
static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Drops its database when dropped, unless [`Guard::disarm`] was called.
#[derive(Debug)]
pub(super) struct Guard {
    admin: DatabaseUrl,
    name: String,
    armed: AtomicBool,
}

impl Guard {
    /// A guard of database `name` on the server `admin` reaches.
    pub(super) fn new(admin: DatabaseUrl, name: String) -> Guard {
        Guard {
            admin,
            name,
            armed: AtomicBool::new(true),
        }
    }

    /// The database was given back: nothing to do when dropped.
    pub(super) fn disarm(&self) {
        self.armed.store(false, Ordering::Relaxed);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.armed.load(Ordering::Relaxed) {
            return;
        }
        let (admin, name) = (self.admin.clone(), std::mem::take(&mut self.name));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(database = %name, server = %admin.redacted(), "shadow database left behind: drop it by hand");
            return;
        };
        let task = runtime.spawn(async move {
            match super::drop_named(&admin, &name).await {
                Ok(()) => {
                    tracing::info!(database = %name, "shadow database of a cancelled replay dropped")
                }
                Err(e) => {
                    tracing::warn!(database = %name, error = %e, "shadow database of a cancelled replay left behind")
                }
            }
        });
        PENDING.lock().unwrap_or_else(|p| p.into_inner()).push(task);
    }
}

/// Waits, at most `limit`, for the clean-ups of cancelled replays started
/// so far (before a process exits: a task still running would be lost).
pub async fn settle(limit: Duration) {
    let tasks: Vec<JoinHandle<()>> =
        std::mem::take(&mut *PENDING.lock().unwrap_or_else(|p| p.into_inner()));
    let all = async {
        for t in tasks {
            let _ = t.await;
        }
    };
    if tokio::time::timeout(limit, all).await.is_err() {
        tracing::warn!("shadow databases of cancelled replays still being dropped at exit");
    }
}
