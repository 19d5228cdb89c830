//! The production [`Renderer`]: a job's render spec through the gts-render engine.
//!
//! Contract (see `render.rs` for what every renderer promises):
//! 1. inputs are fetched into a scratch directory private to the attempt
//!    (`<scratch>/<job id>-<attempt>`, removed afterwards whatever happens);
//! 2. the contract's spec becomes the engine's ([`spec_map`]), validated by the engine;
//! 3. the engine runs on a blocking thread; its cancel flag follows the job's token, and its
//!    progress (stage, chain, fractions) becomes `JobProgress` between 5 % and 95 %;
//! 4. artifacts and results are stored ([`outputs`]);
//! 5. every chain finished is kept in the object store ([`resume`]) until the job ends, so
//!    a later attempt (after a crash, a lost lease or a retry) renders only what is missing.
//!
//! Engine errors caused by the input (a model that will not load, undecodable audio, a
//! chain that explodes or is silent) fail the job at once with the engine's message, with
//! the scratch path taken out; anything else is retried.

pub mod inputs;
pub mod model_cache;
pub mod outputs;
pub mod resume;
pub mod spec_map;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use gts_proto::v1::{JobProgress, RenderStage};
use gts_render::{CancelToken, Progress, RenderError, RenderOptions, Stage};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    artifact_store::JobArtifacts,
    observe::StageSpans,
    render::{ProgressSink, RenderFailure, RenderOutput, RenderRequest, Renderer},
};
use inputs::InputFetcher;

/// Share of the overall progress fetching takes.
const FETCH_SHARE: f64 = 0.05;

/// Renders jobs with the engine.
pub struct EngineRenderer {
    inputs: InputFetcher,
    scratch_root: PathBuf,
    threads: usize,
}

impl EngineRenderer {
    /// A renderer fetching with `inputs`, working under `scratch_root`, rendering each job
    /// with `threads` chains at once.
    pub fn new(inputs: InputFetcher, scratch_root: PathBuf, threads: usize) -> Self {
        Self {
            inputs,
            scratch_root,
            threads: threads.max(1),
        }
    }
}

#[tonic::async_trait]
impl Renderer for EngineRenderer {
    async fn render(
        &self,
        request: RenderRequest,
        progress: ProgressSink,
        cancel: CancellationToken,
        artifacts: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        let scratch = Scratch::create(&self.scratch_root, &request).await?;
        let chain_count = request
            .spec
            .shootout
            .as_ref()
            .map_or(0, |s| u32::try_from(s.chains.len()).unwrap_or(u32::MAX));
        let report_fetch = |fraction: f64| {
            progress.report(JobProgress {
                stage: RenderStage::Fetching as i32,
                chain_index: None,
                chain_count,
                stage_fraction: fraction,
                overall_fraction: FETCH_SHARE * fraction,
            });
        };
        report_fetch(0.0);
        let local = self
            .inputs
            .fetch(
                &request.spec,
                request.owner_id,
                &scratch.inputs,
                &cancel,
                &report_fetch,
            )
            .instrument(tracing::info_span!("render.fetch_inputs"))
            .await?;
        let spec = spec_map::shootout_spec(&request.spec, &local)?;

        let engine_cancel = CancelToken::new();
        let forward = {
            let (job, engine) = (cancel.clone(), engine_cancel.clone());
            tokio::spawn(async move {
                job.cancelled().await;
                engine.cancel();
            })
        };
        let options = RenderOptions {
            threads: self.threads,
            chain_cache: Some(Arc::new(resume::StoredChains::new(
                self.inputs.blobs.clone(),
                request.job_id,
                progress.clone(),
            ))),
        };
        let (out_dir, sink) = (scratch.out.clone(), progress.clone());
        let stages = StageSpans::under(tracing::info_span!("render.engine"));
        let engine_stages = Arc::clone(&stages);
        let rendered = tokio::task::spawn_blocking(move || {
            gts_media::render_shootout_with(
                &spec,
                &out_dir,
                &EngineProgress {
                    sink,
                    stages: engine_stages,
                },
                &engine_cancel,
                &options,
            )
        })
        .await;
        forward.abort();
        stages.finish(match &rendered {
            Ok(Ok(report)) => Some(report.duration_seconds),
            _ => None,
        });
        // Closes the engine's span (the thread's handle went with its closure).
        drop(stages);
        let report = match rendered {
            Ok(Ok(report)) => report,
            Ok(Err(error)) => return Err(classify(error, &scratch.inputs)),
            Err(join_error) => {
                tracing::error!(%join_error, job = %request.job_id, "the render thread died");
                return Err(RenderFailure::Input(
                    "the render engine failed on this shootout; it has been logged for a fix"
                        .to_owned(),
                ));
            }
        };
        outputs::store(
            &report,
            &request.spec,
            &scratch.inputs,
            &artifacts,
            &progress,
            &cancel,
        )
        .instrument(tracing::info_span!("render.upload"))
        .await
    }
}

