//! The worker service: jobs and their durable queue, rendering, live progress streams and
//! artifacts.
//!
//! Hosts the public `JobService` and the shared `OpsInternal`.

mod api;
mod config;
mod error;

pub use config::Config;
pub use error::WorkerError;

use gts_common::{infra::Infra, infra::StartError, ops::Ops, server, shutdown::Shutdown};
use gts_proto::v1::job_service_server::JobServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

/// The gRPC services this process hosts.
pub const SERVICE_NAMES: &[&str] = &["gts.v1.JobService", "gts.v1.OpsInternal"];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/worker");

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
    let infra = Infra::connect(&config.service, "worker", &MIGRATOR).await?;
    let routes = Routes::new(JobServiceServer::new(api::JobApi::new(infra.clone())))
        .add_service(Ops::server("gts-worker"));
    let options = infra.server_options(&config.service, "gts-worker", SERVICE_NAMES);
    server::serve(routes, listener, options, shutdown).await?;
    Ok(())
}
