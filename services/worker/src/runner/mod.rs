//! The runner: claims jobs and renders them, `concurrency` at a time.
//!
//! Design contract:
//! - Wakes on `NOTIFY worker_job_queued` (sent by the trigger on submit and on requeue),
//!   and polls every `poll` as a fallback and for retries whose backoff has elapsed.
//! - Each poll also reclaims jobs whose lease expired (their worker died): they go back to
//!   the queue (or fail when out of attempts), with a status change in their event log.
//! - Every running job has a cancellation token. It fires when the job is cancelled
//!   (`NOTIFY worker_job_cancelled`, typically within milliseconds; the lease renewal finds
//!   out too, within one heartbeat, if a notification is lost), when the lease is lost, or
//!   on shutdown (the job is then released back to the queue without using an attempt).
//! - Chains kept between attempts are removed when their job ends: by the runner that ran
//!   it, by any runner told of a cancellation (the job may have been waiting for its next
//!   attempt), and by a scan at start and every minute for those no runner heard of. The
//!   same scan prunes the trace contexts of ended jobs (`observe::prune_traces`).
//! - Job tasks live in a `JoinSet` owned by the run future: dropping or aborting the
//!   runner stops its renders and their heartbeats at once, which is exactly what a crashed
//!   process looks like to the other workers.

mod job;
mod progress;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::Instant,
};

use gts_common::shutdown::Shutdown;
use gts_proto::v1::JobLogLevel;
use sqlx::{
    PgPool,
    postgres::{PgListener, PgNotification},
};
use tokio::{sync::Semaphore, task::JoinSet};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    artifact_store::ArtifactStore,
    config::QueueSettings,
    events::{self, EventLog},
    queue::{self, Status},
    render::Renderer,
};

const QUEUED_CHANNEL: &str = "worker_job_queued";
const CANCELLED_CHANNEL: &str = "worker_job_cancelled";

/// Why a running job's token fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The user cancelled the job.
    Cancelled,
    /// Another worker owns the job now (this one was too slow to renew its lease).
    LeaseLost,
    /// This process is shutting down.
    Shutdown,
}

/// What the runner works with.
#[derive(Clone)]
pub struct RunnerDeps {
    pub db: PgPool,
    pub log: EventLog,
    pub renderer: Arc<dyn Renderer>,
    pub artifacts: Arc<dyn ArtifactStore>,
    pub settings: QueueSettings,
}

struct JobControl {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl JobControl {
    fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }
}

struct Shared {
    deps: RunnerDeps,
    owner: String,
    controls: Mutex<HashMap<Uuid, JobControl>>,
}

