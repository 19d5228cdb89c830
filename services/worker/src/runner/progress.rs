//! Publishing a running job's progress: the newest value, at most once per interval, to
//! `jobs.progress` (the last state) and to the event log (the history watchers see).

use std::time::Duration;

use gts_proto::v1::JobLogLevel;
use gts_proto::v1::JobProgress;
use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::{
    events,
    queue::{self, Lease},
};

/// Publishes until `done` fires (the render returned), then flushes the newest value.
/// Nothing is published once `stopped` fired (the job was cancelled or taken over).
/// Returns the newest progress seen.
pub(super) async fn publish(
    shared: &Shared,
    lease: &Lease,
    mut receiver: watch::Receiver<Option<JobProgress>>,
    done: CancellationToken,
    stopped: CancellationToken,
    interval: Duration,
) -> Option<JobProgress> {
    let mut last_sent: Option<JobProgress> = None;
    loop {
        tokio::select! {
            changed = receiver.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = done.cancelled() => break,
        }
        if stopped.is_cancelled() {
            continue;
        }
        let current = *receiver.borrow_and_update();
        if current != last_sent
            && let Some(progress) = &current
        {
            send(shared, lease, progress).await;
            last_sent = current;
            // Rate limit: later reports overwrite each other meanwhile.
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = done.cancelled() => break,
            }
        }
    }
    let newest = *receiver.borrow();
    if !stopped.is_cancelled()
        && newest != last_sent
        && let Some(progress) = &newest
    {
        send(shared, lease, progress).await;
    }
    newest
}

async fn send(shared: &Shared, lease: &Lease, progress: &JobProgress) {
    match queue::save_progress(&shared.deps.db, lease, &progress.encode_to_vec()).await {
        Ok(true) => {
            shared
                .publish(lease.job_id, events::progress(*progress))
                .await
        }
        // The lease is gone: the heartbeat will stop the render.
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, job_id = %lease.job_id, "cannot store progress"),
    }
}

/// Publishes the render's notes as log lines until `done` fires (the render returned),
/// then the ones still waiting. Nothing is published once `stopped` fired.
pub(super) async fn publish_notes(
    shared: &Shared,
    lease: &Lease,
    mut notes: mpsc::UnboundedReceiver<String>,
    done: CancellationToken,
    stopped: CancellationToken,
) {
    loop {
        let line = tokio::select! {
            line = notes.recv() => line,
            () = done.cancelled() => break,
        };
        let Some(line) = line else { return };
        publish_note(shared, lease, &stopped, line).await;
    }
    while let Ok(line) = notes.try_recv() {
        publish_note(shared, lease, &stopped, line).await;
    }
}

async fn publish_note(shared: &Shared, lease: &Lease, stopped: &CancellationToken, line: String) {
    if !stopped.is_cancelled() {
        shared
            .publish(lease.job_id, events::log_line(JobLogLevel::Info, line))
            .await;
    }
}
