//! Router, request guards and the start/stop lifecycle.
//!
//! Contract: every route lives under `/api/v1`, like the real API. Each request first
//! passes the global guard (counted, delayed by the latency knob, failed by the
//! failure-mode knob, then rate-limited); resource routes then pass the bearer guard.
//! `FakeTone3000::start` binds before it returns, so `base_url()` is usable at once;
//! `FakeHandle::shutdown` stops accepting and lets in-flight requests finish.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, AuthedUser};
use crate::catalogue::{Catalogue, FixtureError};
use crate::config::FakeConfig;
use crate::error::ApiError;
use crate::oauth;
use crate::state::{FailureMode, FakeState};

/// Path prefix of every endpoint.
pub const API_PREFIX: &str = "/api/v1";

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A fixture file is missing or unreadable.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Entry point: starts fake TONE3000 servers.
#[derive(Debug)]
pub struct FakeTone3000;

impl FakeTone3000 {
    /// Starts a fake on an ephemeral loopback port.
    pub async fn start(config: FakeConfig) -> Result<FakeHandle, StartError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts a fake on `addr`.
    pub async fn start_on(addr: SocketAddr, config: FakeConfig) -> Result<FakeHandle, StartError> {
        // Read fixtures before binding so a bad directory fails fast and leaves no socket.
        let catalogue = Catalogue::seed(&config.fixtures_dir, &config.test_user)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let origin = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        let api_base = format!("{origin}{API_PREFIX}");
        let state = Arc::new(FakeState::new(&config, catalogue, api_base.clone()));
        let app = router(state.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    // A dropped sender also stops the server.
                    let _ = stop_rx.await;
                })
                .await
        });
        tracing::info!(%local, %api_base, "fake TONE3000 listening");
        Ok(FakeHandle {
            local_addr: local,
            api_base,
            fixtures_dir: config.fixtures_dir,
            state,
            stop: Some(stop_tx),
            task,
        })
    }
}

/// A running fake. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct FakeHandle {
    local_addr: SocketAddr,
    api_base: String,
    fixtures_dir: PathBuf,
    state: Arc<FakeState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl FakeHandle {
    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// API base URL, e.g. `http://127.0.0.1:PORT/api/v1` — the value for
    /// `tone3000::ClientBuilder::base_url`.
    pub fn base_url(&self) -> &str {
        &self.api_base
    }

    /// The authorize endpoint (`{base_url}/oauth/authorize`).
    pub fn authorize_url(&self) -> String {
        format!("{}/oauth/authorize", self.api_base)
    }

    /// The token endpoint (`{base_url}/oauth/token`).
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.api_base)
    }

    /// The fixtures directory the model files come from.
    pub fn fixtures_dir(&self) -> &std::path::Path {
        &self.fixtures_dir
    }

    /// Knobs and counters, shared with the running server.
    pub fn state(&self) -> Arc<FakeState> {
        self.state.clone()
    }

    /// Stops accepting connections, waits for in-flight requests, and returns.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}

fn router(state: Arc<FakeState>) -> Router {
    let resources = Router::new()
        .route("/user", get(api::user))
        .route("/users", get(api::users))
        .route("/tones/search", get(api::search))
        .route("/tones/created", get(api::created))
        .route("/tones/favorited", get(api::favorited))
        .route("/tones/{id}", get(api::tone))
        .route("/models", get(api::models))
        .route("/models/{id}", get(api::model))
        .route("/models/{id}/download/{file}", get(api::download))
        .route_layer(middleware::from_fn_with_state(state.clone(), bearer_guard));
    let v1 = Router::new()
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/oauth/token", post(oauth::token))
        .merge(resources);
    Router::new()
        .nest(API_PREFIX, v1)
        .fallback(|| async { ApiError::NotFound("no such endpoint") })
        .layer(middleware::from_fn_with_state(state.clone(), global_guard))
        .with_state(state)
}

/// Counting, injected latency and failures, then the rate limit.
async fn global_guard(State(state): State<Arc<FakeState>>, req: Request, next: Next) -> Response {
    // Counted before the delay, so a test can see a request is in flight.
    state.note_request();
    let latency = state.extra_latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match state.failure_mode() {
        FailureMode::InternalError => {
            return ApiError::Injected(StatusCode::INTERNAL_SERVER_ERROR).into_response();
        }
        FailureMode::Unavailable => {
            return ApiError::Injected(StatusCode::SERVICE_UNAVAILABLE).into_response();
        }
        FailureMode::None | FailureMode::RefuseRefresh => {}
    }
    if let Err(retry_after_secs) = state.admit() {
        return ApiError::RateLimited { retry_after_secs }.into_response();
    }
    next.run(req).await
}

/// Resolves `Authorization: Bearer <token>` to a live grant, else 401.
async fn bearer_guard(
    State(state): State<Arc<FakeState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match token.and_then(|t| state.user_for_access(t)) {
        Some(user) => {
            req.extensions_mut().insert(AuthedUser(user));
            next.run(req).await
        }
        None => ApiError::Unauthorized.into_response(),
    }
}
