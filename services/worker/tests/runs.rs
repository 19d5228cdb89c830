//! Jobs rendered by runners with the scripted renderer: success with artifacts and signed
//! URLs, retries with backoff, input errors, crash recovery across two runners,
//! cancellation of a running job, and the per-user running limit.

#![allow(clippy::unwrap_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{Harness, SOON, URL_KEY, as_user, collect_until_end, next_event, transition};
use gts_common::signed_url::{SignatureError, UrlSigner};
use gts_proto::v1::{
    CancelJobRequest, GetArtifactUrlRequest, GetJobRequest, JobEvent, JobStatus,
    ListArtifactsRequest, job_event,
};
use gts_worker::{
    artifact_store::ArtifactStore,
    queue,
    testing::{RenderEvent, ScriptedRenderer, Step},
};
use tokio::sync::broadcast;
use uuid::Uuid;

const QUEUED: i32 = JobStatus::Queued as i32;
const RUNNING: i32 = JobStatus::Running as i32;
const SUCCEEDED: i32 = JobStatus::Succeeded as i32;
const FAILED: i32 = JobStatus::Failed as i32;
const CANCELLED: i32 = JobStatus::Cancelled as i32;
const NONE: i32 = JobStatus::Unspecified as i32;

fn transitions(events: &[JobEvent]) -> Vec<(i32, i32)> {
    events.iter().filter_map(transition).collect()
}

