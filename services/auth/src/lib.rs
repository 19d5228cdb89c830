//! The auth service: users, sessions and the custody of TONE3000 tokens.
//!
//! Hosts `gts.v1.AuthService` (public, through the gateway) and `gts.v1.AuthInternal`
//! (service-to-service only), plus the shared `OpsInternal`. See docs/auth.md.

mod api;
mod attempt_limits;
mod config;
mod crypto;
mod custody;
mod error;
mod login;
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

/// Connects to PostgreSQL (applying the `auth` migrations) and Redis.
pub async fn connect(config: &Config) -> Result<Infra, StartError> {
    Infra::connect(&config.service, "auth", &MIGRATOR).await
}

/// The state shared by the handlers and the background task.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<state::AuthState>,
    authenticator: Authenticator,
}

impl AppState {
    /// Keys, the TONE3000 client and the token verifier on top of connected `infra`.
    pub fn new(config: &Config, infra: Infra) -> Self {
        let inner = Arc::new(state::AuthState::new(config, infra));
        // Auth verifies its own tokens with the keys it signs with (no key fetch).
        let authenticator = Authenticator::new(
            config.verifier.jwt_verifier(&inner.public_keys),
            config.verifier.service_verifier(),
        );
        Self {
            inner,
            authenticator,
        }
    }

    /// The bearer-token layer in front of the routes: StartLogin, CompleteLogin and Refresh
    /// answer anonymous callers, everything else needs a token or the service credential.
    pub fn auth_layer(&self) -> AuthLayer {
        AuthLayer::new(self.authenticator.clone()).lenient_on(ANONYMOUS_AUTH_PATHS)
    }

    /// Publishes revoked sessions to the other services until `shutdown`.
    pub fn spawn_background(
        &self,
        config: &Config,
        shutdown: Shutdown,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(revocations::run(
            self.inner.infra.clone(),
            config.verifier.revocation_poll,
            shutdown,
        ))
    }
}

/// The service's gRPC routes (without the auth layer, which the server adds).
pub fn routes(state: &AppState) -> Routes {
    Routes::new(AuthServiceServer::new(api::AuthApi::new(
        state.inner.clone(),
    )))
    .add_service(AuthInternalServer::new(api::AuthInternalApi::new(
        state.inner.clone(),
    )))
    .add_service(Ops::server("gts-auth"))
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
    let infra = connect(&config).await?;
    let state = AppState::new(&config, infra.clone());
    let options = infra.server_options(&config.service, "gts-auth", SERVICE_NAMES);
    let publisher = state.spawn_background(&config, shutdown.clone());
    let served = server::serve_with_auth(
        routes(&state),
        listener,
        options,
        state.auth_layer(),
        shutdown,
    )
    .await;
    publisher.abort();
    served?;
    Ok(())
}
