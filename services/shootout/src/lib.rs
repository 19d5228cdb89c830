//! The shootout service: shootouts and their signal chains, uploads and user assets, and
//! the TONE3000 library proxy.
//!
//! Hosts the public `ShootoutService`, `UploadService`, `AssetService` and
//! `LibraryService`, the internal `ShootoutInternal` (render specs for the worker), and the
//! shared `OpsInternal`.

mod api;
mod config;
mod error;

pub use config::Config;
pub use error::ShootoutError;

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

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let infra = Infra::connect(&config.service, "shootout", &MIGRATOR).await?;
    let routes = Routes::new(ShootoutServiceServer::new(api::ShootoutApi::new(
        infra.clone(),
    )))
    .add_service(UploadServiceServer::new(api::UploadApi::new(infra.clone())))
    .add_service(AssetServiceServer::new(api::AssetApi::new(infra.clone())))
    .add_service(LibraryServiceServer::new(api::LibraryApi::new(
        infra.clone(),
    )))
    .add_service(ShootoutInternalServer::new(api::ShootoutInternalApi::new(
        infra.clone(),
    )))
    .add_service(Ops::server("gts-shootout"));
    let options = infra.server_options(&config.service, "gts-shootout", SERVICE_NAMES);
    server::serve(routes, listener, options, shutdown).await?;
    Ok(())
}
