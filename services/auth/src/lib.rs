//! The auth service: users, sessions and the custody of TONE3000 tokens.
//!
//! Hosts `gts.v1.AuthService` (public, through the gateway) and `gts.v1.AuthInternal`
//! (service-to-service only), plus the shared `OpsInternal`. See docs/auth.md.

mod api;
mod config;
mod crypto;
mod custody;
mod error;
mod login;
mod rate_limit;
mod revocations;
mod sessions;
mod state;
mod upstream;
mod users;

pub use config::{Config, MAX_ACCESS_TOKEN_TTL};
pub use crypto::TokenCipher;
pub use custody::EARLY_REFRESH;
pub use error::AuthError;

use std::sync::Arc;

use gts_common::{
    auth::{ANONYMOUS_AUTH_PATHS, AuthLayer, Authenticator},
    infra::Infra,
    infra::StartError,
    ops::Ops,
    server,
    shutdown::Shutdown,
};
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
    for var in &config.generated_keys {
        tracing::warn!(
            "{var} is not set: using a random key for this run only (sessions and stored \
             TONE3000 tokens do not survive a restart)"
        );
    }
    let infra = Infra::connect(&config.service, "auth", &MIGRATOR).await?;
    let state = Arc::new(state::AuthState::new(&config, infra.clone()));
    let authenticator = Authenticator::new(
        config.verifier.jwt_verifier(&state.public_keys),
        config.verifier.service_verifier(),
    );
    let routes = Routes::new(AuthServiceServer::new(api::AuthApi::new(state.clone())))
        .add_service(AuthInternalServer::new(api::AuthInternalApi::new(state)))
        .add_service(Ops::server("gts-auth"));
    let options = infra.server_options(&config.service, "gts-auth", SERVICE_NAMES);
    let auth = AuthLayer::new(authenticator).lenient_on(ANONYMOUS_AUTH_PATHS);
    let publisher = tokio::spawn(revocations::run(
        infra.clone(),
        config.verifier.revocation_poll,
        shutdown.clone(),
    ));
    let served = server::serve_with_auth(routes, listener, options, auth, shutdown).await;
    publisher.abort();
    served?;
    Ok(())
}
