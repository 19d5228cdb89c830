//! The WatchJob stream (see `docs/contract.md`, "Watching a job").
//!
//! Contract: the log position is read BEFORE the job row, so the snapshot reflects at least
//! everything up to the position it announces. Then come the logged events strictly after
//! `after_event_id` (or after the snapshot's position), each exactly once and in order,
//! from the backlog (XRANGE) and then from this replica's shared reader; a heartbeat
//! (carrying the last position) every `heartbeat` while nothing else is sent; the stream
//! ends after the terminal status change. If a job ended but its terminal event never
//! reached the log (Redis lost it), the stream ends with a status change built from the
//! row once the job has been finished for a while, so no watcher waits forever.

use std::{sync::Arc, time::Duration};

use gts_proto::v1::{JobEvent, JobHeartbeat, WatchJobResponse, job_event};
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Status, codegen::BoxStream};
use uuid::Uuid;

use super::{EventHub, EventId, Retention, StoredEvent, status_change};
use crate::{
    convert::{job_to_proto, timestamp_now},
    error::WorkerError,
    queue::{self, JobRow},
};

/// Events fetched per backlog read.
const BACKLOG_PAGE: usize = 512;
/// How long a finished job may lack its terminal event before the stream makes one up.
const TERMINAL_GRACE: Duration = Duration::from_secs(5);

/// What a watch stream needs.
#[derive(Clone)]
pub struct Watcher {
    pub db: PgPool,
    pub hub: Arc<EventHub>,
    pub heartbeat: Duration,
}

/// Boxed, so a watcher's channel stays small: tokio allocates a channel's slots in blocks of
/// 32, and an unboxed item (a whole `Status` or job snapshot) is hundreds of bytes.
type Item = Box<Result<WatchJobResponse, Status>>;
type Sender = mpsc::Sender<Item>;

impl Watcher {
    /// Opens the stream of `owner`'s job, or fails before sending anything.
    pub async fn open(
        &self,
        owner: Uuid,
        job_id: Uuid,
        after: Option<EventId>,
    ) -> Result<BoxStream<WatchJobResponse>, WorkerError> {
        let log = self.hub.log();
        let position = log.last_id(job_id).await?.unwrap_or(EventId::ZERO);
        let row = queue::get(&self.db, owner, job_id)
            .await?
            .ok_or(WorkerError::NotFound("job"))?;
        if let Some(after) = after
            && log.retention(job_id, after).await? == Retention::Trimmed
        {
            return Err(WorkerError::OutOfRange(
                "after_event_id is older than the retained event log; watch again without it \
                 to start from a fresh snapshot"
                    .to_owned(),
            ));
        }
        let snapshot = JobEvent {
            event_id: position.to_string(),
            emitted_at: Some(timestamp_now()),
            event: Some(job_event::Event::Snapshot(job_to_proto(&row)?)),
        };
        let (sender, receiver) = mpsc::channel(16);
        let task = WatchTask {
            watcher: self.clone(),
            job_id,
            cursor: after.unwrap_or(position),
            sender,
        };
        tokio::spawn(task.run(snapshot, position, row));
        Ok(Box::pin(ReceiverStream::new(receiver).map(|item| *item)))
    }
}

struct WatchTask {
    watcher: Watcher,
    job_id: Uuid,
    /// The last position sent (or the resume point).
    cursor: EventId,
    sender: Sender,
}

/// Why a watch task stops.
enum Stop {
    /// The terminal event was sent, or the client left.
    Done,
}

impl WatchTask {
    async fn run(mut self, snapshot: JobEvent, position: EventId, row: JobRow) {
        if self.send_event(snapshot).await.is_err() {
            return;
        }
        let result = if row.status().is_terminal() {
            self.finished(row).await
        } else {
            self.follow(position).await
        };
        if let Err(error) = result {
            let _ = self.sender.send(Box::new(Err(Status::from(error)))).await;
        }
    }

