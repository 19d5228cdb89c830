//! Two real `gts-worker` processes rendering for one stack, with the default lease: `kill
//! -9` the one rendering a job after its first chain finished, and the other runs the job
//! again within 10 s of the kill, reuses the finished chain instead of rendering it again,
//! and completes with exactly one set of artifacts, equal to a clean render's; a watcher
//! that reconnects with its last event id sees every event once, in order. The stack's own
//! worker only serves the API (`GTS_WORKER_RUN_JOBS=false`).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tokio_stream::StreamExt;

use gts_e2e::{
    Stack,
    binaries::{RunningBinary, command, free_local_addr},
    shootouts::{
        STANDARD_WAVENET, asset, cabinet, chain, create_shootout, events_to_end, fixture, jobs,
        library, nam, one_di_shootout, plucked_wav, resumed_log, submit_job, upload, watch_job,
    },
    stack::with_bearer,
};
use gts_proto::v1::{
    Artifact, AssetKind, JobEvent, JobStatus, ListArtifactsRequest, RenderStage, WatchJobResponse,
    job_event::Event,
};

/// What the default lease promises: a killed worker's job is running again this soon.
const RECLAIM_AIM: Duration = Duration::from_secs(10);

/// A worker process for `stack`, named `host` (its leases carry the name), with the
/// default lease, heartbeat and poll, rendering one job at a time, one chain at a time (so
/// chains finish in order).
async fn worker_process(stack: &Stack, host: &str) -> RunningBinary {
    let scratch = stack.storage.path().join(format!("scratch-{host}"));
    let mut worker = command("gts-worker");
    worker.envs(stack.backend_env.iter().cloned()).envs([
        ("GTS_WORKER_LISTEN", free_local_addr().to_string()),
        ("GTS_WORKER_SCRATCH_DIR", scratch.display().to_string()),
        ("GTS_WORKER_CONCURRENCY", "1".to_owned()),
        ("GTS_WORKER_RENDER_THREADS", "1".to_owned()),
        ("GTS_WORKER_RUN_JOBS", "true".to_owned()),
        ("GTS_LOG", "info".to_owned()),
        ("HOSTNAME", host.to_owned()),
    ]);
    worker.env_remove("GTS_WORKER_LEASE_MS");
    worker.env_remove("GTS_WORKER_HEARTBEAT_MS");
    worker.env_remove("GTS_WORKER_POLL_MS");
    RunningBinary::start(worker).await
}

fn log_line(event: &JobEvent) -> Option<&str> {
    match &event.event {
        Some(Event::Log(line)) => Some(line.message.as_str()),
        _ => None,
    }
}

/// Events until (and with) the log line `line`.
async fn events_until_line(
    stream: &mut tonic::Streaming<WatchJobResponse>,
    line: &str,
) -> Vec<JobEvent> {
    let mut seen = Vec::new();
    while let Some(message) = stream.next().await {
        let event = message.expect("a watch event").event.expect("an event");
        let found = log_line(&event) == Some(line);
        seen.push(event);
        if found {
            return seen;
        }
    }
    panic!("the stream ended before {line:?}: {seen:?}");
}

/// Every event to the end, with when the status change to running in `attempt` arrived.
async fn events_to_end_noting_attempt(
    stream: &mut tonic::Streaming<WatchJobResponse>,
    attempt: u32,
) -> (Vec<JobEvent>, Option<Instant>) {
    let mut events = Vec::new();
    let mut running_at = None;
    while let Some(message) = stream.next().await {
        let event = message.expect("a watch event").event.expect("an event");
        if matches!(&event.event, Some(Event::StatusChange(c))
            if c.to_status() == JobStatus::Running && c.attempt == attempt)
        {
            running_at.get_or_insert_with(Instant::now);
        }
        events.push(event);
    }
    (events, running_at)
}

