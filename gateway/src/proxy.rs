//! The gRPC forwarding service behind tonic-web's translation layer.
//!
//! Contract: requests arrive here as plain gRPC (tonic-web has already turned grpc-web
//! into gRPC); they are forwarded to the backend chosen by [`crate::routing`] over a
//! long-lived HTTP/2 channel. Bodies are streamed both ways, never buffered, so server
//! streams reach the browser as they are produced. Failures become gRPC statuses, so the
//! browser always gets a status it can show.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{Request, Response};
use tonic::{Status, body::Body, transport::Channel};
use tower::Service;

use crate::routing::{Backend, Route, route};

/// Channels to the three backend services.
#[derive(Clone)]
pub struct Backends {
    pub auth: Channel,
    pub shootout: Channel,
    pub worker: Channel,
}

impl Backends {
    fn channel(&self, backend: Backend) -> Channel {
        match backend {
            Backend::Auth => self.auth.clone(),
            Backend::Shootout => self.shootout.clone(),
            Backend::Worker => self.worker.clone(),
        }
    }
}

/// Forwards public gRPC calls to their backend.
#[derive(Clone)]
pub struct GrpcProxy {
    backends: Backends,
    default_deadline: std::time::Duration,
}

impl GrpcProxy {
    /// Forwards to `backends`; unary calls without a `grpc-timeout` get `default_deadline`.
    pub fn new(backends: Backends, default_deadline: std::time::Duration) -> Self {
        Self {
            backends,
            default_deadline,
        }
    }
}

impl Service<Request<Body>> for GrpcProxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Channels buffer internally; readiness is checked per call below.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let decision = route(request.uri().path());
        let backends = self.backends.clone();
        let default_deadline = self.default_deadline;
        Box::pin(async move {
            let response = match decision {
                Route::Forward(backend) => {
                    let mut request = request;
                    set_default_deadline(&mut request, default_deadline);
                    forward(backends.channel(backend), request).await
                }
                Route::Internal(service) => Status::permission_denied(format!(
                    "{} is an internal service and cannot be called through the gateway",
                    gts_common::echo::shown(&service)
                ))
                .into_http(),
                Route::Unknown(service) => Status::unimplemented(format!(
                    "no public service named {}",
                    gts_common::echo::shown(&service)
                ))
                .into_http(),
            };
            Ok(response)
        })
    }
}

/// A unary call of the contract that carries no deadline gets `deadline`, which the
/// channel and the backend both enforce; streams (WatchJob) are left alone.
fn set_default_deadline(request: &mut Request<Body>, deadline: std::time::Duration) {
    if request.headers().contains_key("grpc-timeout") {
        return;
    }
    let unary = gts_proto::method(request.uri().path()).is_some_and(|method| !method.streaming);
    if !unary {
        return;
    }
    // gRPC's timeout is at most 8 digits; milliseconds cover over a day.
    let millis = deadline.as_millis().clamp(1, 99_999_999);
    if let Ok(value) = http::HeaderValue::from_str(&format!("{millis}m")) {
        request.headers_mut().insert("grpc-timeout", value);
    }
}

async fn forward(mut channel: Channel, mut request: Request<Body>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    // The backend's span continues this gateway span's trace.
    gts_common::trace_context::inject_current(request.headers_mut());
    // No endpoint (none resolved yet, all down) must not hang the caller.
    let ready = tokio::time::timeout(
        crate::balance::CONNECT_TIMEOUT,
        std::future::poll_fn(|cx| channel.poll_ready(cx)),
    )
    .await;
    match ready {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, %path, "backend not ready");
            return unavailable();
        }
        Err(_) => {
            tracing::warn!(%path, "no backend endpoint became ready in time");
            return unavailable();
        }
    }
    match channel.call(request).await {
        Ok(response) => response.map(Body::new),
        // The channel enforces the caller's `grpc-timeout` too (it travels on to the
        // backend, which enforces it as well); whichever fires first, the caller hears
        // DEADLINE_EXCEEDED, not that the service is down.
        Err(error) if is_timeout(&error) => {
            Status::deadline_exceeded("the call's deadline passed before the service answered")
                .into_http()
        }
        Err(error) => {
            tracing::warn!(%error, %path, "backend call failed");
            unavailable()
        }
    }
}

fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        current = error.source();
    }
    false
}

fn unavailable() -> Response<Body> {
    Status::unavailable("the service is unavailable right now; try again shortly").into_http()
}
