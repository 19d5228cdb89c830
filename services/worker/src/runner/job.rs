//! One claimed job: render it under its lease, then record how it ended.

use std::sync::{Arc, OnceLock};

use gts_proto::v1::{JobLogLevel, RenderSpec};
use prost::Message;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::{Shared, StopReason, progress};
use crate::{
    artifact_store::{JobArtifacts, StoredArtifact},
    convert::encode_chain_results,
    engine::resume::{RESUME_ROOT, job_of_key},
    events,
    queue::{self, ArtifactRecord, JobRow, Lease, Status, backoff},
    render::{ProgressSink, RenderFailure, RenderOutput, RenderRequest},
};

/// Renders `row` (claimed by this runner) and records the outcome. Holds `_slot` until done.
pub(super) async fn run(shared: Arc<Shared>, row: JobRow, _slot: OwnedSemaphorePermit) {
    let lease = Lease {
        job_id: row.id,
        owner: shared.owner.clone(),
        attempt: row.attempt,
    };
    tracing::info!(job_id = %row.id, attempt = row.attempt, owner = %shared.owner, "rendering job");
    let (token, reason) = shared.register(row.id);
    shared
        .publish(
            row.id,
            events::status_change(Some(Status::Queued), Status::Running, row.attempt, ""),
        )
        .await;
    let outcome = render(&shared, &row, &lease, token, &reason).await;
    finish(&shared, &row, &lease, reason.get().copied(), outcome).await;
    // Success and failure removed them already; this catches a cancellation.
    if has_kept_chains(&shared, row.id).await
        && job_status(&shared, &row)
            .await
            .is_some_and(Status::is_terminal)
    {
        remove_kept_chains(&shared, row.id).await;
    }
    shared.deregister(row.id);
}

async fn render(
    shared: &Shared,
    row: &JobRow,
    lease: &Lease,
    token: CancellationToken,
    reason: &Arc<OnceLock<StopReason>>,
) -> Result<RenderOutput, RenderFailure> {
    let spec = RenderSpec::decode(row.spec.as_slice()).map_err(|error| {
        tracing::error!(%error, job_id = %row.id, "undecodable render spec");
        RenderFailure::Input("the job's render specification is unreadable".to_owned())
    })?;
    let request = RenderRequest {
        job_id: row.id,
        owner_id: row.owner_id,
        attempt: row.attempt,
        spec,
    };
    let (sink, receiver, notes) = ProgressSink::channel();
    let artifacts = JobArtifacts::new(Arc::clone(&shared.deps.artifacts), row.id);
    let done = CancellationToken::new();
    let work = async {
        let result = shared
            .deps
            .renderer
            .render(request, sink, token.clone(), artifacts)
            .await;
        done.cancel();
        result
    };
    let publishing = progress::publish(
        shared,
        lease,
        receiver,
        done.clone(),
        token.clone(),
        shared.deps.settings.progress_interval,
    );
    let noting = progress::publish_notes(shared, lease, notes, done.clone(), token.clone());
    tokio::select! {
        (result, _, ()) = futures::future::join3(work, publishing, noting) => result,
        never = keep_lease(shared, lease, &token, reason) => match never {},
    }
}

/// Renews the lease every heartbeat; stops the render when the lease is gone.
async fn keep_lease(
    shared: &Shared,
    lease: &Lease,
    token: &CancellationToken,
    reason: &OnceLock<StopReason>,
) -> std::convert::Infallible {
    let period = shared.deps.settings.heartbeat;
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        ticker.tick().await;
        match queue::renew(&shared.deps.db, lease, shared.deps.settings.lease).await {
            Ok(true) => {}
            Ok(false) => {
                let cancelled = matches!(
                    queue::get_any(&shared.deps.db, lease.job_id).await,
                    Ok(Some(row)) if row.status() == Status::Cancelled
                );
                let _ = reason.set(if cancelled {
                    StopReason::Cancelled
                } else {
                    StopReason::LeaseLost
                });
                token.cancel();
                return std::future::pending().await;
            }
            Err(error) => {
                tracing::warn!(%error, job_id = %lease.job_id, "cannot renew the lease");
            }
        }
    }
}

