//! Redis restarts in the middle of a render: the job still completes, and a watcher that
//! reconnects with its last event id catches up with every event once, in order. The
//! stack runs on a private Redis (append-only file on, as a production Redis keeps its
//! data across restarts) so the test can kill and restart it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use gts_e2e::{
    Stack, clients,
    redis_server::RedisServer,
    shootouts::{chain, library, nam, plucked_wav, upload},
    stack::with_bearer,
};
use gts_proto::v1::{
    AssetKind, CreateShootoutRequest, DiTrackRef, GetJobRequest, JobEvent, JobStatus, RenderStage,
    Shootout, SubmitJobRequest, WatchJobRequest, job_event::Event,
    job_service_client::JobServiceClient, shootout_service_client::ShootoutServiceClient,
};

fn position(event: &JobEvent) -> (u64, u64) {
    let (ms, seq) = event.event_id.split_once('-').unwrap();
    (ms.parse().unwrap(), seq.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_render_loses_no_job_and_no_event() {
    let mut redis = RedisServer::start();
    let stack = Stack::start_with(&[("GTS_REDIS_URL", redis.url())]).await;
    let token = stack.login().await.access_token().to_owned();
    let di = upload(
        &stack,
        &token,
        AssetKind::DiTrack,
        "long.wav",
        &plucked_wav(20.0, 48_000),
    )
    .await;
    let shootout = ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(Shootout {
                    name: "Redis restart".into(),
                    di_tracks: vec![DiTrackRef {
                        asset_id: di.id.clone(),
                        label: String::new(),
                    }],
                    chains: vec![
                        chain("A", vec![nam(library(51949, 293886))]),
                        chain("B", vec![nam(library(51949, 293886))]),
                    ],
                    ..Default::default()
                }),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap();
    let mut jobs = JobServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    let job = jobs
        .submit_job(with_bearer(
            SubmitJobRequest {
                shootout_id: shootout.id.clone(),
                idempotency_key: "redis".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let watch_request = |after: String| {
        with_bearer(
            WatchJobRequest {
                job_id: job.id.clone(),
                after_event_id: after,
            },
            &token,
        )
    };

    // Watch until a chain is rendering, then restart Redis under everyone's feet.
    let mut stream = jobs
        .watch_job(watch_request(String::new()))
        .await
        .unwrap()
        .into_inner();
    let mut seen: Vec<JobEvent> = Vec::new();
    while let Some(message) = stream.next().await {
        let event = message.unwrap().event.unwrap();
        let rendering = matches!(event.event.as_ref().unwrap(),
            Event::Progress(p) if p.stage() == RenderStage::RenderingChain);
        seen.push(event);
        if rendering {
            break;
        }
    }
    redis.kill_server();
    redis.start_server();

    // The old stream may end or break; a reconnect from the last event id catches up.
    drop(stream);
    let last = seen.last().unwrap().event_id.clone();
    let mut rest: Vec<JobEvent> = Vec::new();
    let catch_up = async {
        let mut stream = jobs
            .watch_job(watch_request(last))
            .await
            .unwrap()
            .into_inner();
        while let Some(message) = stream.next().await {
            rest.push(message.unwrap().event.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(240), catch_up)
        .await
        .expect("the job ends and the stream with it");
    assert!(matches!(rest[0].event, Some(Event::Snapshot(_))));
    let logged: Vec<&JobEvent> = seen[1..]
        .iter()
        .chain(&rest[1..])
        .filter(|e| !matches!(e.event, Some(Event::Heartbeat(_))))
        .collect();
    let positions: Vec<(u64, u64)> = logged.iter().map(|e| position(e)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "every event once, in order: {positions:?}"
    );
    assert!(
        matches!(
            logged.last().unwrap().event,
            Some(Event::StatusChange(ref change)) if change.to_status() == JobStatus::Succeeded
        ),
        "the stream ends with SUCCEEDED: {:?}",
        logged.last()
    );
    let done = jobs
        .get_job(with_bearer(
            GetJobRequest {
                job_id: job.id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(
        done.status(),
        JobStatus::Succeeded,
        "{}",
        done.error_message
    );
    assert_eq!(done.chain_results.len(), 2);

    stack.stop().await;
}
