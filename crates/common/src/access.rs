//! Per-call observation as a tower layer: the RPC metrics and one access-log line.
//!
//! Contract: for every gRPC call through [`AccessLayer`],
//! - `gts_rpc_requests_total{service,method,code}` counts the call once, by its final
//!   gRPC status (from the headers of a trailers-only answer, else from the trailers;
//!   `CANCELLED` when the body was dropped before either, e.g. a client that went away);
//! - `gts_rpc_duration_seconds{service,method}` records its time to the end of the body
//!   (for a stream, the stream's life);
//! - `gts_rpc_in_flight{service,method}` counts calls open now (for `WatchJob`: the
//!   streams open);
//! - one INFO line, target `gts::access`, names the method, the status and the duration,
//!   inside the request's span, so it carries the trace and span ids and the caller's user
//!   id that the auth layer recorded on that span. Health checks and reflection log at
//!   DEBUG, so probes do not drown the log.
//!
//! Labels come only from the contract ([`gts_proto::method`]) or the health and
//! reflection services; any other path is `service="unknown"`, so a client cannot grow
//! the number of series.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use tonic::Code;
use tower::{Layer, Service};

/// The layer; see the module contract.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLayer;

impl<S> Layer<S> for AccessLayer {
    type Service = Access<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Access { inner }
    }
}

/// The service [`AccessLayer`] makes.
#[derive(Debug, Clone)]
pub struct Access<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for Access<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    RB: Body + Unpin,
{
    type Response = Response<ObservedBody<RB>>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Response<ObservedBody<RB>>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let record = CallRecord::start(request.uri().path());
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            let code = status_in(response.headers());
            Ok(response.map(|inner| ObservedBody {
                inner,
                code,
                record: Some(record),
            }))
        })
    }
}

/// A response body that finishes its call's record when the stream ends or is dropped.
pub struct ObservedBody<B> {
    inner: B,
    code: Option<Code>,
    record: Option<CallRecord>,
}

impl<B: Body + Unpin> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(status_in) {
                    self.code = Some(code);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                self.code.get_or_insert(Code::Internal);
            }
            Poll::Ready(None) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B> ObservedBody<B> {
    fn finish(&mut self) {
        if let Some(record) = self.record.take() {
            record.finish(self.code.unwrap_or(Code::Cancelled));
        }
    }
}

impl<B> Drop for ObservedBody<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

fn status_in(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map(Code::from_i32)
}

/// What is known about a call between its start and its end.
struct CallRecord {
    service: &'static str,
    method: &'static str,
    quiet: bool,
    started: Instant,
    span: tracing::Span,
}

impl CallRecord {
    fn start(path: &str) -> Self {
        let (service, method, quiet) = labels(path);
        metrics::gauge!("gts_rpc_in_flight", "service" => service, "method" => method)
            .increment(1.0);
        Self {
            service,
            method,
            quiet,
            started: Instant::now(),
            span: tracing::Span::current(),
        }
    }

    fn finish(self, code: Code) {
        let elapsed = self.started.elapsed();
        let (service, method) = (self.service, self.method);
        let code_name = code_name(code);
        metrics::gauge!("gts_rpc_in_flight", "service" => service, "method" => method)
            .decrement(1.0);
        metrics::counter!("gts_rpc_requests_total", "service" => service, "method" => method, "code" => code_name)
            .increment(1);
        metrics::histogram!("gts_rpc_duration_seconds", "service" => service, "method" => method)
            .record(elapsed.as_secs_f64());
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        self.span.in_scope(|| {
            if self.quiet {
                tracing::debug!(target: "gts::access", rpc_service = service, rpc_method = method, grpc_code = code_name, duration_ms, "rpc");
            } else {
                tracing::info!(target: "gts::access", rpc_service = service, rpc_method = method, grpc_code = code_name, duration_ms, "rpc");
            }
        });
    }
}

/// Bounded labels of `path`: (service, method, quiet).
fn labels(path: &str) -> (&'static str, &'static str, bool) {
    if let Some(method) = gts_proto::method(path) {
        let (service, name) = split(&method.path);
        return (service, name, false);
    }
    const QUIET: &[&str] = &[
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ];
    match QUIET.iter().find(|known| **known == path) {
        Some(known) => {
            let (service, name) = split(known);
            (service, name, true)
        }
        None => ("unknown", "unknown", false),
    }
}

fn split(path: &'static str) -> (&'static str, &'static str) {
    let trimmed = path.trim_start_matches('/');
    trimmed.split_once('/').unwrap_or((trimmed, ""))
}

/// The canonical upper-case name of a gRPC status code.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded_by_the_contract() {
        assert_eq!(
            labels("/gts.v1.JobService/SubmitJob"),
            ("gts.v1.JobService", "SubmitJob", false)
        );
        assert_eq!(
            labels("/grpc.health.v1.Health/Check"),
            ("grpc.health.v1.Health", "Check", true)
        );
        assert_eq!(
            labels("/gts.v1.JobService/Made-Up"),
            ("unknown", "unknown", false)
        );
        assert_eq!(labels("/evil/x"), ("unknown", "unknown", false));
    }
}
