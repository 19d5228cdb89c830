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
}

impl GrpcProxy {
    pub fn new(backends: Backends) -> Self {
        Self { backends }
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
        Box::pin(async move {
            let response = match decision {
                Route::Forward(backend) => forward(backends.channel(backend), request).await,
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

async fn forward(mut channel: Channel, mut request: Request<Body>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    // The backend's span continues this gateway span's trace.
    gts_common::trace_context::inject_current(request.headers_mut());
    if let Err(error) = std::future::poll_fn(|cx| channel.poll_ready(cx)).await {
        tracing::warn!(%error, %path, "backend not ready");
        return unavailable();
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
