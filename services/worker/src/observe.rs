//! What the worker tells operators: job metrics and lifecycle lines, the queue depth
//! gauge, the trace context a job carries through the queue, and the render's stages as
//! spans.
//!
//! Contract:
//! - SubmitJob stores the caller's `traceparent` with the job (`worker.job_traces`);
//!   whichever worker claims it continues that trace, so a render's spans sit in the trace
//!   of the browser call that queued it. The stored context is pruned once no attempt
//!   will read it: when its job has ended, or after [`ORPHAN_TRACE_HOURS`] for a context
//!   whose job was never inserted ([`prune_traces`], run by the runner's periodic scan).
//! - The runner's renderer is wrapped in [`ObservedRenderer`], so each attempt is one
//!   `job` span with its lifecycle lines and metrics, whatever the renderer; inside it the engine's progress opens one
//!   `render.stage` span per stage (and per chain while chains run), closed when the next
//!   stage starts, without any change to the engine.
//! - Metrics (names in docs/configuration.md): `gts_jobs_queue_depth{state}`,
//!   `gts_job_wait_seconds`, `gts_job_run_seconds{outcome}`,
//!   `gts_job_attempts_total{outcome}`, `gts_jobs_dead_total`,
//!   `gts_render_stage_seconds{stage}`, `gts_render_realtime_factor{stage}`.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use gts_render::{Progress, Stage};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    artifact_store::JobArtifacts,
    render::{ProgressSink, RenderFailure, RenderOutput, RenderRequest, Renderer},
};

/// A renderer observed: the attempt's span (continuing the job's stored trace), the
/// claim and end lines, and the job metrics around the inner renderer's work.
pub struct ObservedRenderer {
    db: PgPool,
    inner: Arc<dyn Renderer>,
}

impl ObservedRenderer {
    /// `inner` observed, reading the job's queue row and trace from `db`.
    pub fn wrap(db: PgPool, inner: Arc<dyn Renderer>) -> Arc<dyn Renderer> {
        Arc::new(Self { db, inner })
    }
}

#[tonic::async_trait]
impl Renderer for ObservedRenderer {
    async fn render(
        &self,
        request: RenderRequest,
        progress: ProgressSink,
        cancel: CancellationToken,
        artifacts: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        let attempt = request.attempt;
        let span = job_span(&self.db, request.job_id, attempt).await;
        async {
            let (waited, max_attempts) = queue_times(&self.db, request.job_id).await;
            let record = AttemptRecord::claimed(request.job_id, attempt, max_attempts, waited);
            let outcome = self
                .inner
                .render(request, progress, cancel, artifacts)
                .await;
            let retryable = attempt < max_attempts;
            match &outcome {
                Ok(_) => record.ended(Outcome::Succeeded, ""),
                Err(RenderFailure::Input(message)) => record.ended(Outcome::Failed, message),
                Err(RenderFailure::Transient(message)) if retryable => {
                    record.ended(Outcome::Retried, message);
                }
                Err(RenderFailure::Transient(message)) => record.ended(Outcome::Dead, message),
                // Cancelled by the user, a lost lease or shutdown: the runner decides.
                Err(RenderFailure::Cancelled) => record.ended(Outcome::Stopped, "stopped"),
            }
            outcome
        }
        .instrument(span)
        .await
    }
}

/// How long the job waited since it was queued (or became due again), and its attempt
/// limit. Best effort: a failed read only loses the wait metric.
async fn queue_times(db: &PgPool, job_id: Uuid) -> (Duration, u32) {
    let row: Result<Option<(f64, i32)>, _> = sqlx::query_as(
        "SELECT EXTRACT(EPOCH FROM (now() - GREATEST(run_after, created_at)))::float8, \
         max_attempts FROM jobs WHERE id = $1",
    )
    .bind(job_id)
    .fetch_optional(db)
    .await;
    let unknown = (Duration::ZERO, u32::MAX);
    match row {
        Ok(Some((seconds, max_attempts))) => {
            match gts_common::stored::stored("jobs.max_attempts", max_attempts) {
                Ok(max_attempts) => (
                    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or_default(),
                    max_attempts,
                ),
                Err(error) => {
                    tracing::error!(%error, %job_id, "corrupt job row");
                    unknown
                }
            }
        }
        Ok(None) => unknown,
        Err(error) => {
            tracing::debug!(%error, %job_id, "cannot read the job's queue times");
            unknown
        }
    }
}

