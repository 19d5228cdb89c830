//! The auth service: users, sessions and the custody of TONE3000 tokens.
//!
//! Hosts `gts.v1.AuthService` (public, through the gateway) and `gts.v1.AuthInternal`
//! (service-to-service only), plus the shared `OpsInternal`.

mod api;
mod config;
mod error;

pub use config::Config;
pub use error::AuthError;

use gts_common::{infra::Infra, infra::StartError, ops::Ops, server, shutdown::Shutdown};
use gts_proto::v1::{
    auth_internal_server::AuthInternalServer, auth_service_server::AuthServiceServer,
};
use tokio::net::TcpListener;
use tonic::service::Routes;

/// The gRPC services this process hosts.
pub const SERVICE_NAMES: &[&str] = &[
    "gts.v1.AuthService",
    "gts.v1.AuthInternal",
    "gts.v1.OpsInternal",
];

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/auth");

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
    let infra = Infra::connect(&config.service, "auth", &MIGRATOR).await?;
    let routes = Routes::new(AuthServiceServer::new(api::AuthApi::new(infra.clone())))
        .add_service(AuthInternalServer::new(api::AuthInternalApi::new(
            infra.clone(),
        )))
        .add_service(Ops::server("gts-auth"));
    let options = infra.server_options(&config.service, "gts-auth", SERVICE_NAMES);
    server::serve(routes, listener, options, shutdown).await?;
    Ok(())
}
