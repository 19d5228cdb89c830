//! Logging and tracing: JSON logs on stdout, and OpenTelemetry OTLP export of spans when
//! `GTS_OTLP_ENDPOINT` is set. W3C trace context is the propagation format, so a trace
//! crosses the gateway and the services as one.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt};

use crate::config::{ConfigError, Env};

/// Telemetry settings.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    /// The `service.name` reported in logs and spans.
    pub service_name: &'static str,
    /// `tracing` filter directives (`GTS_LOG`, default `info`).
    pub filter: String,
    /// `json` (default) or `text`.
    pub format: LogFormat,
    /// OTLP/gRPC collector endpoint (`GTS_OTLP_ENDPOINT`); export is off when unset.
    pub otlp_endpoint: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            other => Err(format!("expected json or text, got {other:?}")),
        }
    }
}

impl TelemetrySettings {
    /// Reads `GTS_LOG`, `GTS_LOG_FORMAT` and `GTS_OTLP_ENDPOINT`.
    pub fn from_env(env: &Env, service_name: &'static str) -> Result<Self, ConfigError> {
        Ok(Self {
            service_name,
            filter: env.or("GTS_LOG", "info".to_owned())?,
            format: env.or("GTS_LOG_FORMAT", LogFormat::Json)?,
            otlp_endpoint: env.optional("GTS_OTLP_ENDPOINT")?,
        })
    }
}

/// Flushes spans on drop.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber. Call once, from `main`, inside the Tokio runtime.
pub fn init(settings: &TelemetrySettings) -> Result<TelemetryGuard, String> {
    let filter = EnvFilter::try_new(&settings.filter).map_err(|e| {
        format!(
            "configuration error: GTS_LOG={:?} is invalid: {e}",
            settings.filter
        )
    })?;
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );

    let provider = match &settings.otlp_endpoint {
        Some(endpoint) => Some(otlp_provider(settings.service_name, endpoint)?),
        None => None,
    };
    let otel_layer = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(settings.service_name))
    });

    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    let result = match settings.format {
        LogFormat::Json => tracing::subscriber::set_global_default(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            ),
        ),
        LogFormat::Text => {
            tracing::subscriber::set_global_default(registry.with(tracing_subscriber::fmt::layer()))
        }
    };
    result.map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    // After the subscriber, so the `log` side filters at its level too.
    crate::log_bridge::install(tracing_log::AsLog::as_log(
        &tracing::level_filters::LevelFilter::current(),
    ))
    .map_err(|e| format!("cannot install the log bridge: {e}"))?;
    Ok(TelemetryGuard { provider })
}

fn otlp_provider(service_name: &'static str, endpoint: &str) -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| {
            format!("configuration error: GTS_OTLP_ENDPOINT={endpoint:?} is invalid: {e}")
        })?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service_name).build())
        .build())
}
