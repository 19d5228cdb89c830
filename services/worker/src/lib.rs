//! The worker service: jobs and their durable queue, rendering, live progress streams and
//! artifacts.
//!
//! Hosts the public `JobService` and the shared `OpsInternal`, and runs the [`runner`]
//! that claims and renders jobs. Design notes: `docs/worker.md`.
//!
//! Seams ([`Seams`]): where render specs come from ([`spec_source::RenderSpecSource`], real:
//! `ShootoutInternal.GetRenderSpec`), how a job is rendered ([`render::Renderer`], real:
//! [`engine::EngineRenderer`] over gts-render), and where artifacts are stored
//! ([`artifact_store::ArtifactStore`], real: the gts-storage object store). [`testing`] has
//! doubles of all three.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod api;
pub mod artifact_store;
mod config;
mod convert;
pub mod engine;
mod error;
pub mod events;
pub mod observe;
pub mod queue;
pub mod render;
pub mod runner;
pub mod spec_source;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use api::JobApi;
pub use config::{ArtifactSettings, Config, EventSettings, QueueSettings, RenderSettings};
pub use error::WorkerError;

use std::sync::Arc;

use gts_common::{infra::Infra, infra::StartError, ops::Ops, server, shutdown::Shutdown};
use gts_proto::v1::job_service_server::JobServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

use crate::{
    artifact_store::ArtifactStore,
    engine::{
        EngineRenderer,
        inputs::{InputFetcher, Tone3000Settings},
        model_cache::ModelCache,
    },
    events::{EventHub, EventLog, watch::Watcher},
    render::Renderer,
    runner::{Runner, RunnerDeps},
    spec_source::{GrpcRenderSpecSource, RenderSpecSource},
};

/// The gRPC services this process hosts.
pub const SERVICE_NAMES: &[&str] = &["gts.v1.JobService", "gts.v1.OpsInternal"];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/worker");

/// The pluggable parts of the worker.
#[derive(Clone)]
pub struct Seams {
    /// Where SubmitJob snapshots render specs from.
    pub specs: Arc<dyn RenderSpecSource>,
    /// How jobs are rendered; `None` runs no runner (jobs wait for a process that has one).
    pub renderer: Option<Arc<dyn Renderer>>,
    /// Where artifacts go.
    pub artifacts: Arc<dyn ArtifactStore>,
}

impl Seams {
    /// The production seams: specs from the shootout service, the render engine with
    /// inputs from the object store and TONE3000, artifacts in the object store.
    pub fn production(config: &Config, infra: &Infra) -> Result<Self, StartError> {
        let credential = config.auth.service_credential("gts-worker");
        let specs = GrpcRenderSpecSource::new(&config.shootout_url, credential.clone())
            .map_err(StartError::Other)?;
        let blobs = gts_storage::BlobStore::open(&config.storage)
            .map_err(|error| StartError::Other(format!("object store: {error}")))?;
        let tokens = gts_common::tone3000_token::AuthServiceTokenSource::new(
            &config.auth.auth_url,
            credential,
        )
        .map_err(StartError::Other)?;
        let render = &config.render;
        let inputs = InputFetcher {
            blobs: blobs.clone(),
            cache: ModelCache::new(
                infra.db.clone(),
                blobs.clone(),
                render.model_cache_max_bytes,
            ),
            tokens: Arc::new(tokens),
            tone3000: Tone3000Settings {
                base_url: render.tone3000_url.clone(),
                client_id: render.tone3000_client_id.clone(),
                max_download_bytes: render.max_download_bytes,
            },
        };
        let renderer = EngineRenderer::new(inputs, render.scratch_dir.clone(), render.threads);
        Ok(Self {
            specs: Arc::new(specs),
            renderer: Some(Arc::new(renderer)),
            artifacts: Arc::new(blobs),
        })
    }
}

/// A connected worker: its API handlers, event hub and the means to start runners.
#[derive(Clone)]
pub struct Worker {
    config: Config,
    infra: Infra,
    seams: Seams,
    hub: Arc<EventHub>,
    log: EventLog,
}

/// Connects to PostgreSQL (applying the `worker` migrations) and Redis.
pub async fn connect(config: &Config) -> Result<Infra, StartError> {
    Infra::connect(&config.service, "worker", &MIGRATOR).await
}

