//! Logging and tracing: JSON logs on stdout, and OpenTelemetry OTLP export of spans when
//! `GTS_OTLP_ENDPOINT` is set. W3C trace context is the propagation format, so a trace
//! crosses the gateway and the services as one.
//!
//! Every JSON line carries `service` (the binary), and, inside a span, `trace_id` and
//! `span_id` of the OpenTelemetry span, so a log line leads to its trace and back. The
//! OpenTelemetry layer is always installed (ids exist with no collector); spans leave the
//! process only when an endpoint is set.

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

    let provider = provider(settings.service_name, settings.otlp_endpoint.as_deref())?;
    let otel_layer =
        tracing_opentelemetry::layer().with_tracer(provider.tracer(settings.service_name));

    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    let result = match settings.format {
        LogFormat::Json => tracing::subscriber::set_global_default(
            registry.with(json_layer(settings.service_name, std::io::stdout)),
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
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}

/// The JSON line layer (see [`json_log`]) of `service`, writing to `writer`.
pub fn json_layer<S, W>(service: &'static str, writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .event_format(json_log::JsonLines::new(service))
        .with_writer(writer)
}

/// The subscriber of [`init`]'s JSON format with spans kept local (ids, no export),
/// writing to `writer`: for tests that read the lines a process would print.
pub fn json_subscriber<W>(
    service: &'static str,
    filter: &str,
    writer: W,
) -> Result<(impl tracing::Subscriber + Send + Sync, TelemetryGuard), String>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("invalid filter: {e}"))?;
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = provider(service, None)?;
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer(service)))
        .with(json_layer(service, writer));
    Ok((
        subscriber,
        TelemetryGuard {
            provider: Some(provider),
        },
    ))
}

/// The tracer provider: with a batch exporter to `endpoint` when there is one, else local
/// only (ids for the logs, nothing sent).
fn provider(
    service_name: &'static str,
    endpoint: Option<&str>,
) -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::WithExportConfig;
    let builder = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(service_name).build());
    let Some(endpoint) = endpoint else {
        return Ok(builder.build());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| {
            format!("configuration error: GTS_OTLP_ENDPOINT={endpoint:?} is invalid: {e}")
        })?;
    Ok(builder.with_batch_exporter(exporter).build())
}

pub mod json_log {
    //! The JSON line format: `timestamp`, `level`, `service`, `target`, `trace_id`,
    //! `span_id`, `fields` (the event's) and `span` (the current span's name and fields).

    use std::fmt;

    use serde_json::{Map, Value};
    use tracing::{Event, Subscriber, field::Field};
    use tracing_subscriber::{
        fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, format::Writer},
        registry::LookupSpan,
    };

    /// The event formatter.
    pub struct JsonLines {
        service: &'static str,
    }

    impl JsonLines {
        /// Lines naming `service`.
        pub fn new(service: &'static str) -> Self {
            Self { service }
        }
    }

    impl<S, N> FormatEvent<S, N> for JsonLines
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        fn format_event(
            &self,
            ctx: &FmtContext<'_, S, N>,
            mut writer: Writer<'_>,
            event: &Event<'_>,
        ) -> fmt::Result {
            // Records bridged from `log` carry their real level and target in fields.
            let normalized = tracing_log::NormalizeEvent::normalized_metadata(event);
            let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
            let mut line = Map::new();
            line.insert(
                "timestamp".into(),
                Value::String(
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                ),
            );
            line.insert("level".into(), Value::String(metadata.level().to_string()));
            line.insert("service".into(), Value::String(self.service.to_owned()));
            line.insert("target".into(), Value::String(metadata.target().to_owned()));
            if let Some(span) = ctx.lookup_current() {
                let extensions = span.extensions();
                if let Some(otel) = extensions.get::<tracing_opentelemetry::OtelData>() {
                    if let Some(trace_id) = otel.trace_id() {
                        line.insert("trace_id".into(), Value::String(trace_id.to_string()));
                    }
                    if let Some(span_id) = otel.span_id() {
                        line.insert("span_id".into(), Value::String(span_id.to_string()));
                    }
                }
                let mut current = match extensions.get::<FormattedFields<N>>().and_then(|fields| {
                    serde_json::from_str::<Map<String, Value>>(&fields.fields).ok()
                }) {
                    Some(fields) => fields,
                    None => Map::new(),
                };
                current.insert("name".into(), Value::String(span.name().to_owned()));
                line.insert("span".into(), Value::Object(current));
            }
            let mut fields = FieldVisitor(Map::new());
            event.record(&mut fields);
            line.insert("fields".into(), Value::Object(fields.0));
            let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
            writeln!(writer, "{text}")
        }
    }

    struct FieldVisitor(Map<String, Value>);

    /// The `log.*` fields of a bridged record, already in `level` and `target`.
    fn is_log_metadata(field: &Field) -> bool {
        field.name().starts_with("log.")
    }

    impl tracing::field::Visit for FieldVisitor {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if !is_log_metadata(field) {
                self.0
                    .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
            }
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            if !is_log_metadata(field) {
                self.0
                    .insert(field.name().to_owned(), Value::String(value.to_owned()));
            }
        }
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }
    }
}
