//! Test doubles for the worker's seams, used by its tests and usable by other crates'
//! end-to-end tests until the real render engine and shootout service are wired in.
//!
//! - [`StaticSpecSource`]: render specs from a map (shootout id → owner and spec).
//! - [`MemoryArtifactStore`]: artifacts in memory, with their keys for assertions.
//! - [`ScriptedRenderer`]: renders by script (succeed, fail transiently or on input, or run
//!   until cancelled), reports progress, writes artifacts, honours the cancellation token,
//!   and announces what it does on a broadcast channel so tests wait on events, not sleeps.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use gts_proto::v1::{ArtifactKind, ChainResult, JobProgress, RenderSpec, RenderStage};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    artifact_store::{ArtifactStore, JobArtifacts, StoreError},
    render::{ProgressSink, RenderFailure, RenderOutput, RenderRequest, Renderer},
    spec_source::{RenderSpecSource, SpecError},
};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Render specs from a map.
#[derive(Default)]
pub struct StaticSpecSource {
    specs: Mutex<HashMap<Uuid, (Uuid, RenderSpec)>>,
}

impl StaticSpecSource {
    /// Registers `shootout_id`, owned by `owner`.
    pub fn insert(&self, shootout_id: Uuid, owner: Uuid, spec: RenderSpec) {
        lock(&self.specs).insert(shootout_id, (owner, spec));
    }
}

#[tonic::async_trait]
impl RenderSpecSource for StaticSpecSource {
    async fn render_spec(&self, shootout_id: Uuid, user_id: Uuid) -> Result<RenderSpec, SpecError> {
        match lock(&self.specs).get(&shootout_id) {
            Some((owner, spec)) if *owner == user_id => Ok(spec.clone()),
            _ => Err(SpecError::NotFound),
        }
    }
}

/// Artifacts in memory.
pub struct MemoryArtifactStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    removals: watch::Sender<u64>,
}

impl Default for MemoryArtifactStore {
    fn default() -> Self {
        Self {
            objects: Mutex::new(BTreeMap::new()),
            removals: watch::Sender::new(0),
        }
    }
}

impl MemoryArtifactStore {
    /// Every stored key, sorted.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.objects).keys().cloned().collect()
    }

    /// Counts `remove_prefix` calls, so a test can wait for a clean-up.
    pub fn removals(&self) -> watch::Receiver<u64> {
        self.removals.subscribe()
    }
}

#[tonic::async_trait]
impl ArtifactStore for MemoryArtifactStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        lock(&self.objects).insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> Result<gts_storage::FileDigest, StoreError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|error| StoreError(error.to_string()))?;
        let digest = gts_storage::FileDigest {
            sha256: gts_storage::sha256_hex(&bytes),
            size_bytes: bytes.len() as u64,
        };
        self.put(key, bytes).await?;
        Ok(digest)
    }

    async fn remove_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        lock(&self.objects).retain(|key, _| !key.starts_with(prefix));
        self.removals.send_modify(|count| *count += 1);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(lock(&self.objects)
            .keys()
            .filter(|key| key.starts_with(prefix))
            .cloned()
            .collect())
    }
}

/// What the scripted renderer does on one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Reports progress for each chain, writes the artifacts and succeeds.
    Succeed,
    /// Fails with a transient error.
    FailTransient(String),
    /// Fails with an input error.
    FailInput(String),
    /// Reports progress, writes a partial artifact, then runs until the token fires.
    RunUntilCancelled,
}

/// What the scripted renderer announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderEvent {
    /// An attempt began (progress reported, a partial artifact written).
    Started { job_id: Uuid, attempt: u32 },
    /// The attempt saw its token fire and stopped.
    Stopped { job_id: Uuid, attempt: u32 },
    /// The attempt returned (successfully or not).
    Returned { job_id: Uuid, attempt: u32 },
}

/// A renderer that follows a script, one step per attempt (the last step repeats).
pub struct ScriptedRenderer {
    steps: Vec<Step>,
    chains: u32,
    events: broadcast::Sender<RenderEvent>,
}

impl ScriptedRenderer {
    /// Renders `chains` chains following `steps`.
    pub fn new(steps: Vec<Step>, chains: u32) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            steps,
            chains,
            events,
        }
    }

    /// Announcements from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RenderEvent> {
        self.events.subscribe()
    }

    fn step(&self, attempt: u32) -> Step {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.steps
            .get(index)
            .or(self.steps.last())
            .cloned()
            .unwrap_or(Step::Succeed)
    }

    fn progress(&self, chain: u32, fraction: f64) -> JobProgress {
        let chains = f64::from(self.chains.max(1));
        JobProgress {
            stage: RenderStage::RenderingChain as i32,
            chain_index: Some(chain),
            chain_count: self.chains,
            stage_fraction: fraction,
            overall_fraction: (f64::from(chain) + fraction) / chains,
        }
    }

    async fn succeed(
        &self,
        request: &RenderRequest,
        progress: &ProgressSink,
        cancel: &CancellationToken,
        artifacts: &JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        let mut output = RenderOutput::default();
        for chain in 0..self.chains {
            for step in 1..=4u32 {
                if cancel.is_cancelled() {
                    return Err(RenderFailure::Cancelled);
                }
                progress.report(self.progress(chain, f64::from(step) / 4.0));
                tokio::task::yield_now().await;
            }
            let stored = artifacts
                .put(
                    ArtifactKind::ChainFlac,
                    Some(chain),
                    &format!("chain-{chain:02}.flac"),
                    "audio/flac",
                    format!("{}:{chain}", request.job_id).into_bytes(),
                )
                .await
                .map_err(|e| RenderFailure::Transient(e.to_string()))?;
            output.artifacts.push(stored);
            output.chain_results.push(ChainResult {
                chain_index: chain,
                chain_id: format!("chain-{chain}"),
                display_name: format!("Chain {chain}"),
                metrics: None,
                evaluation: vec![format!("Chain {chain} rendered.")],
                ..Default::default()
            });
        }
        let ab = artifacts
            .put(
                ArtifactKind::AbFlac,
                None,
                "ab.flac",
                "audio/flac",
                b"ab".to_vec(),
            )
            .await
            .map_err(|e| RenderFailure::Transient(e.to_string()))?;
        output.artifacts.push(ab);
        Ok(output)
    }
}

#[tonic::async_trait]
impl Renderer for ScriptedRenderer {
    async fn render(
        &self,
        request: RenderRequest,
        progress: ProgressSink,
        cancel: CancellationToken,
        artifacts: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        let (job_id, attempt) = (request.job_id, request.attempt);
        let result = match self.step(attempt) {
            Step::Succeed => self.succeed(&request, &progress, &cancel, &artifacts).await,
            Step::FailTransient(message) => Err(RenderFailure::Transient(message)),
            Step::FailInput(message) => Err(RenderFailure::Input(message)),
            Step::RunUntilCancelled => {
                progress.report(self.progress(0, 0.5));
                artifacts
                    .put(
                        ArtifactKind::ChainFlac,
                        Some(0),
                        "chain-00.flac",
                        "audio/flac",
                        b"partial".to_vec(),
                    )
                    .await
                    .map_err(|e| RenderFailure::Transient(e.to_string()))?;
                let _ = self.events.send(RenderEvent::Started { job_id, attempt });
                cancel.cancelled().await;
                let _ = self.events.send(RenderEvent::Stopped { job_id, attempt });
                Err(RenderFailure::Cancelled)
            }
        };
        let _ = self.events.send(RenderEvent::Returned { job_id, attempt });
        result
    }
}