async fn artifacts_of(stack: &Stack, token: &str, job_id: &str) -> Vec<Artifact> {
    let mut artifacts = jobs(stack)
        .list_artifacts(with_bearer(
            ListArtifactsRequest {
                job_id: job_id.to_owned(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .artifacts;
    artifacts.sort_by(|a, b| a.filename.cmp(&b.filename));
    artifacts
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

    // Watch until the first attempt has finished (and kept) its first chain.
    let mut stream = watch_job(&stack, &token, &job.id, "").await;
    let seen = events_until_line(
        &mut stream,
        "Chain 1 finished and kept; a later attempt resumes after it.",
    )
    .await;
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
    let killed_at = Instant::now();
    let (survivor_host, survivor) = workers.pop().unwrap();
    let _survivor = survivor.drain_log();

    // Reconnect from the last event seen: the rest arrives once, in order, to the end.
    let last_id = seen.last().unwrap().event_id.clone();
    let mut stream = watch_job(&stack, &token, &job.id, &last_id).await;
    let (rest, running_again_at) = tokio::time::timeout(
        Duration::from_secs(240),
        events_to_end_noting_attempt(&mut stream, 2),
    )
    .await
    .expect("the job completes on the surviving worker");
    let running_again_at = running_again_at.expect("a second attempt ran");
    let reclaim = running_again_at.duration_since(killed_at);
    assert!(
        reclaim < RECLAIM_AIM,
        "the job ran again {reclaim:?} after the kill (aim: < {RECLAIM_AIM:?})"
    );
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

    // The second attempt reused chain 1 and rendered only chain 2.
    let second_attempt: Vec<&JobEvent> = logged
        .iter()
        .skip_while(|e| {
            !matches!(&e.event, Some(Event::StatusChange(c))
                if c.to_status() == JobStatus::Running && c.attempt == 2)
        })
        .collect();
    let lines: Vec<&str> = second_attempt.iter().filter_map(|e| log_line(e)).collect();
    assert!(
        lines.contains(&"Chain 1 reused from an earlier attempt."),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Chain 2 finished and kept; a later attempt resumes after it."),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("Chain 1 finished")),
        "chain 1 was rendered again: {lines:?}"
    );
    assert!(
        !second_attempt
            .iter()
            .any(|e| matches!(&e.event, Some(Event::Progress(p))
            if p.stage() == RenderStage::RenderingChain && p.chain_index == Some(0))),
        "the second attempt reported rendering chain 1"
    );

    // Exactly one set of artifacts: the rows and the stored files agree, no duplicates.
    let artifacts = artifacts_of(&stack, &token, &job.id).await;
    let names: Vec<String> = artifacts.iter().map(|a| a.filename.clone()).collect();
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
    // 2 chains x (FLAC, WAV) + A/B, cues, chapters, DI waveform, spectrum (PNG and
    // JSON), levels, manifest, metrics.
    assert_eq!(names.len(), 13, "{names:?}");
    assert!(
        store
            .list(&format!("resume/{}/", job.id))
            .await
            .unwrap()
            .is_empty(),
        "the kept chains are removed once the job succeeded"
    );

    // A clean render of the same shootout writes the same files, byte for byte.
    let clean = submit_job(&stack, &token, &shootout.id, "clean").await;
    let mut stream = watch_job(&stack, &token, &clean.id, "").await;
    let clean_events = tokio::time::timeout(Duration::from_secs(240), events_to_end(&mut stream))
        .await
        .expect("the clean render completes");
    assert!(
        clean_events
            .iter()
            .any(|e| matches!(&e.event, Some(Event::StatusChange(c))
            if c.to_status() == JobStatus::Succeeded && c.attempt == 1)),
        "{clean_events:?}"
    );
    let digests = |list: &[Artifact]| -> Vec<(String, String)> {
        list.iter()
            .map(|a| (a.filename.clone(), a.sha256.clone()))
            .collect()
    };
    assert_eq!(
        digests(&artifacts),
        digests(&artifacts_of(&stack, &token, &clean.id).await),
        "the resumed render's artifacts equal a clean render's"
    );

    stack.stop().await;
}
