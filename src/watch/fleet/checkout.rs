//! A target's folder checked out of the fleet store by a command run by
//! hand (`check`, `alert flush`): claimed as a tick at the current second
//! (refused while a replica scans the target), its claim renewed while the
//! command works, and pushed back when it is done.

use super::{Claim, Fleet, Stage};
use crate::error::{Error, Result};
use std::path::Path;
use std::sync::Arc;

/// A target's store folder, pulled into a private copy under a claim.
pub struct Checkout {
    fleet: Arc<Fleet>,
    target: String,
    tick: jiff::Timestamp,
    dir: tempfile::TempDir,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Checkout {
    /// Claims `target` now and pulls its folder.
    pub async fn take(fleet: Arc<Fleet>, target: &str) -> Result<Checkout> {
        let now = jiff::Timestamp::now().as_second();
        // A tick of this second may be taken already (a command run twice
        // in one second): the next free second is as good, and a replica
        // still scanning the target refuses every one of them (Overrun).
        let mut claimed = None;
        for second in now..now + 5 {
            let tick =
                jiff::Timestamp::from_second(second).unwrap_or_else(|_| jiff::Timestamp::now());
            match fleet.claim(target, tick).await? {
                // A stored tick at this very second is scanned again: a
                // command run by hand reports a scan of its own.
                Claim::Ours | Claim::Stored(_) => {
                    claimed = Some(tick);
                    break;
                }
                Claim::Taken => continue,
                Claim::Overrun => break,
            }
        }
        let Some(tick) = claimed else {
            return Err(Error::Input {
                path: fleet.redacted().to_string(),
                message: format!("target {target} is being scanned by a watch replica"),
                hint: "try again in a few seconds".into(),
            });
        };
        let dir = tempfile::Builder::new()
            .prefix("driftwatch-checkout-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        fleet.pull(target, &dir.path().join(target)).await?;
        let (f, name) = (fleet.clone(), target.to_string());
        let every = fleet.heartbeat_every();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if !matches!(f.heartbeat(&name, tick).await, Ok(true)) {
                    break;
                }
            }
        });
        Ok(Checkout {
            fleet,
            target: target.to_string(),
            tick,
            dir,
            heartbeat,
        })
    }

    /// The store root of the private copy (the target's folder is in it).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Pushes what the command changed and finishes the claim with
    /// `result`; an error when the claim was lost meanwhile.
    pub async fn finish(self, result: &str) -> Result<()> {
        let pushed = self
            .fleet
            .push(
                &self.target,
                self.tick,
                &self.dir.path().join(&self.target),
                Stage::Finished(Some(result)),
            )
            .await?;
        if !pushed {
            return Err(Error::Input {
                path: self.fleet.redacted().to_string(),
                message: format!(
                    "target {}: a watch replica took the claim over; nothing was stored",
                    self.target
                ),
                hint: "run the command again".into(),
            });
        }
        Ok(())
    }
}

impl Drop for Checkout {
    /// Finished or abandoned (the command failed), the claim is renewed
    /// no more: an abandoned one ages out and a replica takes it over.
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}
