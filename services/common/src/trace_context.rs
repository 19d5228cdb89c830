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
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let path = request.uri().path();
    let span = tracing::info_span!("request", otel.name = %path, rpc.path = %path);
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    let _ = span.set_parent(parent);
    span
}

/// Writes the current span's trace context into outgoing request headers.
pub fn inject_current(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}