    async fn send_event(&mut self, event: JobEvent) -> Result<(), Stop> {
        self.sender
            .send(Box::new(Ok(WatchJobResponse { event: Some(event) })))
            .await
            .map_err(|_| Stop::Done)
    }

    /// Sends `event` if it is new; `Err(Stop)` after the terminal one or if the client left.
    async fn deliver(&mut self, event: &StoredEvent) -> Result<(), Stop> {
        if event.id <= self.cursor {
            return Ok(());
        }
        self.cursor = event.id;
        self.send_event(event.event.clone()).await?;
        if event.is_terminal() {
            return Err(Stop::Done);
        }
        Ok(())
    }

    /// Sends everything logged after the cursor. `Ok(Err(Stop))` once the stream is over.
    async fn catch_up(&mut self) -> Result<Result<(), Stop>, WorkerError> {
        loop {
            let page = self
                .watcher
                .hub
                .log()
                .range_after(self.job_id, self.cursor, BACKLOG_PAGE)
                .await?;
            let full = page.len() == BACKLOG_PAGE;
            for event in &page {
                if let Err(stop) = self.deliver(event).await {
                    return Ok(Err(stop));
                }
            }
            if !full {
                return Ok(Ok(()));
            }
        }
    }

    /// A job that had ended at the snapshot: the requested backlog, then the end.
    async fn finished(&mut self, row: JobRow) -> Result<(), WorkerError> {
        if self.catch_up().await?.is_ok() {
            // The log no longer holds the terminal event (or never did); the snapshot
            // already said how the job ended, so the stream simply ends.
            tracing::debug!(job_id = %row.id, "watched a finished job");
        }
        Ok(())
    }

    async fn follow(&mut self, position: EventId) -> Result<(), WorkerError> {
        let mut receiver = self.watcher.hub.subscribe(self.job_id, position);
        if self.catch_up().await?.is_err() {
            return Ok(());
        }
        let period = self.watcher.heartbeat;
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.sender.closed() => return Ok(()),
                received = receiver.recv() => match received {
                    Ok(event) => {
                        if self.deliver(&event).await.is_err() {
                            return Ok(());
                        }
                        heartbeat.reset();
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(job_id = %self.job_id, missed, "watcher lagged; catching up");
                        if self.catch_up().await?.is_err() {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        receiver = self.watcher.hub.subscribe(self.job_id, self.cursor);
                        if self.catch_up().await?.is_err() {
                            return Ok(());
                        }
                    }
                },
                _ = heartbeat.tick() => {
                    if self.end_if_finished_without_event().await?.is_err() {
                        return Ok(());
                    }
                    let beat = JobEvent {
                        event_id: self.cursor.to_string(),
                        emitted_at: Some(timestamp_now()),
                        event: Some(job_event::Event::Heartbeat(JobHeartbeat {
                            server_time: Some(timestamp_now()),
                        })),
                    };
                    if self.send_event(beat).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The liveness fallback described in the module contract.
    async fn end_if_finished_without_event(&mut self) -> Result<Result<(), Stop>, WorkerError> {
        let Some(row) = queue::get_any(&self.watcher.db, self.job_id).await? else {
            return Ok(Ok(()));
        };
        let ended_long_ago = row.finished_at.is_some_and(|at| {
            chrono::Utc::now() - at > chrono::Duration::from_std(TERMINAL_GRACE).unwrap_or_default()
        });
        if !row.status().is_terminal() || !ended_long_ago {
            return Ok(Ok(()));
        }
        if self.catch_up().await?.is_err() {
            return Ok(Err(Stop::Done));
        }
        tracing::warn!(job_id = %self.job_id, "job ended without its terminal event in the log");
        let event = JobEvent {
            event_id: self.cursor.to_string(),
            emitted_at: Some(timestamp_now()),
            event: Some(status_change(
                None,
                row.status(),
                row.attempt,
                &row.error_message,
            )),
        };
        let _ = self.send_event(event).await;
        Ok(Err(Stop::Done))
    }
}
