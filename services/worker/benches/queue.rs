//! Worker benchmark (not a test): `cargo bench -p gts-worker --bench queue`.
//!
//! Prints queue throughput with a no-op render (jobs/s, two runners), event latency from
//! the worker appending an event to a watcher receiving it (p50/p99, with many watchers on
//! one replica), and the resident memory of the server while it holds many watch streams
//! (the clients run in a child process, this same binary with `--watch-clients`, so the
//! figure is the server's alone).
//! Needs the local PostgreSQL and Redis (same settings as the tests).

#![allow(clippy::unwrap_used)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use gts_common::{
    Env,
    identity::{Caller, UserIdentity},
    shutdown::Shutdown,
};
use gts_proto::v1::{
    JobProgress, RenderSpec, WatchJobRequest, job_event, job_service_client::JobServiceClient,
};
use gts_worker::{
    Config, Seams, Worker,
    artifact_store::JobArtifacts,
    render::{ProgressSink, RenderFailure, RenderOutput, RenderRequest, Renderer},
    testing::{MemoryArtifactStore, StaticSpecSource},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const THROUGHPUT_JOBS: usize = 3_000;
const LATENCY_WATCHERS: usize = 1_000;
const LATENCY_EVENTS: usize = 200;
const MEMORY_WATCHERS: usize = 10_000;
const STREAMS_PER_CHANNEL: usize = 100;

struct Noop;

#[tonic::async_trait]
impl Renderer for Noop {
    async fn render(
        &self,
        _: RenderRequest,
        _: ProgressSink,
        _: CancellationToken,
        _: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        Ok(RenderOutput::default())
    }
}

/// Reports progress on demand: each tick of `ticks` becomes one progress event.
struct Ticking {
    ticks: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<u32>>,
}

#[tonic::async_trait]
impl Renderer for Ticking {
    async fn render(
        &self,
        _: RenderRequest,
        progress: ProgressSink,
        cancel: CancellationToken,
        _: JobArtifacts,
    ) -> Result<RenderOutput, RenderFailure> {
        let mut ticks = self.ticks.lock().await;
        loop {
            tokio::select! {
                tick = ticks.recv() => match tick {
                    Some(n) => progress.report(JobProgress { chain_count: n, ..Default::default() }),
                    None => return Ok(RenderOutput::default()),
                },
                () = cancel.cancelled() => return Err(RenderFailure::Cancelled),
            }
        }
    }
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

fn with_user(
    user: Uuid,
    mut request: http::Request<tonic::body::Body>,
) -> http::Request<tonic::body::Body> {
    request.extensions_mut().insert(Caller::User(UserIdentity {
        user_id: user,
        session_id: Uuid::nil(),
    }));
    request
}

/// Child-process mode: holds `count` watch streams of `job` on the server at `addr` (100
/// per connection), prints `ready` once each has its snapshot, and exits when stdin closes.
async fn hold_watchers(addr: &str, job: &str, count: usize) {
    use tokio::io::AsyncReadExt;
    let mut streams = Vec::with_capacity(count);
    let mut channel = None;
    for index in 0..count {
        if index % STREAMS_PER_CHANNEL == 0 {
            channel = Some(
                tonic::transport::Channel::from_shared(format!("http://{addr}"))
                    .unwrap()
                    .connect()
                    .await
                    .unwrap(),
            );
        }
        let mut stream = JobServiceClient::new(channel.clone().unwrap())
            .watch_job(WatchJobRequest {
                job_id: job.to_owned(),
                after_event_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        stream.message().await.unwrap();
        // Keep reading (heartbeats), as a real client does: an unread stream would fill
        // its connection's flow-control window and stall the streams opened after it.
        streams.push(tokio::spawn(async move {
            while let Ok(Some(_)) = stream.message().await {}
        }));
    }
    println!("ready");
    let mut rest = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut rest).await;
    for stream in streams {
        stream.abort();
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, addr, job, count] = args.as_slice()
        && mode == "--watch-clients"
    {
        hold_watchers(addr, job, count.parse().unwrap()).await;
        return;
    }
    let database = gts_testkit::TestDatabase::create().await;
    let redis = gts_testkit::redis_url();
    let prefix = gts_testkit::redis_prefix();
    let config = Config::from_env(&Env::from_pairs([
        ("GTS_DATABASE_URL", database.url().to_owned()),
        ("GTS_REDIS_URL", redis),
        ("GTS_REDIS_PREFIX", prefix),
        ("GTS_DATABASE_MAX_CONNECTIONS", "40".to_owned()),
        ("GTS_WORKER_CONCURRENCY", "16".to_owned()),
        ("GTS_WORKER_USER_RUNNING_LIMIT", "1000000".to_owned()),
        ("GTS_WORKER_PROGRESS_INTERVAL_MS", "1".to_owned()),
        ("GTS_WORKER_WATCH_BUFFER", "4096".to_owned()),
    ]))
    .unwrap();
    let infra = gts_worker::connect(&config).await.unwrap();
    let seams = Seams {
        specs: Arc::new(StaticSpecSource::default()),
        renderer: None,
        artifacts: Arc::new(MemoryArtifactStore::default()),
    };
    let worker = Worker::new(config.clone(), infra.clone(), seams).unwrap();
    let db = infra.db.clone();

    // 1. Queue throughput: jobs of many users inserted up front, two runners drain them.
    sqlx::query(
        "INSERT INTO jobs (id, owner_id, shootout_id, idempotency_key, spec) \
         SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'k', ''::bytea \
         FROM generate_series(1, $1)",
    )
    .bind(THROUGHPUT_JOBS as i64)
    .execute(&db)
    .await
    .unwrap();
    let (trigger, shutdown) = Shutdown::new();
    let started = Instant::now();
    let runners: Vec<_> = (0..2)
        .map(|_| tokio::spawn(worker.runner_with(Arc::new(Noop)).run(shutdown.clone())))
        .collect();
    loop {
        let (done,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM jobs WHERE status = 'succeeded'")
                .fetch_one(&db)
                .await
                .unwrap();
        if done as usize >= THROUGHPUT_JOBS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    trigger.trigger();
    for runner in runners {
        runner.await.unwrap();
    }
    println!(
        "queue throughput (no-op render, 2 runners x 16): {THROUGHPUT_JOBS} jobs in {:.2} s = {:.0} jobs/s",
        elapsed.as_secs_f64(),
        THROUGHPUT_JOBS as f64 / elapsed.as_secs_f64()
    );

    // The API on a port, behind a fixed identity.
    let user = Uuid::new_v4();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = worker.routes();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(tower::util::MapRequestLayer::new(move |r| {
                with_user(user, r)
            }))
            .add_routes(routes)
            .serve_with_incoming(gts_common::server::incoming(listener))
            .await
            .unwrap();
    });
    let channels = {
        let mut channels = Vec::new();
        for _ in 0..MEMORY_WATCHERS.div_ceil(STREAMS_PER_CHANNEL) {
            channels.push(
                tonic::transport::Channel::from_shared(format!("http://{addr}"))
                    .unwrap()
                    .connect()
                    .await
                    .unwrap(),
            );
        }
        channels
    };
    let job_of = |db: sqlx::PgPool| async move {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO jobs (id, owner_id, shootout_id, idempotency_key, spec) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(user)
            .bind(Uuid::new_v4())
            .bind(id.to_string())
            .bind(prost::Message::encode_to_vec(&RenderSpec::default()))
            .execute(&db)
            .await
            .unwrap();
        id
    };

    // 2. Latency: one running job, many watchers, progress events one at a time.
    let job = job_of(db.clone()).await;
    let (tick_sender, ticks) = tokio::sync::mpsc::channel(16);
    let (trigger, shutdown) = Shutdown::new();
    let runner = tokio::spawn(
        worker
            .runner_with(Arc::new(Ticking {
                ticks: tokio::sync::Mutex::new(ticks),
            }))
            .run(shutdown),
    );
    let (latency_sender, mut latencies) = tokio::sync::mpsc::unbounded_channel::<f64>();
    for index in 0..LATENCY_WATCHERS {
        let channel = channels[index / STREAMS_PER_CHANNEL].clone();
        let latency_sender = latency_sender.clone();
        let mut stream = JobServiceClient::new(channel)
            .watch_job(WatchJobRequest {
                job_id: job.to_string(),
                after_event_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        tokio::spawn(async move {
            while let Ok(Some(message)) = stream.message().await {
                let Some(event) = message.event else { continue };
                if let (Some(job_event::Event::Progress(_)), Some(at)) =
                    (&event.event, event.emitted_at)
                {
                    let sent = at.seconds as f64 + f64::from(at.nanos) / 1e9;
                    let now = chrono::Utc::now();
                    let received =
                        now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) / 1e9;
                    let _ = latency_sender.send((received - sent) * 1000.0);
                }
            }
        });
    }
    drop(latency_sender);
    let mut samples = Vec::new();
    for tick in 0..LATENCY_EVENTS {
        tick_sender.send(tick as u32 + 1).await.unwrap();
        // One event at a time: wait until every watcher got it.
        for _ in 0..LATENCY_WATCHERS {
            match tokio::time::timeout(Duration::from_secs(10), latencies.recv()).await {
                Ok(Some(ms)) => samples.push(ms),
                _ => break,
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "event latency worker -> watcher ({LATENCY_WATCHERS} watchers, {} samples): p50 {:.2} ms, p99 {:.2} ms",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
    drop(tick_sender);
    trigger.trigger();
    runner.await.unwrap();

    // 3. Memory: many idle watchers of one queued job, held by a child process.
    drop(channels);
    let idle_job = job_of(db.clone()).await;
    let before = rss_mib();
    let mut clients = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--watch-clients",
            &addr.to_string(),
            &idle_job.to_string(),
            &MEMORY_WATCHERS.to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
        clients.stdout.take().unwrap(),
    ));
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"));
    let after = rss_mib();
    println!(
        "{MEMORY_WATCHERS} concurrent watchers (clients in another process): server RSS {after:.0} MiB, {:.0} MiB more than before them ({:.1} KiB per watcher), {} Redis reader(s)",
        after - before,
        (after - before) * 1024.0 / MEMORY_WATCHERS as f64,
        worker.hub().active_readers()
    );
    drop(clients.stdin.take());
    clients.wait().await.unwrap();
    infra.db.close().await;
    database.drop_now().await;
}