async fn finish(
    shared: &Shared,
    row: &JobRow,
    lease: &Lease,
    reason: Option<StopReason>,
    outcome: Result<RenderOutput, RenderFailure>,
) {
    let artifacts = JobArtifacts::new(Arc::clone(&shared.deps.artifacts), row.id);
    match (reason, outcome) {
        (Some(StopReason::Cancelled), _) => remove_partial(&artifacts, row).await,
        (Some(StopReason::LeaseLost), _) => {
            // The new owner overwrites the same keys; only a cancellation needs a clean-up.
            if job_status(shared, row).await == Some(Status::Cancelled) {
                remove_partial(&artifacts, row).await;
            }
        }
        (Some(StopReason::Shutdown), _) => {
            let released = queue::release(&shared.deps.db, lease);
            if let Err(error) = transition(shared, row, Status::Queued, "", released).await {
                tracing::warn!(%error, job_id = %row.id, "cannot release a job");
            }
        }
        (None, Ok(output)) => succeed(shared, row, lease, &artifacts, output).await,
        (None, Err(RenderFailure::Input(message))) => fail(shared, row, lease, &message).await,
        (None, Err(RenderFailure::Transient(message))) => {
            retry_or_fail(shared, row, lease, &message).await;
        }
        (None, Err(RenderFailure::Cancelled)) => {
            retry_or_fail(shared, row, lease, "the render stopped unexpectedly").await;
        }
    }
}

async fn job_status(shared: &Shared, row: &JobRow) -> Option<Status> {
    match queue::get_any(&shared.deps.db, row.id).await {
        Ok(found) => found.map(|job| job.status()),
        Err(error) => {
            tracing::warn!(%error, job_id = %row.id, "cannot read a job's status");
            None
        }
    }
}

pub(super) async fn has_kept_chains(shared: &Shared, job_id: uuid::Uuid) -> bool {
    let prefix = crate::engine::resume::resume_prefix(job_id);
    // A listing failure: try the removal anyway.
    shared
        .deps
        .artifacts
        .list(&prefix)
        .await
        .map_or(true, |keys| !keys.is_empty())
}

/// Drops a job's kept chains if it has ended (it was cancelled between attempts).
pub(super) async fn remove_kept_chains_if_ended(shared: Arc<Shared>, job_id: uuid::Uuid) {
    if has_kept_chains(&shared, job_id).await {
        remove_orphans(&shared, &[job_id]).await;
    }
}

/// Drops the kept chains of every job that has ended or no longer exists.
pub(super) async fn remove_orphaned_kept_chains(shared: &Shared) {
    let keys = match shared.deps.artifacts.list(RESUME_ROOT).await {
        Ok(keys) => keys,
        Err(error) => {
            tracing::warn!(%error, "cannot list kept chains");
            return;
        }
    };
    let jobs: std::collections::BTreeSet<uuid::Uuid> =
        keys.iter().filter_map(|key| job_of_key(key)).collect();
    if !jobs.is_empty() {
        remove_orphans(shared, &jobs.into_iter().collect::<Vec<_>>()).await;
    }
}

async fn remove_orphans(shared: &Shared, jobs: &[uuid::Uuid]) {
    match queue::without_pending(&shared.deps.db, jobs).await {
        Ok(ended) => {
            for job_id in ended {
                remove_kept_chains(shared, job_id).await;
            }
        }
        Err(error) => tracing::warn!(%error, "cannot check whose kept chains can go"),
    }
}

/// Drops the chains kept for later attempts once the job has ended.
pub(super) async fn remove_kept_chains(shared: &Shared, job_id: uuid::Uuid) {
    let prefix = crate::engine::resume::resume_prefix(job_id);
    if let Err(error) = shared.deps.artifacts.remove_prefix(&prefix).await {
        tracing::warn!(%error, %job_id, "cannot remove the chains kept for a finished job");
    }
}

