//! Finished chains kept in the object store between the attempts of one job, so an
//! attempt that follows a crash resumes after the last finished chain.
//!
//! Design contract:
//! - Entries live under `resume/<job id>/<chain key>` (the engine's `ChainKey`: content
//!   hashes of the inputs, the chain, the output options and the engine version), outside
//!   `jobs/<job id>/` so they are never mistaken for artifacts. The runner removes the
//!   prefix when the job ends (succeeded, failed or cancelled); retries, lost leases and
//!   shutdowns keep it for the next attempt.
//! - Each load that finds an entry, and each store, adds a line to the job's event log
//!   ("Chain 2 reused …"), so a watcher (and the crash test) sees what was skipped.
//! - Best effort: a missing, unreadable or damaged entry is a miss, a failed store is
//!   logged; neither fails the render. Calls come from the engine's render threads (not
//!   async), so they block on the runtime's handle.

use gts_render::{CachedChain, ChainCache, ChainKey};
use gts_storage::{BlobStore, StorageError};
use tokio::runtime::Handle;
use uuid::Uuid;

use crate::render::ProgressSink;

/// Where every job's kept chains live.
pub const RESUME_ROOT: &str = "resume/";

/// The key prefix of a job's kept chains.
pub fn resume_prefix(job_id: Uuid) -> String {
    format!("{RESUME_ROOT}{job_id}/")
}

/// The job a kept chain's key belongs to.
pub fn job_of_key(key: &str) -> Option<Uuid> {
    let (job, _) = key.strip_prefix(RESUME_ROOT)?.split_once('/')?;
    Uuid::parse_str(job).ok()
}

/// A job's chain cache in the object store.
pub struct StoredChains {
    blobs: BlobStore,
    job_id: Uuid,
    runtime: Handle,
    notes: ProgressSink,
}

impl StoredChains {
    /// The cache of `job_id`; must be created inside the runtime.
    pub fn new(blobs: BlobStore, job_id: Uuid, notes: ProgressSink) -> Self {
        Self {
            blobs,
            job_id,
            runtime: Handle::current(),
            notes,
        }
    }

    fn key_of(&self, key: &ChainKey) -> String {
        format!("{}{}", resume_prefix(self.job_id), key.0)
    }
}

impl ChainCache for StoredChains {
    fn load(&self, chain_index: usize, key: &ChainKey) -> Option<CachedChain> {
        let object = self.key_of(key);
        let bytes = match self.runtime.block_on(self.blobs.get(&object)) {
            Ok(bytes) => bytes,
            Err(StorageError::NotFound(_)) => return None,
            Err(error) => {
                tracing::warn!(%error, job_id = %self.job_id, "cannot read a kept chain; rendering it again");
                return None;
            }
        };
        let Some(chain) = CachedChain::from_bytes(&bytes) else {
            tracing::warn!(job_id = %self.job_id, %object, "a kept chain is damaged; rendering it again");
            return None;
        };
        self.notes.note(format!(
            "Chain {} reused from an earlier attempt.",
            chain_index + 1
        ));
        Some(chain)
    }

    fn store(&self, chain_index: usize, key: &ChainKey, chain: &CachedChain) {
        let object = self.key_of(key);
        match self
            .runtime
            .block_on(self.blobs.put_bytes(&object, chain.to_bytes().into()))
        {
            Ok(()) => self.notes.note(format!(
                "Chain {} finished and kept; a later attempt resumes after it.",
                chain_index + 1
            )),
            Err(error) => {
                tracing::warn!(%error, job_id = %self.job_id, "cannot keep a finished chain");
            }
        }
    }
}
