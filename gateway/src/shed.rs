//! Load shedding: a call over the gateway's concurrency limit is answered at once with
//! RESOURCE_EXHAUSTED (with a retry hint), so a flood neither queues without bound nor
//! hangs; the gateway's own health is a separate route and stays SERVING.
//!
//! [`Shed`] sits on tower's `LoadShed` (which refuses a call when the `ConcurrencyLimit`
//! under it has no permit) and turns its `Overloaded` error into that gRPC answer, so the
//! stack above stays infallible, as the proxy is.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{Request, Response};
use tonic::body::Body;
use tower::{BoxError, Service};

/// The service; see the module contract.
#[derive(Clone)]
pub struct Shed<S> {
    inner: S,
    broken: bool,
}

impl<S> Shed<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            broken: false,
        }
    }
}

impl<S> Service<Request<Body>> for Shed<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                self.broken = false;
                Poll::Ready(Ok(()))
            }
            // The limit and the proxy under LoadShed never fail; should one, answer the
            // call rather than fail the connection.
            Poll::Ready(Err(error)) => {
                tracing::warn!(%error, "gateway forwarding is not ready");
                self.broken = true;
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if self.broken {
            return Box::pin(async { Ok(unavailable()) });
        }
        let future = self.inner.call(request);
        Box::pin(async move { Ok(answer(future.await)) })
    }
}

fn answer(result: Result<Response<Body>, BoxError>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(error) if error.is::<tower::load_shed::error::Overloaded>() => {
            metrics::counter!("gts_gateway_shed_total").increment(1);
            gts_common::rate_limit::resource_exhausted(
                "the gateway is at its limit of concurrent calls; retry in a moment",
                std::time::Duration::from_secs(1),
            )
            .into_http()
        }
        Err(error) => {
            tracing::warn!(%error, "gateway call failed before reaching a backend");
            unavailable()
        }
    }
}

fn unavailable() -> Response<Body> {
    tonic::Status::unavailable("the service is unavailable right now; try again shortly")
        .into_http()
}
