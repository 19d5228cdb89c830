//! 200 jobs from 20 users on 2 runners: all complete once, none is lost or duplicated, and
//! no user ever has more running jobs than the limit (checked in the database from inside
//! every render, where a violation would show).

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{Harness, collect_until_end, transition};
use gts_proto::v1::{ArtifactKind, JobStatus};
use gts_worker::{
    artifact_store::JobArtifacts,
    render::{ProgressSink, RenderFailure, RenderOutput, RenderRequest, Renderer},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const USERS: usize = 20;
const JOBS_PER_USER: usize = 10;
const LIMIT: i64 = 2;

/// Renders nothing but checks the running-jobs invariant and stores one artifact.
struct CheckingRenderer {
    db: sqlx::PgPool,
    renders: AtomicUsize,
    most_running: Arc<Mutex<HashMap<Uuid, i64>>>,
}

#[tonic::async_trait]
impl Renderer for CheckingRenderer {
    async fn render(
        &self,
        request: RenderRequest,
        _progress: ProgressSink,
        _cancel: CancellationToken,
        artifacts: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        self.renders.fetch_add(1, Ordering::SeqCst);
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE owner_id = $1 AND status = 'running'",
        )
        .bind(request.owner_id)
        .fetch_one(&self.db)
        .await
        .unwrap();
        {
            let mut most = self.most_running.lock().unwrap();
            let entry = most.entry(request.owner_id).or_default();
            *entry = (*entry).max(running);
        }
        let stored = artifacts
            .put(
                ArtifactKind::AbFlac,
                None,
                "ab.flac",
                "audio/flac",
                request.job_id.as_bytes().to_vec(),
            )
            .await
            .map_err(|error| RenderFailure::Transient(error.to_string()))?;
        Ok(RenderOutput {
            artifacts: vec![stored],
            chain_results: vec![],
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_jobs_of_twenty_users_on_two_runners_complete_once_within_limits() {
    let h = Harness::start(&[("GTS_WORKER_USER_RUNNING_LIMIT", "2")]).await;
    let most_running = Arc::new(Mutex::new(HashMap::new()));
    let renderer = || {
        Arc::new(CheckingRenderer {
            db: h.db().clone(),
            renders: AtomicUsize::new(0),
            most_running: Arc::clone(&most_running),
        })
    };
    let (first, second) = (renderer(), renderer());

    // Submit everything first, so the runners find a full queue.
    let mut jobs = Vec::new();
    for _ in 0..USERS {
        let user = Uuid::new_v4();
        let shootout = h.shootout(user);
        for _ in 0..JOBS_PER_USER {
            jobs.push((user, h.submit(user, shootout).await));
        }
    }
    let mut streams = Vec::new();
    for (user, job) in &jobs {
        streams.push(h.watch(*user, *job, "").await);
    }
    let runners = [
        h.spawn_runner(first.clone()),
        h.spawn_runner(second.clone()),
    ];

    let ends = futures::future::join_all(streams.iter_mut().map(|stream| async move {
        let events = tokio::time::timeout(Duration::from_secs(120), collect_until_end(stream))
            .await
            .expect("every job ends");
        events.iter().filter_map(transition).collect::<Vec<_>>()
    }))
    .await;
    let succeeded = (JobStatus::Running as i32, JobStatus::Succeeded as i32);
    for (transitions, (_, job)) in ends.iter().zip(&jobs) {
        assert_eq!(
            transitions.last(),
            Some(&succeeded),
            "job {job}: {transitions:?}"
        );
        assert_eq!(
            transitions
                .iter()
                .filter(|t| t.1 == JobStatus::Running as i32)
                .count(),
            1,
            "job {job} ran exactly once: {transitions:?}"
        );
    }
    let total = USERS * JOBS_PER_USER;
    let (by_first, by_second) = (
        first.renders.load(Ordering::SeqCst),
        second.renders.load(Ordering::SeqCst),
    );
    assert_eq!(by_first + by_second, total, "each job rendered once");
    assert!(
        by_first > 0 && by_second > 0,
        "both runners worked: {by_first}/{by_second}"
    );
    let most = most_running.lock().unwrap().clone();
    assert_eq!(most.len(), USERS);
    assert!(most.values().all(|&n| (1..=LIMIT).contains(&n)), "{most:?}");
    let artifact_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM artifacts")
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_eq!(
        artifact_rows, total as i64,
        "one artifact per job, none duplicated"
    );
    assert_eq!(h.store.keys().len(), total);

    for runner in runners {
        runner.stop().await;
    }
    h.finish().await;
}