impl Worker {
    /// Assembles the worker over connected infrastructure.
    pub fn new(config: Config, infra: Infra, seams: Seams) -> Result<Self, StartError> {
        let client = redis::Client::open(config.service.redis_url.as_str())?;
        let log = EventLog::new(
            infra.redis.conn.clone(),
            infra.redis.prefix(),
            config.events.log_max_len,
            config.events.log_ttl,
        );
        let hub = EventHub::new(
            client,
            log.clone(),
            config.events.reader_block,
            config.events.watch_buffer,
        );
        Ok(Self {
            config,
            infra,
            seams,
            hub,
            log,
        })
    }

    /// The `JobService` handlers.
    pub fn api(&self) -> JobApi {
        JobApi::new(
            self.infra.db.clone(),
            Watcher {
                db: self.infra.db.clone(),
                hub: Arc::clone(&self.hub),
                heartbeat: self.config.events.watch_heartbeat,
            },
            Arc::clone(&self.seams.specs),
            self.config.artifacts.clone(),
            self.config.queue.max_attempts,
        )
    }

    /// The service's gRPC routes (without the identity layer, which the server adds).
    pub fn routes(&self) -> Routes {
        Routes::new(JobServiceServer::new(self.api())).add_service(Ops::server("gts-worker"))
    }

    /// This replica's event hub (reader counts for tests and metrics).
    pub fn hub(&self) -> &Arc<EventHub> {
        &self.hub
    }

    /// A new runner (a distinct lease owner) with `renderer`.
    pub fn runner_with(&self, renderer: Arc<dyn Renderer>) -> Runner {
        Runner::new(RunnerDeps {
            db: self.infra.db.clone(),
            log: self.log.clone(),
            renderer: observe::ObservedRenderer::wrap(self.infra.db.clone(), renderer),
            artifacts: Arc::clone(&self.seams.artifacts),
            settings: self.config.queue.clone(),
        })
    }

    /// A new runner with the configured renderer, if there is one and this process runs
    /// jobs (`GTS_WORKER_RUN_JOBS`).
    pub fn runner(&self) -> Option<Runner> {
        if !self.config.queue.run_jobs {
            return None;
        }
        self.seams
            .renderer
            .as_ref()
            .map(|renderer| self.runner_with(Arc::clone(renderer)))
    }

    /// The infrastructure (database pool and Redis).
    pub fn infra(&self) -> &Infra {
        &self.infra
    }
}

/// Binds the configured address and serves until `shutdown` fires.
pub async fn run(config: Config, shutdown: Shutdown) -> Result<(), StartError> {
    let listener = server::bind(config.service.listen).await?;
    serve(config, listener, shutdown).await
}

/// Serves on an already bound listener (tests bind port 0), with the production seams.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let infra = connect(&config).await?;
    let seams = Seams::production(&config, &infra)?;
    serve_connected(config, infra, seams, listener, shutdown).await
}

/// Serves with explicit seams, running the runner (if there is a renderer) alongside.
pub async fn serve_with(
    config: Config,
    seams: Seams,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let infra = connect(&config).await?;
    serve_connected(config, infra, seams, listener, shutdown).await
}

async fn serve_connected(
    config: Config,
    infra: Infra,
    seams: Seams,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let options = infra.server_options(&config.service, "gts-worker", SERVICE_NAMES);
    // Verifies access JWTs and service credentials before any handler (defence in depth).
    let auth = config
        .auth
        .authenticator("gts-worker")
        .await
        .map_err(StartError::Other)?;
    let auth = config.auth.revoking(auth, &infra.redis, &shutdown).await;
    let worker = Worker::new(config, infra, seams)?;
    let runner = worker
        .runner()
        .map(|runner| tokio::spawn(runner.run(shutdown.clone())));
    if runner.is_none() {
        tracing::warn!("this process serves the API but renders nothing (GTS_WORKER_RUN_JOBS)");
    }
    let depth = tokio::spawn(observe::queue_depth_task(
        worker.infra().db.clone(),
        std::time::Duration::from_secs(5),
        shutdown.clone().wait(),
    ));
    let auth = gts_common::auth::AuthLayer::new(auth);
    let served = server::serve_with_auth(worker.routes(), listener, options, auth, shutdown).await;
    if let Some(runner) = runner {
        let _ = runner.await;
    }
    let _ = depth.await;
    served?;
    Ok(())
}
