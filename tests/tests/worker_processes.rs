//! Two real `gts-worker` processes rendering for one stack: `kill -9` the one rendering a
//! job, and the other completes it after the lease expires, with exactly one set of
//! artifacts; a watcher that reconnects with its last event id sees every event once, in
//! order. The stack's own worker only serves the API (`GTS_WORKER_RUN_JOBS=false`).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use gts_e2e::{
    Stack,
    binaries::{RunningBinary, command, free_local_addr},
    clients,
    shootouts::{asset, cabinet, chain, fixture, library, nam, plucked_wav, upload},
    stack::with_bearer,
};
use gts_proto::v1::{
    AssetKind, CreateShootoutRequest, DiTrackRef, JobEvent, JobStatus, ListArtifactsRequest,
    RenderStage, Shootout, SubmitJobRequest, WatchJobRequest, job_event::Event,
    job_service_client::JobServiceClient, shootout_service_client::ShootoutServiceClient,
};

/// A worker process for `stack`, named `host` (its leases carry the name).
async fn worker_process(stack: &Stack, host: &str) -> RunningBinary {
    let scratch = stack.storage.path().join(format!("scratch-{host}"));
    let mut worker = command("gts-worker");
    worker.envs(stack.backend_env.iter().cloned()).envs([
        ("GTS_WORKER_LISTEN", free_local_addr().to_string()),
        ("GTS_WORKER_SCRATCH_DIR", scratch.display().to_string()),
        ("GTS_WORKER_LEASE_MS", "2000".to_owned()),
        ("GTS_WORKER_HEARTBEAT_MS", "500".to_owned()),
        ("GTS_WORKER_POLL_MS", "200".to_owned()),
        ("GTS_WORKER_RUN_JOBS", "true".to_owned()),
        ("GTS_LOG", "info".to_owned()),
        ("HOSTNAME", host.to_owned()),
    ]);
    RunningBinary::start(worker).await
}

fn event_of(message: &JobEvent) -> &Event {
    message.event.as_ref().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_job_completes_on_the_other_with_one_set_of_artifacts() {
    let stack = Stack::start_with(&[("GTS_WORKER_RUN_JOBS", "false".to_owned())]).await;
    let token = stack.login().await.access_token().to_owned();
    let di = upload(
        &stack,
        &token,
        AssetKind::DiTrack,
        "long.wav",
        &plucked_wav(20.0, 48_000),
    )
    .await;
    let ir = upload(
        &stack,
        &token,
        AssetKind::ImpulseResponse,
        "cab.wav",
        &fixture("irs/1x12-ac15.wav"),
    )
    .await;
    let standard = || nam(library(51949, 293886));
    let shootout = ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .create_shootout(with_bearer(
            CreateShootoutRequest {
                shootout: Some(Shootout {
                    name: "Crash test".into(),
                    di_tracks: vec![DiTrackRef {
                        asset_id: di.id.clone(),
                        label: String::new(),
                    }],
                    chains: vec![
                        chain("A", vec![standard(), cabinet(asset(&ir))]),
                        chain("B", vec![standard()]),
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

    let mut workers = vec![
        ("worker-a", worker_process(&stack, "worker-a").await),
        ("worker-b", worker_process(&stack, "worker-b").await),
    ];
    let mut jobs = JobServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin());
    let job = jobs
        .submit_job(with_bearer(
            SubmitJobRequest {
                shootout_id: shootout.id.clone(),
                idempotency_key: "crash".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let watch = |after: String| {
        let mut jobs = jobs.clone();
        let (job_id, token) = (job.id.clone(), token.clone());
        async move {
            jobs.watch_job(with_bearer(
                WatchJobRequest {
                    job_id,
                    after_event_id: after,
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
        }
    };

    // Watch until the first attempt is rendering a chain.
    let mut stream = watch(String::new()).await;
    let mut seen: Vec<JobEvent> = Vec::new();
    while let Some(message) = stream.next().await {
        let event = message.unwrap().event.unwrap();
        let rendering = matches!(event_of(&event),
            Event::Progress(p) if p.stage() == RenderStage::RenderingChain);
        seen.push(event);
        if rendering {
            break;
        }
    }
    drop(stream);

    // kill -9 whoever holds the lease.
    let pool = stack.db_pool().await;
    let owner: String =
        sqlx::query_scalar("SELECT lease_owner FROM worker.jobs WHERE id = $1::uuid")
            .bind(&job.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    let victim = workers
        .iter()
        .position(|(host, _)| owner.starts_with(&format!("{host}-")))
        .unwrap_or_else(|| panic!("lease owner {owner} is none of the workers"));
    let (victim_host, mut victim) = workers.remove(victim);
    victim.child.start_kill().unwrap();
    victim.child.wait().await.unwrap();
    let (survivor_host, survivor) = workers.pop().unwrap();
    let _survivor = survivor.drain_log();

    // Reconnect from the last event seen: the rest arrives once, in order, to the end.
    let last_id = seen.last().unwrap().event_id.clone();
    let mut stream = watch(last_id).await;
    let mut rest: Vec<JobEvent> = Vec::new();
    let finish = async {
        while let Some(message) = stream.next().await {
            rest.push(message.unwrap().event.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(240), finish)
        .await
        .expect("the job completes on the surviving worker");
    assert!(matches!(event_of(&rest[0]), Event::Snapshot(_)));
    let logged: Vec<&JobEvent> = seen[1..]
        .iter()
        .chain(&rest[1..])
        .filter(|e| !matches!(event_of(e), Event::Heartbeat(_)))
        .collect();
    let ids: Vec<(u64, u64)> = logged
        .iter()
        .map(|e| {
            let (ms, seq) = e.event_id.split_once('-').unwrap();
            (ms.parse().unwrap(), seq.parse().unwrap())
        })
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "every event once, in order: {ids:?}"
    );
    let changes: Vec<(JobStatus, u32)> = logged
        .iter()
        .filter_map(|e| match event_of(e) {
            Event::StatusChange(c) => Some((c.to_status(), c.attempt)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes.last(),
        Some(&(JobStatus::Succeeded, 2)),
        "{victim_host} was killed, {survivor_host} finished: {changes:?}"
    );
    assert!(changes.contains(&(JobStatus::Running, 2)), "{changes:?}");

    // Exactly one set of artifacts: the rows and the stored files agree, no duplicates.
    let artifacts = jobs
        .list_artifacts(with_bearer(
            ListArtifactsRequest {
                job_id: job.id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .artifacts;
    let mut names: Vec<String> = artifacts.iter().map(|a| a.filename.clone()).collect();
    names.sort();
    let store = gts_storage::BlobStore::open(&gts_storage::StorageSettings::Local {
        root: stack.storage.path().join("blobs"),
    })
    .unwrap();
    let stored: Vec<String> = store
        .list(&format!("jobs/{}/", job.id))
        .await
        .unwrap()
        .into_iter()
        .map(|key| key.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        stored, names,
        "stored files are exactly the listed artifacts"
    );
    // 2 chains x (FLAC, WAV) + A/B, cues, spectrum, levels, manifest, metrics.
    assert_eq!(names.len(), 10, "{names:?}");

    stack.stop().await;
}