/// Stores the trace context of a job being queued (the current span's).
pub async fn store_trace(db: &PgPool, job_id: Uuid) -> Result<(), sqlx::Error> {
    let traceparent = gts_common::trace_context::current_traceparent();
    if traceparent.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO job_traces (job_id, traceparent) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(job_id)
    .bind(traceparent)
    .execute(db)
    .await
    .map(|_| ())
}

/// Deletes the stored trace context of a job that was not inserted after all.
pub async fn forget_trace(db: &PgPool, job_id: Uuid) {
    if let Err(error) = sqlx::query("DELETE FROM job_traces WHERE job_id = $1")
        .bind(job_id)
        .execute(db)
        .await
    {
        tracing::debug!(%error, %job_id, "cannot delete an unused trace context");
    }
}

/// Hours a stored trace context waits for its job row before it is an orphan (SubmitJob
/// stores it just before inserting the job, and deletes it when the insert does not happen;
/// a crash in between leaves it behind).
pub const ORPHAN_TRACE_HOURS: i32 = 1;

/// Deletes the trace contexts no attempt will read again: those of ended jobs and orphans
/// older than [`ORPHAN_TRACE_HOURS`]. Returns how many went.
pub async fn prune_traces(db: &PgPool) -> Result<u64, sqlx::Error> {
    let pruned = sqlx::query(
        "DELETE FROM job_traces t WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id \
           AND j.status IN ('succeeded', 'failed', 'cancelled')) \
         OR (NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id) \
           AND t.created_at < now() - make_interval(hours => $1))",
    )
    .bind(ORPHAN_TRACE_HOURS)
    .execute(db)
    .await?;
    Ok(pruned.rows_affected())
}

/// The span of one attempt, continuing the trace stored with the job.
pub async fn job_span(db: &PgPool, job_id: Uuid, attempt: u32) -> tracing::Span {
    let span = tracing::info_span!("job", otel.name = "render job", %job_id, attempt);
    let stored: Result<Option<(String,)>, _> =
        sqlx::query_as("SELECT traceparent FROM job_traces WHERE job_id = $1")
            .bind(job_id)
            .fetch_optional(db)
            .await;
    match stored {
        Ok(Some((traceparent,))) => gts_common::trace_context::continue_from(&span, &traceparent),
        Ok(None) => {}
        Err(error) => tracing::debug!(%error, %job_id, "no stored trace context"),
    }
    span
}

/// How an attempt ended, for the lifecycle line and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Failed for good: the input cannot be rendered.
    Failed,
    /// Failed on a transient error, to be retried.
    Retried,
    /// Failed on a transient error with no attempt left.
    Dead,
    /// Stopped before the end (cancelled, lease lost, shutdown).
    Stopped,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Retried => "retried",
            Outcome::Dead => "dead",
            Outcome::Stopped => "stopped",
        }
    }
}

/// A claimed attempt: the claim line and the wait metric now, the end line later.
pub struct AttemptRecord {
    job_id: Uuid,
    attempt: u32,
    max_attempts: u32,
    started: Instant,
}

impl AttemptRecord {
    /// Logs the claim; `waited` is the time since the job was created (or re-queued).
    pub fn claimed(job_id: Uuid, attempt: u32, max_attempts: u32, waited: Duration) -> Self {
        metrics::histogram!("gts_job_wait_seconds").record(waited.as_secs_f64());
        tracing::info!(%job_id, attempt, max_attempts, waited_ms = waited.as_millis() as u64, "job claimed");
        Self {
            job_id,
            attempt,
            max_attempts,
            started: Instant::now(),
        }
    }

    /// Logs how the attempt ended; a failure on the last attempt is a dead job.
    pub fn ended(&self, outcome: Outcome, reason: &str) {
        let run = self.started.elapsed();
        let label = outcome.label();
        metrics::histogram!("gts_job_run_seconds", "outcome" => label).record(run.as_secs_f64());
        metrics::counter!("gts_job_attempts_total", "outcome" => label).increment(1);
        let (job_id, attempt, run_ms) = (self.job_id, self.attempt, run.as_millis() as u64);
        match outcome {
            Outcome::Succeeded => tracing::info!(%job_id, attempt, run_ms, "job succeeded"),
            Outcome::Retried => {
                tracing::warn!(%job_id, attempt, run_ms, reason, "job attempt failed; retrying");
            }
            Outcome::Dead => {
                metrics::counter!("gts_jobs_dead_total").increment(1);
                let max_attempts = self.max_attempts;
                tracing::warn!(%job_id, attempt, max_attempts, run_ms, reason, "job dead: failed on its last attempt");
            }
            Outcome::Failed => tracing::info!(%job_id, attempt, run_ms, reason, "job failed"),
            Outcome::Stopped => tracing::info!(%job_id, attempt, run_ms, "job attempt stopped"),
        }
    }
}