/// The worker's own disk failed: worth a retry, perhaps on another worker.
pub(crate) fn scratch_failure() -> RenderFailure {
    RenderFailure::Transient(
        "the worker's scratch disk failed; the render will be retried".to_owned(),
    )
}

/// The object store failed: worth a retry.
pub(crate) fn store_unavailable() -> RenderFailure {
    RenderFailure::Transient("the file store is unavailable; the render will be retried".to_owned())
}

/// Engine progress as the contract's, and as stage spans.
struct EngineProgress {
    sink: ProgressSink,
    stages: Arc<StageSpans>,
}

impl gts_render::ProgressSink for EngineProgress {
    fn report(&self, progress: Progress) {
        self.stages.observe(&progress);
        let stage = match progress.stage {
            Stage::Load => RenderStage::Decoding,
            Stage::Process => RenderStage::RenderingChain,
            Stage::Level => RenderStage::Levelling,
            Stage::Analyse => RenderStage::Measuring,
            Stage::Artifacts => RenderStage::Encoding,
            Stage::Done => RenderStage::Uploading,
        };
        let span = outputs::UPLOAD_START - FETCH_SHARE;
        self.sink.report(JobProgress {
            stage: stage as i32,
            chain_index: progress.chain.and_then(|c| u32::try_from(c).ok()),
            chain_count: u32::try_from(progress.chain_count).unwrap_or(u32::MAX),
            stage_fraction: f64::from(progress.fraction).clamp(0.0, 1.0),
            overall_fraction: FETCH_SHARE + span * f64::from(progress.overall).clamp(0.0, 1.0),
        });
    }
}

/// Sorts an engine error into retry or fail, with a message fit for the user.
fn classify(error: RenderError, inputs_dir: &Path) -> RenderFailure {
    let message = error
        .to_string()
        .replace(&format!("{}/", inputs_dir.display()), "");
    match error {
        RenderError::Cancelled => RenderFailure::Cancelled,
        RenderError::Io { .. } => {
            tracing::error!(%error, "render I/O failed");
            scratch_failure()
        }
        RenderError::Artifact { .. } => {
            tracing::error!(%error, "artifact encoding failed");
            RenderFailure::Transient(format!("{message}; the render will be retried"))
        }
        _ => RenderFailure::Input(message),
    }
}

/// An attempt's private working directory, removed when dropped.
struct Scratch {
    root: PathBuf,
    inputs: PathBuf,
    out: PathBuf,
}

impl Scratch {
    async fn create(base: &Path, request: &RenderRequest) -> Result<Self, RenderFailure> {
        let root = base.join(format!("{}-{}", request.job_id, request.attempt));
        let inputs = root.join("inputs");
        let out = root.join("out");
        // A crashed earlier process may have left this attempt's directory behind.
        let _ = tokio::fs::remove_dir_all(&root).await;
        for dir in [&inputs, &out] {
            tokio::fs::create_dir_all(dir).await.map_err(|error| {
                tracing::error!(%error, dir = %dir.display(), "cannot create the scratch directory");
                scratch_failure()
            })?;
        }
        Ok(Self { root, inputs, out })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
