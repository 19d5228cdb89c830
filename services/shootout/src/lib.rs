//! The shootout service: shootouts and their signal chains, uploads and user assets, and
//! the TONE3000 library proxy.
//!
//! Hosts the public `ShootoutService`, `UploadService`, `AssetService` and
//! `LibraryService`, the internal `ShootoutInternal` (render specs for the worker), and the
//! shared `OpsInternal`. [`routes`] builds the gRPC routes from an [`AppState`] so tests can
//! host them behind their own identity layer.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod api;
mod assets;
mod config;
mod content;
mod convert;
mod error;
mod library;
mod shootouts;
mod uploads;

pub use config::{Config, UploadSettings};
/// Pure entry points of upload handling (also driven by the fuzz targets in `fuzz/`).
pub use content::{ContentError, audio as audio_content, nam as nam_content};
pub use error::ShootoutError;
/// Content addressing of uploads (keys and the SHA-256 a client declares), for clients and tests.
pub use gts_storage::{content_key, sha256_hex};
pub use library::Tone3000TokenSource;
pub use uploads::assembly as upload_assembly;

use gts_common::{infra::Infra, infra::StartError, ops::Ops, server, shutdown::Shutdown};
use gts_proto::v1::{
    asset_service_server::AssetServiceServer, library_service_server::LibraryServiceServer,
    shootout_internal_server::ShootoutInternalServer,
    shootout_service_server::ShootoutServiceServer, upload_service_server::UploadServiceServer,
};
use tokio::net::TcpListener;
use tonic::service::Routes;

/// The gRPC services this process hosts.
pub const SERVICE_NAMES: &[&str] = &[
    "gts.v1.ShootoutService",
    "gts.v1.UploadService",
    "gts.v1.AssetService",
    "gts.v1.LibraryService",
    "gts.v1.ShootoutInternal",
    "gts.v1.OpsInternal",
];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/shootout");

/// Binds the configured address and serves until `shutdown` fires.
pub async fn run(config: Config, shutdown: Shutdown) -> Result<(), StartError> {
    let listener = server::bind(config.service.listen).await?;
    serve(config, listener, shutdown).await
}

/// Connects to PostgreSQL (applying the `shootout` migrations) and Redis.
pub async fn connect(config: &Config) -> Result<Infra, StartError> {
    Infra::connect(&config.service, "shootout", &MIGRATOR).await
}

/// The state shared by the handlers and background tasks.
#[derive(Clone)]
pub struct AppState {
    infra: Infra,
    uploads: uploads::UploadContext,
    library: library::LibraryContext,
}

impl AppState {
    /// Opens the object store and the staging directory on top of connected `infra`.
    pub fn new(config: &Config, infra: Infra) -> Result<Self, StartError> {
        let blobs = gts_storage::BlobStore::open(&config.storage)
            .map_err(|e| StartError::Other(format!("cannot open the object store: {e}")))?;
        std::fs::create_dir_all(&config.uploads.staging_dir).map_err(|e| {
            StartError::Other(format!(
                "cannot create the upload staging directory {}: {e}",
                config.uploads.staging_dir.display()
            ))
        })?;
        let uploads = uploads::UploadContext {
            db: infra.db.clone(),
            blobs,
            settings: config.uploads.clone(),
        };
        let credential = config.auth.service_credential("gts-shootout");
        let tokens = library::AuthServiceTokenSource::new(&config.auth.auth_url, credential)
            .map_err(StartError::Other)?;
        let library = library::LibraryContext {
            tokens: std::sync::Arc::new(tokens),
            base_url: config.tone3000_url.to_string(),
            client_id: config.tone3000_client_id.clone(),
            redis: infra.redis.clone(),
            cache_ttl: config.library_cache_ttl,
        };
        Ok(Self {
            infra,
            uploads,
            library,
        })
    }

    /// Replaces where users' TONE3000 tokens come from (tests use a fixed token).
    pub fn with_token_source(mut self, tokens: std::sync::Arc<dyn Tone3000TokenSource>) -> Self {
        self.library.tokens = tokens;
        self
    }

    /// Expires every overdue upload now (the periodic task does the same); returns how many.
    pub async fn expire_overdue_uploads(&self) -> Result<usize, ShootoutError> {
        uploads::sweep::expire_overdue(&self.uploads).await
    }

    /// Runs the background tasks (upload expiry) until `shutdown`.
    pub fn spawn_background(&self, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
        tokio::spawn(uploads::sweep::run(self.uploads.clone(), shutdown))
    }
}

/// The service's gRPC routes (without the identity layer, which the server adds).
pub fn routes(state: &AppState) -> Routes {
    let infra = &state.infra;
    Routes::new(ShootoutServiceServer::new(api::ShootoutApi::new(
        infra.db.clone(),
    )))
    .add_service(UploadServiceServer::new(api::UploadApi::new(
        state.uploads.clone(),
    )))
    .add_service(AssetServiceServer::new(api::AssetApi::new(
        state.uploads.clone(),
    )))
    .add_service(LibraryServiceServer::new(api::LibraryApi::new(
        state.library.clone(),
    )))
    .add_service(ShootoutInternalServer::new(api::ShootoutInternalApi::new(
        infra.db.clone(),
        state.library.clone(),
    )))
    .add_service(Ops::server("gts-shootout"))
}

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let infra = connect(&config).await?;
    // Verifies access JWTs and service credentials before any handler (defence in depth).
    let auth = config
        .auth
        .authenticator("gts-shootout")
        .await
        .map_err(StartError::Other)?;
    let auth = config.auth.revoking(auth, &infra.redis, &shutdown).await;
    let state = AppState::new(&config, infra.clone())?;
    let background = state.spawn_background(shutdown.clone());
    let options = infra.server_options(&config.service, "gts-shootout", SERVICE_NAMES);
    let auth = gts_common::auth::AuthLayer::new(auth);
    let served = server::serve_with_auth(routes(&state), listener, options, auth, shutdown).await;
    background.abort();
    served?;
    Ok(())
}
