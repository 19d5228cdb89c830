//! Two real `gts-worker` processes rendering for one stack: `kill -9` the one rendering a
//! job, and the other completes it after the lease expires, with exactly one set of
//! artifacts; a watcher that reconnects with its last event id sees every event once, in
//! order. The stack's own worker only serves the API (`GTS_WORKER_RUN_JOBS=false`).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use gts_e2e::{
    Stack,
    binaries::{RunningBinary, command, free_local_addr},
    shootouts::{
        STANDARD_WAVENET, asset, cabinet, chain, create_shootout, events_to_end,
        events_until_rendering, fixture, jobs, library, nam, one_di_shootout, plucked_wav,
        resumed_log, submit_job, upload, watch_job,
    },
    stack::with_bearer,
};
use gts_proto::v1::{AssetKind, JobStatus, ListArtifactsRequest, job_event::Event};

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
    let standard = || nam(library(STANDARD_WAVENET.0, STANDARD_WAVENET.1));
    let chains = vec![
        chain("A", vec![standard(), cabinet(asset(&ir))]),
        chain("B", vec![standard()]),
    ];
    let shootout = create_shootout(
        &stack,
        &token,
        one_di_shootout("Crash test", &di, "", chains),
    )
    .await;

    let mut workers = vec![
        ("worker-a", worker_process(&stack, "worker-a").await),
        ("worker-b", worker_process(&stack, "worker-b").await),
    ];
    let job = submit_job(&stack, &token, &shootout.id, "crash").await;

    // Watch until the first attempt is rendering a chain.
    let mut stream = watch_job(&stack, &token, &job.id, "").await;
    let seen = events_until_rendering(&mut stream).await;
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
    let mut stream = watch_job(&stack, &token, &job.id, &last_id).await;
    let rest = tokio::time::timeout(Duration::from_secs(240), events_to_end(&mut stream))
        .await
        .expect("the job completes on the surviving worker");
    let logged = resumed_log(&seen, &rest);
    let changes: Vec<(JobStatus, u32)> = logged
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::StatusChange(c)) => Some((c.to_status(), c.attempt)),
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
    let artifacts = jobs(&stack)
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
    let store = stack.blob_store();
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
