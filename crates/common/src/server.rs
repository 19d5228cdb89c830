//! The gRPC server bootstrap every service uses.
//!
//! Contract: the server hosts the service's own routes plus `grpc.health.v1.Health`
//! (following the real dependencies, see [`crate::health`]) and server reflection (v1
//! and v1alpha, listing only the services this process hosts). On shutdown it reports
//! NOT_SERVING, stops accepting, lets in-flight calls finish, and gives up on calls still
//! open after the grace period so the process always exits in time.

use std::{net::SocketAddr, time::Duration};

use tokio::net::TcpListener;
use tonic::{service::Routes, transport::Server};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    auth::AuthLayer,
    health::{Dependency, HealthMonitor},
    shutdown::Shutdown,
};

/// What the bootstrap needs to know about a service.
pub struct ServerOptions {
    /// Fully qualified names of the gRPC services hosted (for health and reflection).
    pub service_names: Vec<String>,
    /// Dependencies the health status follows.
    pub dependencies: Vec<Dependency>,
    /// How often dependencies are probed.
    pub health_interval: Duration,
    /// How long in-flight calls may run after a shutdown signal.
    pub shutdown_grace: Duration,
    /// The process's name (e.g. `gts-auth`), sent in the `x-gts-served-by` header.
    pub served_by: http::HeaderValue,
}

/// The response header naming the process that answered a call.
pub const SERVED_BY_HEADER: &str = "x-gts-served-by";

/// Errors that stop a server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("reflection setup failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Binds a TCP listener, with a one-line error naming the address on failure.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|error| {
        std::io::Error::new(error.kind(), format!("cannot listen on {addr}: {error}"))
    })
}

/// Serves `routes` on `listener` until `shutdown` fires and in-flight calls finish. No
/// caller is authenticated: handlers that need a user or a service refuse every call.
pub async fn serve(
    routes: Routes,
    listener: TcpListener,
    options: ServerOptions,
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    serve_with_auth(routes, listener, options, AuthLayer::disabled(), shutdown).await
}

/// Like [`serve`], with `auth` in front of every route: it verifies the access JWT or the
/// service credential and hands handlers the [`crate::identity::Caller`].
pub async fn serve_with_auth(
    routes: Routes,
    listener: TcpListener,
    options: ServerOptions,
    auth: AuthLayer,
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = reflection_builder(&options.service_names).build_v1()?;
    let reflection_v1alpha = reflection_builder(&options.service_names).build_v1alpha()?;

    let monitor = HealthMonitor::new(
        reporter,
        options.service_names.clone(),
        options.dependencies,
        options.health_interval,
    );
    // Nothing is SERVING before the first probe has passed.
    monitor
        .publish(tonic_health::ServingStatus::NotServing)
        .await;
    let monitor_task = tokio::spawn(monitor.run(shutdown.clone().wait()));

    let local_addr = listener.local_addr().ok();
    tracing::info!(address = ?local_addr, services = ?options.service_names, "gRPC server listening");

    let server = Server::builder()
        .layer(
            tower_http::trace::TraceLayer::new_for_grpc()
                .make_span_with(crate::trace_context::request_span)
                // A NOT_FOUND or UNAUTHENTICATED answer is ordinary; handlers log real faults.
                .on_failure(
                    tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
                ),
        )
        // Inside the request span: RPC metrics and the access-log line, auth refusals too.
        .layer(crate::access::AccessLayer)
        // Names the answering process, so a caller behind the gateway can tell who served it.
        .layer(SetResponseHeaderLayer::overriding(
            http::HeaderName::from_static(SERVED_BY_HEADER),
            options.served_by,
        ))
        .layer(auth)
        .add_routes(routes)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .serve_with_incoming_shutdown(incoming(listener), shutdown.clone().wait());

    let result = drain_within(server, shutdown, options.shutdown_grace)
        .await
        .map_err(ServeError::from);
    let _ = monitor_task.await;
    tracing::info!("gRPC server stopped");
    result
}

/// Runs `server` (already wired to stop accepting on `shutdown`) until it has drained, or
/// until `grace` has passed since the shutdown began: calls still open then are dropped, so
/// the process always exits in time.
pub async fn drain_within<E>(
    server: impl std::future::Future<Output = Result<(), E>>,
    shutdown: Shutdown,
    grace: Duration,
) -> Result<(), E> {
    tokio::select! {
        result = server => result,
        () = async {
            shutdown.wait().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "calls still open after the grace period; closing them");
            Ok(())
        }
    }
}

fn reflection_builder(service_names: &[String]) -> tonic_reflection::server::Builder<'static> {
    let mut builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(gts_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health");
    for name in service_names {
        builder = builder.with_service_name(name.clone());
    }
    builder
}
/// Accepted connections with `TCP_NODELAY`: progress events and stream snapshots are small
/// writes, which Nagle's algorithm would hold back until the peer's delayed ACK.
pub fn incoming(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}