impl Shared {
    fn controls(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, JobControl>> {
        match self.controls.lock() {
            Ok(controls) => controls,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn register(&self, job_id: Uuid) -> (CancellationToken, Arc<OnceLock<StopReason>>) {
        let token = CancellationToken::new();
        let reason = Arc::new(OnceLock::new());
        self.controls().insert(
            job_id,
            JobControl {
                token: token.clone(),
                reason: reason.clone(),
            },
        );
        (token, reason)
    }

    fn deregister(&self, job_id: Uuid) {
        self.controls().remove(&job_id);
    }

    /// Stops the job if this runner is rendering it; `false` when it is not.
    fn stop_job(&self, job_id: Uuid, reason: StopReason) -> bool {
        let controls = self.controls();
        let control = controls.get(&job_id);
        if let Some(control) = control {
            control.stop(reason);
        }
        control.is_some()
    }

    fn stop_all(&self, reason: StopReason) {
        for control in self.controls().values() {
            control.stop(reason);
        }
    }

    async fn publish(&self, job_id: Uuid, event: gts_proto::v1::job_event::Event) {
        if let Err(error) = self.deps.log.append_reliably(job_id, event).await {
            tracing::error!(%error, %job_id, "a job event could not be logged");
        }
    }
}

/// One worker instance's claim loop.
pub struct Runner {
    shared: Arc<Shared>,
}

impl Runner {
    /// A runner with a unique lease-owner name.
    pub fn new(deps: RunnerDeps) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "gts-worker".to_owned());
        Self {
            shared: Arc::new(Shared {
                deps,
                owner: format!("{host}-{}", Uuid::new_v4().simple()),
                controls: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The name this runner's leases carry.
    pub fn owner(&self) -> &str {
        &self.shared.owner
    }

    /// Claims and renders jobs until `shutdown` fires; then stops the running renders,
    /// gives their jobs back to the queue and returns.
    pub async fn run(self, shutdown: Shutdown) {
        let shared = self.shared;
        let settings = shared.deps.settings.clone();
        let slots = Arc::new(Semaphore::new(settings.concurrency));
        let mut tasks = JoinSet::new();
        let mut listener: Option<PgListener> = None;
        let mut last_sweep: Option<Instant> = None;
        let mut last_orphan_scan: Option<Instant> = None;
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            if listener.is_none() {
                listener = listen(&shared.deps.db).await;
            }
            if last_sweep.is_none_or(|at| at.elapsed() >= settings.poll) {
                sweep(&shared).await;
                last_sweep = Some(Instant::now());
            }
            if last_orphan_scan.is_none_or(|at| at.elapsed() >= ORPHAN_SCAN_INTERVAL) {
                job::remove_orphaned_kept_chains(&shared).await;
                if let Err(error) = crate::observe::prune_traces(&shared.deps.db).await {
                    tracing::warn!(%error, "cannot prune stored trace contexts");
                }
                last_orphan_scan = Some(Instant::now());
            }
            claim_into_free_slots(&shared, &slots, &mut tasks).await;
            tokio::select! {
                () = &mut stop => break,
                notification = next_notification(&mut listener) => {
                    if let Some(notification) = notification
                        && notification.channel() == CANCELLED_CHANNEL
                        && let Ok(job_id) = notification.payload().parse::<Uuid>()
                    && !shared.stop_job(job_id, StopReason::Cancelled)
                    {
                        // Not rendering here: it may have been waiting for its next attempt,
                        // with chains kept from the last one.
                        tasks.spawn(job::remove_kept_chains_if_ended(Arc::clone(&shared), job_id));
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                () = tokio::time::sleep(settings.poll) => {}
            }
        }
        shared.stop_all(StopReason::Shutdown);
        while tasks.join_next().await.is_some() {}
    }
}

/// How often a runner looks for kept chains whose job ended without a worker to remove
/// them (besides at start): cancelled between attempts while no runner heard of it, or a
/// worker that died while cleaning up.
const ORPHAN_SCAN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Most claims a runner makes at once (each holds a pooled connection meanwhile).
const CLAIM_BURST: usize = 8;

/// Fills free slots: one claim first, and when it found work, up to [`CLAIM_BURST`] more
/// at once (a single claimer is what limits throughput with short renders), repeated while
/// slots and work remain.
async fn claim_into_free_slots(
    shared: &Arc<Shared>,
    slots: &Arc<Semaphore>,
    tasks: &mut JoinSet<()>,
) {
    let settings = &shared.deps.settings;
    let claim = || {
        queue::claim(
            &shared.deps.db,
            &shared.owner,
            settings.lease,
            settings.user_running_limit,
        )
    };
    let mut burst = 1;
    loop {
        let mut free = Vec::new();
        while free.len() < burst
            && let Ok(slot) = Arc::clone(slots).try_acquire_owned()
        {
            free.push(slot);
        }
        if free.is_empty() {
            return;
        }
        let results = futures::future::join_all(free.iter().map(|_| claim())).await;
        let mut found_all = true;
        for (slot, result) in free.into_iter().zip(results) {
            match result {
                Ok(Some(row)) => {
                    tasks.spawn(job::run(Arc::clone(shared), row, slot));
                }
                Ok(None) => found_all = false,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim jobs");
                    found_all = false;
                }
            }
        }
        if !found_all {
            return;
        }
        burst = CLAIM_BURST;
    }
}

async fn listen(db: &PgPool) -> Option<PgListener> {
    let result = async {
        let mut listener = PgListener::connect_with(db).await?;
        listener
            .listen_all([QUEUED_CHANNEL, CANCELLED_CHANNEL])
            .await?;
        Ok::<_, sqlx::Error>(listener)
    }
    .await;
    match result {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for job notifications; polling only");
            None
        }
    }
}

async fn next_notification(listener: &mut Option<PgListener>) -> Option<PgNotification> {
    let Some(active) = listener.as_mut() else {
        return std::future::pending().await;
    };
    match active.recv().await {
        Ok(notification) => Some(notification),
        Err(error) => {
            tracing::warn!(%error, "job notifications interrupted; reconnecting");
            *listener = None;
            None
        }
    }
}

/// Reclaims jobs of dead workers and logs what happened to them.
async fn sweep(shared: &Shared) {
    let rows = match queue::reclaim_expired(&shared.deps.db, 100).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "cannot reclaim expired leases");
            return;
        }
    };
    for row in rows {
        tracing::warn!(job_id = %row.id, status = %row.status, "reclaimed a job whose lease expired");
        if row.status().is_terminal() && job::has_kept_chains(shared, row.id).await {
            job::remove_kept_chains(shared, row.id).await;
        }
        if row.status() == Status::Queued {
            shared
                .publish(
                    row.id,
                    events::log_line(
                        JobLogLevel::Warning,
                        "The worker rendering this job stopped responding; it will be rendered again.",
                    ),
                )
                .await;
        }
        shared
            .publish(
                row.id,
                events::status_change(
                    Some(Status::Running),
                    row.status(),
                    row.attempt,
                    &row.error_message,
                ),
            )
            .await;
    }
}