async fn remove_partial(artifacts: &JobArtifacts, row: &JobRow) {
    if let Err(error) = artifacts.remove_all().await {
        tracing::error!(%error, job_id = %row.id, "cannot remove a cancelled job's artifacts");
    }
}

fn record(artifact: &StoredArtifact) -> ArtifactRecord {
    ArtifactRecord {
        kind: artifact.kind.as_str_name().to_owned(),
        chain_index: artifact
            .chain_index
            .and_then(|index| i32::try_from(index).ok()),
        filename: artifact.filename.clone(),
        object_key: artifact.object_key.clone(),
        content_type: artifact.content_type.clone(),
        size_bytes: i64::try_from(artifact.size_bytes).unwrap_or(i64::MAX),
        sha256: artifact.sha256.clone(),
    }
}

async fn succeed(
    shared: &Shared,
    row: &JobRow,
    lease: &Lease,
    artifacts: &JobArtifacts,
    output: RenderOutput,
) {
    let records: Vec<ArtifactRecord> = output.artifacts.iter().map(record).collect();
    let results = encode_chain_results(&output.chain_results);
    let completed = queue::complete(&shared.deps.db, lease, None, &results, &records);
    match transition(shared, row, Status::Succeeded, "", completed).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            // Too late: cancelled meanwhile (clean up), or taken over (leave it to the owner).
            if job_status(shared, row).await == Some(Status::Cancelled) {
                remove_partial(artifacts, row).await;
            }
        }
        Err(error) => {
            tracing::warn!(%error, job_id = %row.id, "cannot record a finished render");
            retry_or_fail(shared, row, lease, "the result could not be recorded").await;
        }
    }
}

async fn fail(shared: &Shared, row: &JobRow, lease: &Lease, message: &str) {
    // Mostly user-caused (a file, a spec): info, never ERROR, so users cannot drive ERROR volume.
    tracing::info!(job_id = %row.id, reason = message, "a job failed for good");
    let failed = queue::fail(&shared.deps.db, lease, message);
    if let Err(error) = transition(shared, row, Status::Failed, message, failed).await {
        tracing::warn!(%error, job_id = %row.id, "cannot record a failure");
    }
}

async fn retry_or_fail(shared: &Shared, row: &JobRow, lease: &Lease, message: &str) {
    if row.attempt >= row.max_attempts {
        return fail(shared, row, lease, message).await;
    }
    let settings = &shared.deps.settings;
    let delay = backoff::jittered_delay(
        row.attempt,
        settings.retry_base,
        settings.retry_max,
        &mut rand::rng(),
    );
    // The log line first: a watcher reads why before it sees the job queued again.
    let retried = async {
        let queued = queue::retry(&shared.deps.db, lease, message, delay).await?;
        if queued.is_some() {
            shared
                .publish(
                    row.id,
                    events::log_line(
                        JobLogLevel::Warning,
                        format!(
                            "Attempt {} failed: {message}. Retrying in {} s.",
                            row.attempt,
                            delay.as_secs_f32().ceil()
                        ),
                    ),
                )
                .await;
        }
        Ok(queued)
    };
    if let Err(error) = transition(shared, row, Status::Queued, message, retried).await {
        tracing::warn!(%error, job_id = %row.id, "cannot schedule a retry");
    }
}

/// Applies a queue transition of this runner's running job and, when it took, tells the
/// job's watchers. An ended job's kept chains go first, so whoever sees the end sees them
/// gone. `Ok(None)`: the job was no longer this runner's to change.
async fn transition(
    shared: &Shared,
    row: &JobRow,
    to: Status,
    message: &str,
    change: impl std::future::Future<Output = Result<Option<JobRow>, sqlx::Error>>,
) -> Result<Option<JobRow>, sqlx::Error> {
    let Some(changed) = change.await? else {
        return Ok(None);
    };
    if to.is_terminal() {
        remove_kept_chains(shared, row.id).await;
    }
    shared
        .publish(
            row.id,
            events::status_change(Some(Status::Running), to, changed.attempt, message),
        )
        .await;
    Ok(Some(changed))
}
