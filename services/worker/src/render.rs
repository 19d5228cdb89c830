//! The render step behind a seam: the [`Renderer`] the runner calls for each claimed job.
//!
//! Contract for implementations (the render-engine integration fills this in):
//! - `render` gets the spec snapshot taken at submit, a [`ProgressSink`] (cheap, callable
//!   from any thread, newest value wins), a cancellation token and a [`JobArtifacts`]
//!   writer. It stores every artifact through the writer (same file names on every
//!   attempt) and returns their descriptions and the per-chain results.
//! - It checks the token between blocks of work and returns [`RenderFailure::Cancelled`]
//!   promptly (well under a second) once it fires; the runner then removes the partial
//!   artifacts when the job was cancelled.
//! - Failures are classified: [`RenderFailure::Transient`] (TONE3000 or the object store
//!   unavailable) is retried with backoff; [`RenderFailure::Input`] (a model that will not
//!   load, an invalid spec) fails the job at once. Messages are shown to the user: no
//!   secrets, no internal paths.

use std::sync::Arc;

use gts_proto::v1::{ChainResult, JobProgress, RenderSpec};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::artifact_store::{JobArtifacts, StoredArtifact};

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub job_id: Uuid,
    pub owner_id: Uuid,
    /// 1-based attempt number.
    pub attempt: u32,
    /// The snapshot taken at submit time.
    pub spec: RenderSpec,
}

/// A finished render.
#[derive(Debug, Clone, Default)]
pub struct RenderOutput {
    pub artifacts: Vec<StoredArtifact>,
    pub chain_results: Vec<ChainResult>,
}

/// Why a render did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderFailure {
    /// Worth retrying later (a dependency was unavailable).
    #[error("{0}")]
    Transient(String),
    /// The input cannot be rendered; retrying would fail the same way.
    #[error("{0}")]
    Input(String),
    /// The token fired and the render stopped.
    #[error("the render was stopped")]
    Cancelled,
}

/// Renders one job.
#[tonic::async_trait]
pub trait Renderer: Send + Sync + 'static {
    async fn render(
        &self,
        request: RenderRequest,
        progress: ProgressSink,
        cancel: CancellationToken,
        artifacts: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure>;
}

/// Where a render reports progress. Reporting never blocks: a slower publisher sees only
/// the newest value (events are rate-limited by the runner).
/// Notes (plain sentences for the job's event log) are never dropped.
#[derive(Clone)]
pub struct ProgressSink {
    sender: Arc<watch::Sender<Option<JobProgress>>>,
    notes: mpsc::UnboundedSender<String>,
}

impl ProgressSink {
    /// A sink and the receiving ends the runner publishes from (progress, notes).
    pub fn channel() -> (
        Self,
        watch::Receiver<Option<JobProgress>>,
        mpsc::UnboundedReceiver<String>,
    ) {
        let (sender, receiver) = watch::channel(None);
        let (notes, notes_receiver) = mpsc::unbounded_channel();
        (
            Self {
                sender: Arc::new(sender),
                notes,
            },
            receiver,
            notes_receiver,
        )
    }

    /// Adds an informational line to the job's event log (callable from any thread).
    pub fn note(&self, line: String) {
        let _ = self.notes.send(line);
    }

    /// Reports the current progress.
    pub fn report(&self, progress: JobProgress) {
        self.sender.send_replace(Some(progress));
    }
}
