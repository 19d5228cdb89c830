//! In-process harness for the worker's tests: the real routes on an ephemeral port, with
//! the test kit's database (dropped with the harness, also on a panic), Redis prefix and
//! identity layer (an `x-test-user` header in place of a verified token), the seams' test
//! doubles, and runners started and killed at will.

#![allow(dead_code, clippy::unwrap_used)]

use std::{net::SocketAddr, sync::Arc, time::Duration};

use gts_common::{
    Env,
    shutdown::{Shutdown, ShutdownTrigger},
};
use gts_proto::v1::{
    JobEvent, RenderSpec, SubmitJobRequest, WatchJobRequest, job_event,
    job_service_client::JobServiceClient,
};
use gts_testkit::TestDatabase;
use gts_worker::{
    Config, Seams, Worker,
    render::Renderer,
    testing::{MemoryArtifactStore, StaticSpecSource},
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Streaming, transport::Channel};
use uuid::Uuid;

/// The HMAC key tests sign artifact URLs with.
pub const URL_KEY: &str = "test-artifact-url-key-0123456789abcdef";
/// Generous bound for anything that should happen "soon".
pub const SOON: Duration = Duration::from_secs(10);

/// One worker process: its API on a port, and the means to start runners.
pub struct Replica {
    pub worker: Worker,
    pub channel: Channel,
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

/// A test's world: a database, a Redis prefix, the doubles and one or more replicas.
pub struct Harness {
    pub config: Config,
    pub specs: Arc<StaticSpecSource>,
    pub store: Arc<MemoryArtifactStore>,
    pub replica: Replica,
    database: TestDatabase,
}

/// A runner task that can be stopped gracefully or killed.
pub struct RunnerHandle {
    trigger: ShutdownTrigger,
    task: JoinHandle<()>,
}

impl RunnerHandle {
    /// Simulates a crash: the runner's task (and every render and heartbeat in it) is
    /// dropped on the spot, without releasing anything.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Stops it gracefully.
    pub async fn stop(self) {
        self.trigger.trigger();
        self.task.await.unwrap();
    }
}

/// The test settings: short leases, polls and heartbeats so the tests run fast.
fn base_env(database_url: &str, prefix: &str) -> Vec<(String, String)> {
    [
        ("GTS_DATABASE_URL", database_url.to_owned()),
        ("GTS_REDIS_URL", gts_testkit::redis_url()),
        ("GTS_REDIS_PREFIX", prefix.to_owned()),
        ("GTS_STARTUP_TIMEOUT_MS", "10000".to_owned()),
        ("GTS_WORKER_CONCURRENCY", "4".to_owned()),
        ("GTS_WORKER_LEASE_MS", "800".to_owned()),
        ("GTS_WORKER_HEARTBEAT_MS", "150".to_owned()),
        ("GTS_WORKER_POLL_MS", "100".to_owned()),
        ("GTS_WORKER_RETRY_BASE_MS", "100".to_owned()),
        ("GTS_WORKER_RETRY_MAX_MS", "400".to_owned()),
        ("GTS_WORKER_PROGRESS_INTERVAL_MS", "10".to_owned()),
        ("GTS_WORKER_READER_BLOCK_MS", "200".to_owned()),
        ("GTS_ARTIFACT_URL_KEY", URL_KEY.to_owned()),
        ("GTS_ARTIFACT_URL_BASE", "https://gts.test".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Harness {
    /// Starts one replica; `extra` overrides settings.
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let database = TestDatabase::create().await;
        let mut pairs = base_env(database.url(), &gts_testkit::redis_prefix());
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let config = Config::from_env(&Env::from_pairs(pairs)).unwrap();
        let specs = Arc::new(StaticSpecSource::default());
        let store = Arc::new(MemoryArtifactStore::default());
        let replica = start_replica(&config, &specs, &store).await;
        Self {
            config,
            specs,
            store,
            replica,
            database,
        }
    }

    /// Another replica on the same database and Redis prefix (its own event hub).
    pub async fn another_replica(&self) -> Replica {
        start_replica(&self.config, &self.specs, &self.store).await
    }

    /// The database pool (search_path `worker`).
    pub fn db(&self) -> &sqlx::PgPool {
        &self.replica.worker.infra().db
    }

    /// A client of the first replica.
    pub fn client(&self) -> JobServiceClient<Channel> {
        JobServiceClient::new(self.replica.channel.clone())
    }

    /// Starts a runner (a separate lease owner) on the first replica.
    pub fn spawn_runner(&self, renderer: Arc<dyn Renderer>) -> RunnerHandle {
        let runner = self.replica.worker.runner_with(renderer);
        let (trigger, shutdown) = Shutdown::new();
        RunnerHandle {
            trigger,
            task: tokio::spawn(runner.run(shutdown)),
        }
    }

    /// Registers a shootout of `owner` and returns its id.
    pub fn shootout(&self, owner: Uuid) -> Uuid {
        let id = Uuid::new_v4();
        self.specs.insert(id, owner, RenderSpec::default());
        id
    }

    /// Submits a render of `shootout` as `owner`; returns the job id.
    pub async fn submit(&self, owner: Uuid, shootout: Uuid) -> Uuid {
        let job = self
            .client()
            .submit_job(as_user(
                owner,
                SubmitJobRequest {
                    shootout_id: shootout.to_string(),
                    idempotency_key: Uuid::new_v4().to_string(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .job
            .unwrap();
        job.id.parse().unwrap()
    }

    /// Opens a watch stream.
    pub async fn watch(
        &self,
        owner: Uuid,
        job: Uuid,
        after: &str,
    ) -> Streaming<gts_proto::v1::WatchJobResponse> {
        watch_on(&self.replica.channel, owner, job, after).await
    }

    /// Stops the server and drops the database.
    pub async fn finish(self) {
        self.replica.server.abort();
        self.replica.worker.infra().db.close().await;
        self.database.drop_now().await;
    }
}

async fn start_replica(
    config: &Config,
    specs: &Arc<StaticSpecSource>,
    store: &Arc<MemoryArtifactStore>,
) -> Replica {
    let infra = gts_worker::connect(config).await.unwrap();
    let seams = Seams {
        specs: specs.clone(),
        renderer: None,
        artifacts: store.clone(),
    };
    let worker = Worker::new(config.clone(), infra, seams).unwrap();
    let routes = worker.routes();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .layer(gts_testkit::identity::layer())
            .add_routes(routes)
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await;
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Replica {
        worker,
        channel,
        addr,
        server,
    }
}

/// Opens a watch stream on a replica's channel.
pub async fn watch_on(
    channel: &Channel,
    owner: Uuid,
    job: Uuid,
    after: &str,
) -> Streaming<gts_proto::v1::WatchJobResponse> {
    JobServiceClient::new(channel.clone())
        .watch_job(as_user(
            owner,
            WatchJobRequest {
                job_id: job.to_string(),
                after_event_id: after.to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

/// What the real auth layer does after verifying a token, keyed by a test header.
pub use gts_testkit::identity::as_user;

/// The next event of a stream (panics on error, end, or after [`SOON`]).
pub async fn next_event(stream: &mut Streaming<gts_proto::v1::WatchJobResponse>) -> JobEvent {
    tokio::time::timeout(SOON, stream.message())
        .await
        .expect("a watch event within the timeout")
        .expect("a healthy stream")
        .expect("the stream has not ended")
        .event
        .unwrap()
}

/// Reads events (skipping heartbeats) until the stream ends; panics after [`SOON`].
pub async fn collect_until_end(
    stream: &mut Streaming<gts_proto::v1::WatchJobResponse>,
) -> Vec<JobEvent> {
    let mut events = Vec::new();
    let read = async {
        while let Some(message) = stream.message().await.unwrap() {
            let event = message.event.unwrap();
            if !matches!(event.event, Some(job_event::Event::Heartbeat(_))) {
                events.push(event);
            }
        }
    };
    tokio::time::timeout(SOON, read)
        .await
        .expect("the stream ends within the timeout");
    events
}

/// A status change's (from, to) as enum values, if `event` is one.
pub fn transition(event: &JobEvent) -> Option<(i32, i32)> {
    match &event.event {
        Some(job_event::Event::StatusChange(change)) => {
            Some((change.from_status, change.to_status))
        }
        _ => None,
    }
}