async fn wait_for(
    events: &mut broadcast::Receiver<RenderEvent>,
    wanted: impl Fn(&RenderEvent) -> bool,
) -> RenderEvent {
    tokio::time::timeout(SOON, async {
        loop {
            let event = events.recv().await.unwrap();
            if wanted(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the renderer announced the event in time")
}

#[tokio::test]
async fn a_job_renders_with_ordered_progress_artifacts_and_signed_urls() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "").await;
    let snapshot = next_event(&mut stream).await;
    assert!(matches!(
        snapshot.event,
        Some(job_event::Event::Snapshot(_))
    ));

    let runner = h.spawn_runner(Arc::new(ScriptedRenderer::new(vec![Step::Succeed], 2)));
    let events = collect_until_end(&mut stream).await;
    assert_eq!(
        transitions(&events),
        vec![(QUEUED, RUNNING), (RUNNING, SUCCEEDED)],
        "the submission event is already in the snapshot"
    );
    // Ids strictly increase; progress never goes back.
    let ids: Vec<gts_worker::events::EventId> =
        events.iter().map(|e| e.event_id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let fractions: Vec<f64> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(job_event::Event::Progress(p)) => Some(p.overall_fraction),
            _ => None,
        })
        .collect();
    assert!(!fractions.is_empty());
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
    assert_eq!(fractions.last().copied(), Some(1.0));

    let mut client = h.client();
    let done = client
        .get_job(as_user(
            user,
            GetJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(done.status(), JobStatus::Succeeded);
    assert_eq!(done.attempt, 1);
    assert_eq!(done.chain_results.len(), 2);
    assert_eq!(done.progress.unwrap().overall_fraction, 1.0);

    let artifacts = client
        .list_artifacts(as_user(
            user,
            ListArtifactsRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .artifacts;
    let names: Vec<&str> = artifacts.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, ["chain-00.flac", "chain-01.flac", "ab.flac"]);
    assert_eq!(
        h.store.keys(),
        vec![
            format!("jobs/{job}/ab.flac"),
            format!("jobs/{job}/chain-00.flac"),
            format!("jobs/{job}/chain-01.flac"),
        ]
    );

    let signed = client
        .get_artifact_url(as_user(
            user,
            GetArtifactUrlRequest {
                job_id: job.to_string(),
                artifact_id: artifacts[2].id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let url = url::Url::parse(&signed.url).unwrap();
    assert_eq!(url.path(), format!("/artifacts/jobs/{job}/ab.flac"));
    let expires = signed.expires_at.unwrap().seconds;
    let now = chrono::Utc::now().timestamp();
    assert!(expires > now && expires <= now + 900);
    let signer = UrlSigner::new(URL_KEY.as_bytes()).unwrap();
    assert_eq!(signer.verify_query(url.path(), url.query(), now), Ok(()));
    assert_eq!(
        signer.verify_query(
            &url.path().replace("ab.flac", "chain-00.flac"),
            url.query(),
            now
        ),
        Err(SignatureError::BadSignature)
    );
    assert_eq!(
        signer.verify_query(url.path(), url.query(), expires),
        Err(SignatureError::Expired)
    );
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn transient_failures_retry_with_backoff_then_fail_with_the_last_error() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "").await;
    next_event(&mut stream).await;
    let runner = h.spawn_runner(Arc::new(ScriptedRenderer::new(
        vec![
            Step::FailTransient("TONE3000 is unavailable (1)".into()),
            Step::FailTransient("TONE3000 is unavailable (2)".into()),
            Step::FailTransient("TONE3000 is unavailable (3)".into()),
        ],
        1,
    )));
    let events = collect_until_end(&mut stream).await;
    assert_eq!(
        transitions(&events),
        vec![
            (QUEUED, RUNNING),
            (RUNNING, QUEUED),
            (QUEUED, RUNNING),
            (RUNNING, QUEUED),
            (QUEUED, RUNNING),
            (RUNNING, FAILED),
        ]
    );
    // Each retry waited at least half its nominal delay (100 ms, then 200 ms).
    let at = |e: &JobEvent| {
        let t = e.emitted_at.unwrap();
        t.seconds as f64 + f64::from(t.nanos) / 1e9
    };
    let changes: Vec<&JobEvent> = events.iter().filter(|e| transition(e).is_some()).collect();
    assert!(at(changes[2]) - at(changes[1]) >= 0.05);
    assert!(at(changes[4]) - at(changes[3]) >= 0.1);

    let done = h
        .client()
        .get_job(as_user(
            user,
            GetJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(done.status(), JobStatus::Failed);
    assert_eq!(done.attempt, 3);
    assert_eq!(done.error_message, "TONE3000 is unavailable (3)");
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn an_input_error_fails_at_once() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "").await;
    next_event(&mut stream).await;
    let runner = h.spawn_runner(Arc::new(ScriptedRenderer::new(
        vec![Step::FailInput(
            "chain 2: the model file does not load".into(),
        )],
        1,
    )));
    let events = collect_until_end(&mut stream).await;
    assert_eq!(
        transitions(&events),
        vec![(QUEUED, RUNNING), (RUNNING, FAILED)]
    );
    let Some(job_event::Event::StatusChange(last)) = &events.last().unwrap().event else {
        panic!("ends with a status change");
    };
    assert_eq!(last.error_message, "chain 2: the model file does not load");
    assert_eq!(last.attempt, 1);
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn a_crashed_workers_job_completes_on_another_after_its_lease() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;

    let stuck = Arc::new(ScriptedRenderer::new(vec![Step::RunUntilCancelled], 2));
    let mut stuck_events = stuck.subscribe();
    let first = h.spawn_runner(stuck.clone());
    wait_for(&mut stuck_events, |e| {
        matches!(e, RenderEvent::Started { .. })
    })
    .await;
    // A watcher on another replica follows along.
    let other = h.another_replica().await;
    let mut stream = common::watch_on(&other.channel, user, job, "").await;
    let snapshot = next_event(&mut stream).await;
    let Some(job_event::Event::Snapshot(running)) = &snapshot.event else {
        panic!("snapshot first");
    };
    assert_eq!(running.status(), JobStatus::Running);
    assert_eq!(h.store.keys(), vec![format!("jobs/{job}/chain-00.flac")]);

    first.kill().await;
    let second = h.spawn_runner(Arc::new(ScriptedRenderer::new(vec![Step::Succeed], 2)));
    let events = collect_until_end(&mut stream).await;
    assert_eq!(
        transitions(&events),
        vec![(RUNNING, QUEUED), (QUEUED, RUNNING), (RUNNING, SUCCEEDED)]
    );
    // The crashed attempt never saw its token: it simply vanished.
    assert!(matches!(
        stuck_events.try_recv(),
        Err(broadcast::error::TryRecvError::Empty)
    ));

    let done = h
        .client()
        .get_job(as_user(
            user,
            GetJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(done.status(), JobStatus::Succeeded);
    assert_eq!(done.attempt, 2);
    // Exactly one set of artifacts: the second attempt overwrote the first's keys.
    assert_eq!(
        h.store.keys(),
        vec![
            format!("jobs/{job}/ab.flac"),
            format!("jobs/{job}/chain-00.flac"),
            format!("jobs/{job}/chain-01.flac"),
        ]
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM artifacts WHERE job_id = $1")
        .bind(job)
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_eq!(rows, 3);
    second.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn cancelling_a_running_job_stops_it_within_a_second_and_removes_its_artifacts() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let renderer = Arc::new(ScriptedRenderer::new(vec![Step::RunUntilCancelled], 1));
    let mut announcements = renderer.subscribe();
    let mut removals = h.store.removals();
    let runner = h.spawn_runner(renderer.clone());
    wait_for(&mut announcements, |e| {
        matches!(e, RenderEvent::Started { .. })
    })
    .await;
    assert_eq!(h.store.keys().len(), 1, "a partial artifact exists");
    let mut stream = h.watch(user, job, "").await;
    next_event(&mut stream).await;

    cancel(&h, user, job).await;
    let stopped = tokio::time::timeout(
        Duration::from_secs(1),
        wait_for(&mut announcements, |e| {
            matches!(e, RenderEvent::Stopped { .. })
        }),
    )
    .await
    .expect("the render stopped within 1 s of the cancel");
    assert_eq!(
        stopped,
        RenderEvent::Stopped {
            job_id: job,
            attempt: 1
        }
    );

    let events = collect_until_end(&mut stream).await;
    assert_eq!(transitions(&events).last(), Some(&(RUNNING, CANCELLED)));
    tokio::time::timeout(SOON, removals.wait_for(|count| *count >= 1))
        .await
        .unwrap()
        .unwrap();
    assert!(h.store.keys().is_empty(), "{:?}", h.store.keys());
    let (status,): (String,) = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(h.db())
        .await
        .unwrap();
    assert_eq!(status, "cancelled");
    runner.stop().await;
    h.finish().await;
}

fn kept_keys(h: &Harness) -> Vec<String> {
    h.store
        .keys()
        .into_iter()
        .filter(|key| key.starts_with("resume/"))
        .collect()
}

async fn keep_chain(h: &Harness, job: Uuid) {
    h.store
        .put(
            &format!("resume/{job}/chain-key"),
            b"a finished chain".to_vec(),
        )
        .await
        .unwrap();
}

async fn cancel(h: &Harness, user: Uuid, job: Uuid) {
    h.client()
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_job_cancelled_while_it_waits_for_its_next_attempt_loses_its_kept_chains() {
    let h = Harness::start(&[("GTS_WORKER_RETRY_BASE_MS", "60000")]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "").await;
    next_event(&mut stream).await;
    keep_chain(&h, job).await;
    let first = h.spawn_runner(Arc::new(ScriptedRenderer::new(
        vec![Step::FailTransient(
            "the object store is unavailable".into(),
        )],
        1,
    )));
    loop {
        if transition(&next_event(&mut stream).await) == Some((RUNNING, QUEUED)) {
            break;
        }
    }
    first.stop().await;
    assert_eq!(
        kept_keys(&h).len(),
        1,
        "a retry keeps the chains for its next attempt"
    );

    let mut removals = h.store.removals();
    let second = h.spawn_runner(Arc::new(ScriptedRenderer::new(vec![], 1)));
    cancel(&h, user, job).await;
    tokio::time::timeout(SOON, removals.wait_for(|count| *count >= 1))
        .await
        .expect("the kept chains were removed in time")
        .unwrap();
    assert!(kept_keys(&h).is_empty(), "{:?}", kept_keys(&h));
    second.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn a_starting_runner_removes_kept_chains_of_ended_and_unknown_jobs_only() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let cancelled = h.submit(user, h.shootout(user)).await;
    cancel(&h, user, cancelled).await;
    let unknown = Uuid::new_v4();
    let pending = h.submit(user, h.shootout(user)).await;
    for job in [cancelled, unknown, pending] {
        keep_chain(&h, job).await;
    }
    let mut removals = h.store.removals();
    let runner = h.spawn_runner(Arc::new(ScriptedRenderer::new(
        vec![Step::RunUntilCancelled],
        1,
    )));
    tokio::time::timeout(SOON, removals.wait_for(|count| *count >= 2))
        .await
        .expect("the orphaned chains were removed in time")
        .unwrap();
    assert_eq!(
        kept_keys(&h),
        vec![format!("resume/{pending}/chain-key")],
        "a queued or running job keeps its chains"
    );
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn each_user_runs_at_most_the_limit_at_once() {
    let h = Harness::start(&[("GTS_WORKER_USER_RUNNING_LIMIT", "1")]).await;
    let busy = Uuid::new_v4();
    let other = Uuid::new_v4();
    let busy_jobs = [
        h.submit(busy, h.shootout(busy)).await,
        h.submit(busy, h.shootout(busy)).await,
        h.submit(busy, h.shootout(busy)).await,
    ];
    let other_job = h.submit(other, h.shootout(other)).await;
    let renderer = Arc::new(ScriptedRenderer::new(vec![Step::RunUntilCancelled], 1));
    let mut announcements = renderer.subscribe();
    let runner = h.spawn_runner(renderer.clone());

    let mut started = Vec::new();
    for _ in 0..2 {
        if let RenderEvent::Started { job_id, .. } = wait_for(&mut announcements, |e| {
            matches!(e, RenderEvent::Started { .. })
        })
        .await
        {
            started.push(job_id);
        }
    }
    assert!(started.contains(&other_job), "{started:?}");
    let busy_started: Vec<Uuid> = started
        .iter()
        .copied()
        .filter(|id| busy_jobs.contains(id))
        .collect();
    assert_eq!(busy_started.len(), 1);
    // Slots are free (concurrency 4), yet nothing more is claimable: the limit holds in SQL.
    assert!(
        queue::claim(h.db(), "probe", Duration::from_secs(30), 1)
            .await
            .unwrap()
            .is_none()
    );

    // When the busy user's job ends, their next one starts.
    cancel(&h, busy, busy_started[0]).await;
    let next = wait_for(
        &mut announcements,
        |e| matches!(e, RenderEvent::Started { job_id, .. } if busy_jobs.contains(job_id)),
    )
    .await;
    assert!(matches!(next, RenderEvent::Started { job_id, .. } if job_id != busy_started[0]));
    let running: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE owner_id = $1 AND status = 'running'")
            .bind(busy)
            .fetch_one(h.db())
            .await
            .unwrap();
    assert_eq!(running, 1);
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn a_submission_is_logged_before_anything_else() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "0-0").await;
    next_event(&mut stream).await;
    let first = next_event(&mut stream).await;
    assert_eq!(transition(&first), Some((NONE, QUEUED)));
    h.finish().await;
}

#[tokio::test]
async fn a_stopping_runner_gives_its_job_back_without_using_an_attempt() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let renderer = Arc::new(ScriptedRenderer::new(vec![Step::RunUntilCancelled], 1));
    let mut announcements = renderer.subscribe();
    let runner = h.spawn_runner(renderer.clone());
    wait_for(&mut announcements, |e| {
        matches!(e, RenderEvent::Started { .. })
    })
    .await;
    runner.stop().await;
    let (status, attempt): (String, i32) =
        sqlx::query_as("SELECT status, attempt FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(h.db())
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempt), ("queued", 0));
    // The next runner renders it as a first attempt.
    let mut stream = h.watch(user, job, "").await;
    next_event(&mut stream).await;
    let next = h.spawn_runner(Arc::new(ScriptedRenderer::new(vec![Step::Succeed], 1)));
    let events = collect_until_end(&mut stream).await;
    assert_eq!(transitions(&events).last(), Some(&(RUNNING, SUCCEEDED)));
    let done = h
        .client()
        .get_job(as_user(
            user,
            GetJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(done.attempt, 1);
    next.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn trace_contexts_are_pruned_once_no_attempt_will_read_them() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let ended = h.submit(user, h.shootout(user)).await;
    cancel(&h, user, ended).await;
    let pending = h.submit(user, h.shootout(user)).await;
    let (stale_orphan, fresh_orphan) = (Uuid::new_v4(), Uuid::new_v4());
    let hours_old = [
        (ended, 0),
        (pending, 0),
        (stale_orphan, gts_worker::observe::ORPHAN_TRACE_HOURS + 1),
        (fresh_orphan, 0),
    ];
    for (job, hours) in hours_old {
        sqlx::query(
            "INSERT INTO job_traces (job_id, traceparent, created_at) \
             VALUES ($1, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', \
             now() - make_interval(hours => $2))",
        )
        .bind(job)
        .bind(hours)
        .execute(h.db())
        .await
        .unwrap();
    }
    let pruned = gts_worker::observe::prune_traces(h.db()).await.unwrap();
    assert_eq!(pruned, 2, "the ended job's and the stale orphan's");
    let mut kept: Vec<Uuid> = sqlx::query_scalar("SELECT job_id FROM job_traces")
        .fetch_all(h.db())
        .await
        .unwrap();
    kept.sort();
    let mut wanted = vec![pending, fresh_orphan];
    wanted.sort();
    assert_eq!(
        kept, wanted,
        "a queued job's and a fresh orphan's contexts stay"
    );
    h.finish().await;
}
