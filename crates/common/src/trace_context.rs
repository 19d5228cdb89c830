//! W3C trace context across processes.
//!
//! Contract: every incoming request gets an INFO span that continues the caller's trace
//! when the request carries `traceparent`; the gateway writes its own span's context into
//! each forwarded request, so one browser call is one trace across the gateway and the
//! services. Spans reach a collector only when `GTS_OTLP_ENDPOINT` is set.

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The span of an incoming request: named after its path, a child of the caller's trace.
/// `user_id` (or `caller_service`) is filled in by the auth layer once it knows the caller.
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let path = request.uri().path();
    let span = tracing::info_span!(
        "request",
        otel.name = %path,
        rpc.path = %path,
        user_id = tracing::field::Empty,
        caller_service = tracing::field::Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    let _ = span.set_parent(parent);
    span
}

/// Records the verified caller on the current (request) span, so the access-log line and
/// every other line of the call name who made it.
pub fn record_caller(caller: &crate::identity::Caller) {
    let span = tracing::Span::current();
    match caller {
        crate::identity::Caller::User(user) => {
            span.record("user_id", tracing::field::display(user.user_id));
        }
        crate::identity::Caller::Service(name) => {
            span.record("caller_service", name.as_str());
        }
    }
}

/// Writes the current span's trace context into an internal call's metadata, so the
/// called service's span continues this trace (worker → shootout, worker → auth, ...).
pub fn inject_into<T>(request: &mut tonic::Request<T>) {
    let mut headers = std::mem::take(request.metadata_mut()).into_headers();
    inject_current(&mut headers);
    *request.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers);
}

/// The current span's W3C `traceparent` (and `tracestate`), as text to store with work
/// that another process continues later (a queued job).
pub fn current_traceparent() -> String {
    let mut headers = http::HeaderMap::new();
    inject_current(&mut headers);
    headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Makes `span` a child of the stored `traceparent` (no-op when it is empty or invalid).
pub fn continue_from(span: &tracing::Span, traceparent: &str) {
    let Ok(value) = http::HeaderValue::from_str(traceparent) else {
        return;
    };
    if traceparent.is_empty() {
        return;
    }
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", value);
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(&headers))
    });
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into outgoing request headers.
pub fn inject_current(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}
