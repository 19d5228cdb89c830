//! The gateway: the browser's single entry point.
//!
//! grpc-web (tonic-web) and plain gRPC in, plain gRPC out to the backend that hosts the
//! called service; CORS for the configured origins; the gateway's own health (following
//! Redis) and reflection; the web console ([`console`]); per-user and per-IP rate limits
//! ([`rate_limit`]); artifact downloads ([`artifacts`]) and shared-result downloads
//! ([`shared`]). Internal services are never routed (see [`routing`]).

pub mod balance;
mod config;
pub mod console;
pub mod downloads;
pub mod edge_limits;
pub mod limits;
mod proxy;
pub mod routing;
pub mod shared;
mod shed;

pub use config::Config;

use std::{future::IntoFuture, time::Duration};

use axum::Router;
use gts_common::{
    auth::{ANONYMOUS_AUTH_PATHS, AuthLayer},
    health::{Dependency, HealthMonitor},
    infra::StartError,
    redis_conn::RedisHandle,
    server,
    shutdown::Shutdown,
};
use http::{HeaderName, HeaderValue, Method};
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic_web::GrpcWebLayer;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::proxy::{Backends, GrpcProxy};

/// Binds the configured address and serves until `shutdown` fires.
pub async fn run(config: Config, shutdown: Shutdown) -> Result<(), StartError> {
    let listener = server::bind(config.listen).await?;
    serve(config, listener, shutdown).await
}

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let redis = RedisHandle::connect(
        &config.redis_url,
        &config.redis_prefix,
        config.startup_timeout,
    )
    .await?;
    let backend =
        |urls: &str| balance::channel(urls, config.resolve_interval, shutdown.clone().wait());
    let worker = backend(&config.worker_url)?;
    let backends = Backends {
        auth: backend(&config.auth_url)?,
        shootout: backend(&config.shootout_url)?,
        worker: worker.clone(),
    };

    let (reporter, health_service) = tonic_health::server::health_reporter();
    let monitor = HealthMonitor::new(
        reporter,
        vec![],
        vec![Dependency::Redis(redis.conn.clone())],
        config.health_interval,
    );
    let monitor_task = tokio::spawn(monitor.run(shutdown.clone().wait()));
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| StartError::Other(e.to_string()))?;

    // Bad access tokens stop here; each service verifies again (defence in depth).
    let authenticator = config
        .auth
        .authenticator("gts-gateway")
        .await
        .map_err(StartError::Other)?;
    let authenticator = config.auth.revoking(authenticator, &redis, &shutdown).await;
    let auth = AuthLayer::new(authenticator)
        .lenient_on(ANONYMOUS_AUTH_PATHS)
        .refusing_service_credentials()
        .applies_to(|path| matches!(routing::route(path), routing::Route::Forward(_)));
    let rate_limits = edge_limits::RateLimits::new(
        redis.clone(),
        config.rate_limit_user_per_minute,
        config.rate_limit_ip_per_minute,
        config.rate_limit_window,
    );
    let grpc_proxy = ServiceBuilder::new()
        .map_request(set_forwarded_for)
        .map_request(limits::record_declared_length)
        .layer(GrpcWebLayer::new())
        .layer(rate_limits.layer(edge_limits::Subject::Ip))
        .layer(limits::SizeLimitLayer::new(config.max_request_bytes))
        .layer(auth)
        .layer(rate_limits.layer(edge_limits::Subject::User))
        // RPC metrics and the access line, inside the request span (gRPC, after grpc-web).
        .map_response(
            |response: http::Response<gts_common::access::ObservedBody<tonic::body::Body>>| {
                response.map(tonic::body::Body::new)
            },
        )
        .layer(gts_common::access::AccessLayer)
        // Past the limit a call is refused at once (RESOURCE_EXHAUSTED), never queued.
        .layer_fn(shed::Shed::new)
        .load_shed()
        .concurrency_limit(config.max_concurrent_calls.max(1))
        .service(GrpcProxy::new(backends, config.default_deadline));
    // GET/HEAD that no route above took: the web console; everything else: gRPC.
    let fallback =
        console::ConsoleOrGrpc::new(console::Console::new(&config.console_dir), grpc_proxy);
    let store = gts_storage::BlobStore::open(&config.storage)
        .map_err(|error| StartError::Other(format!("object store: {error}")))?;
    let artifact_downloads =
        downloads::Artifacts::new(config.artifact_signer.clone(), store, rate_limits.clone());
    let shared_downloads = Router::new()
        .route(
            "/shared/{token}/{artifact_id}",
            axum::routing::get(shared::download),
        )
        .with_state(shared::SharedDownloads::new(
            artifact_downloads.clone(),
            worker,
        ));
    let downloads = Router::new()
        .route("/artifacts/{*key}", axum::routing::get(downloads::download))
        .with_state(artifact_downloads)
        .merge(shared_downloads);
    let app: Router = Routes::new(health_service)
        .add_service(reflection)
        .into_axum_router()
        .merge(downloads)
        .fallback_service(fallback)
        .layer(cors(&config.cors_origins)?)
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(gts_common::trace_context::request_span),
        );

    tracing::info!(address = ?listener.local_addr().ok(), "gateway listening");
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // TCP_NODELAY: stream events are small writes that Nagle would hold back.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().wait());
    let result = server::drain_within(server.into_future(), shutdown, config.shutdown_grace)
        .await
        .map_err(StartError::from);
    let _ = monitor_task.await;
    result
}

/// Replaces any client-sent `x-forwarded-for` with the TCP peer, so backends rate-limit
/// by an address the client cannot choose.
fn set_forwarded_for<B>(mut request: http::Request<B>) -> http::Request<B> {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .and_then(|info| HeaderValue::from_str(&info.0.ip().to_string()).ok());
    let headers = request.headers_mut();
    headers.remove("x-forwarded-for");
    if let Some(peer) = peer {
        headers.insert("x-forwarded-for", peer);
    }
    request
}

/// CORS for grpc-web: configured origins only; the gRPC status headers exposed.
fn cors(origins: &[String]) -> Result<CorsLayer, StartError> {
    let origins = origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o)
                .map_err(|_| StartError::Other(format!("GTS_CORS_ORIGINS: invalid origin {o:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let header = HeaderName::from_static;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers([
            header("content-type"),
            header("authorization"),
            header("x-grpc-web"),
            header("x-user-agent"),
            header("grpc-timeout"),
            header("traceparent"),
            header("tracestate"),
        ])
        .expose_headers([
            header("grpc-status"),
            header("grpc-message"),
            header("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(600)))
}
