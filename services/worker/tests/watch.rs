//! WatchJob: resuming from any event id with no gap and no duplicate, one shared Redis
//! reader per job per replica, heartbeats carrying the last position, and the limits of
//! the retained log.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{Harness, SOON, as_user, collect_until_end, next_event, transition};
use gts_proto::v1::{CancelJobRequest, JobStatus, WatchJobRequest, job_event};
use gts_worker::testing::{RenderEvent, ScriptedRenderer, Step};
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn resuming_from_any_event_id_gives_the_rest_once_in_order() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let runner = h.spawn_runner(Arc::new(ScriptedRenderer::new(vec![Step::Succeed], 3)));
    // Watch from the very start of the log until the end.
    let mut full = h.watch(user, job, "0-0").await;
    next_event(&mut full).await;
    let all = collect_until_end(&mut full).await;
    let ids: Vec<String> = all.iter().map(|e| e.event_id.clone()).collect();
    assert!(ids.len() >= 4, "{ids:?}");
    assert_eq!(
        all.last().and_then(transition),
        Some((JobStatus::Running as i32, JobStatus::Succeeded as i32))
    );

    // From every position, a reconnecting watcher gets exactly the rest.
    for (index, resume_from) in ids.iter().enumerate() {
        let mut resumed = h.watch(user, job, resume_from).await;
        let snapshot = next_event(&mut resumed).await;
        assert!(matches!(
            snapshot.event,
            Some(job_event::Event::Snapshot(_))
        ));
        let rest: Vec<String> = collect_until_end(&mut resumed)
            .await
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(
            rest,
            ids[index + 1..].to_vec(),
            "resumed after {resume_from}"
        );
    }
    // Without a resume point, a finished job gives its snapshot and the end.
    let mut fresh = h.watch(user, job, "").await;
    let snapshot = next_event(&mut fresh).await;
    assert_eq!(snapshot.event_id, *ids.last().unwrap());
    assert!(collect_until_end(&mut fresh).await.is_empty());
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn watchers_on_one_replica_share_one_reader_and_all_see_the_end() {
    let h = Harness::start(&[("GTS_WORKER_WATCH_HEARTBEAT_MS", "100")]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let renderer = Arc::new(ScriptedRenderer::new(vec![Step::RunUntilCancelled], 1));
    let mut announcements = renderer.subscribe();
    let runner = h.spawn_runner(renderer.clone());
    tokio::time::timeout(SOON, async {
        while !matches!(
            announcements.recv().await.unwrap(),
            RenderEvent::Started { .. }
        ) {}
    })
    .await
    .unwrap();

    let mut first = h.watch(user, job, "").await;
    let mut second = h.watch(user, job, "").await;
    let first_snapshot = next_event(&mut first).await;
    next_event(&mut second).await;
    // Idle: heartbeats arrive, naming the last position seen.
    let mut last_position = first_snapshot.event_id;
    let beat = loop {
        let event = next_event(&mut first).await;
        if matches!(event.event, Some(job_event::Event::Heartbeat(_))) {
            break event;
        }
        last_position = event.event_id;
    };
    assert_eq!(beat.event_id, last_position);
    assert_eq!(h.replica.worker.hub().readers_started(), 1);
    assert_eq!(h.replica.worker.hub().active_readers(), 1);

    h.client()
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap();
    for stream in [&mut first, &mut second] {
        let events = collect_until_end(stream).await;
        assert_eq!(
            events.iter().filter_map(transition).collect::<Vec<_>>(),
            vec![(JobStatus::Running as i32, JobStatus::Cancelled as i32)]
        );
    }
    assert_eq!(h.replica.worker.hub().readers_started(), 1);
    runner.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn a_resume_point_outside_the_log_is_out_of_range_and_garbage_is_invalid() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut client = h.client();
    let watch = |after: &str| {
        as_user(
            user,
            WatchJobRequest {
                job_id: job.to_string(),
                after_event_id: after.to_owned(),
            },
        )
    };
    let bad = client.watch_job(watch("yesterday")).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // The log expired: an old position can no longer be served in full.
    let key = format!("{}job:{job}:events", h.config.service.redis_prefix);
    let mut redis = h.replica.worker.infra().redis.conn.clone();
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    let gone = client.watch_job(watch("1-0")).await.unwrap_err();
    assert_eq!(gone.code(), Code::OutOfRange);
    // Starting afresh works.
    let mut fresh = h.watch(user, job, "").await;
    let snapshot = next_event(&mut fresh).await;
    assert_eq!(snapshot.event_id, "0-0");
    h.finish().await;
}

#[tokio::test]
async fn the_log_expires_a_day_after_the_job_ends() {
    let h = Harness::start(&[]).await;
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let key = format!("{}job:{job}:events", h.config.service.redis_prefix);
    let mut redis = h.replica.worker.infra().redis.conn.clone();
    let ttl = |mut conn: redis::aio::ConnectionManager, key: String| async move {
        redis::cmd("TTL")
            .arg(key)
            .query_async::<i64>(&mut conn)
            .await
            .unwrap()
    };
    // Unfinished: a week-long safety expiry.
    let open = ttl(redis.clone(), key.clone()).await;
    assert!(open > 86_400 && open <= 7 * 86_400, "{open}");
    h.client()
        .cancel_job(as_user(
            user,
            CancelJobRequest {
                job_id: job.to_string(),
            },
        ))
        .await
        .unwrap();
    let ended = ttl(redis.clone(), key.clone()).await;
    assert!(ended > 86_000 && ended <= 86_400, "{ended}");
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    h.finish().await;
}