/// Refreshes `gts_jobs_queue_depth{state}` every `period` until `stop` fires. The
/// autoscaler (KEDA's PostgreSQL scaler) reads the same counts from the database.
pub async fn queue_depth_task(
    db: PgPool,
    period: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut ticker = tokio::time::interval(period);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticker.tick() => {}
        }
        let counts: Result<Vec<(String, i64)>, _> = sqlx::query_as(
            "SELECT s.status, count(j.id) FROM \
               (VALUES ('queued'), ('running'), ('succeeded'), ('failed'), ('cancelled')) AS s(status) \
               LEFT JOIN jobs j ON j.status = s.status GROUP BY s.status",
        )
        .fetch_all(&db)
        .await;
        match counts {
            Ok(counts) => {
                for (state, count) in counts {
                    metrics::gauge!("gts_jobs_queue_depth", "state" => state).set(count as f64);
                }
            }
            Err(error) => tracing::debug!(%error, "cannot count jobs by state"),
        }
    }
}

/// The engine's stages as spans: children of the span current when it was made.
pub struct StageSpans {
    parent: tracing::Span,
    state: Mutex<StageState>,
}

#[derive(Default)]
struct StageState {
    open: Vec<OpenStage>,
    finished: Vec<(Stage, Duration)>,
}

struct OpenStage {
    stage: Stage,
    chain: Option<usize>,
    started: Instant,
    _span: tracing::Span,
}

impl StageSpans {
    /// Stage spans under `parent`.
    pub fn under(parent: tracing::Span) -> Arc<Self> {
        Arc::new(Self {
            parent,
            state: Mutex::new(StageState::default()),
        })
    }

    /// Follows one progress report. Chain stages (`chain`, `level`) are per chain and
    /// overlap when chains render at once: a chain's new stage closes only that chain's
    /// span. A whole-render stage (`decode`, `measure`, `artifacts`) closes everything.
    pub fn observe(&self, progress: &Progress) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let chain = progress.chain;
        if state
            .open
            .iter()
            .any(|open| open.stage == progress.stage && open.chain == chain)
        {
            return;
        }
        state.close_where(|open| chain.is_none() || open.chain.is_none() || open.chain == chain);
        if progress.stage == Stage::Done {
            return;
        }
        let name = stage_name(progress.stage);
        let span = match chain {
            Some(chain) => {
                tracing::info_span!(parent: &self.parent, "render.stage", otel.name = name, stage = name, chain)
            }
            None => {
                tracing::info_span!(parent: &self.parent, "render.stage", otel.name = name, stage = name)
            }
        };
        state.open.push(OpenStage {
            stage: progress.stage,
            chain,
            started: Instant::now(),
            _span: span,
        });
    }

    /// Closes what is open and records each stage's time and real-time factor
    /// (`audio_seconds` of output per second of the stage).
    pub fn finish(&self, audio_seconds: Option<f64>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.close_where(|_| true);
        for (stage, took) in state.finished.drain(..) {
            let name = stage_name(stage);
            metrics::histogram!("gts_render_stage_seconds", "stage" => name)
                .record(took.as_secs_f64());
            if let Some(audio) = audio_seconds.filter(|_| took.as_secs_f64() > 0.0) {
                metrics::histogram!("gts_render_realtime_factor", "stage" => name)
                    .record(audio / took.as_secs_f64());
            }
        }
    }
}

impl StageState {
    fn close_where(&mut self, close: impl Fn(&OpenStage) -> bool) {
        let (closed, kept): (Vec<_>, Vec<_>) = self.open.drain(..).partition(|open| close(open));
        self.open = kept;
        for open in closed {
            // One duration per stage: chains running at once overlap, so a stage's time is
            // its slowest chain's.
            let took = open.started.elapsed();
            match self
                .finished
                .iter_mut()
                .find(|(stage, _)| *stage == open.stage)
            {
                Some((_, longest)) => *longest = (*longest).max(took),
                None => self.finished.push((open.stage, took)),
            }
        }
    }
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Load => "decode",
        Stage::Process => "chain",
        Stage::Level => "level",
        Stage::Analyse => "measure",
        Stage::Artifacts => "artifacts",
        Stage::Done => "done",
    }
}
