//! Prometheus metrics of a process.
//!
//! Contract: instrumentation everywhere uses the `metrics` crate's macros (`counter!`,
//! `histogram!`, `gauge!`); this module installs the process-wide recorder of
//! `metrics-exporter-prometheus`, which serves the text exposition format on its own
//! listener (`GTS_METRICS_LISTEN`, e.g. `0.0.0.0:9090`), never on a service's or the
//! console's port. Durations are seconds (`*_seconds`) and become Prometheus histograms
//! with the buckets below; every series carries a `process` label (`gts-worker`, ...).
//! Unset, no recorder is installed and the macros cost next to nothing.
//!
//! The metric names are the operator's reference in docs/configuration.md.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

use crate::config::{ConfigError, Env};

/// Buckets of every `*_seconds` histogram: from a fast unary RPC (250 µs) to a long
/// render (10 min).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Buckets of the render real-time factor (seconds of audio rendered per second).
pub const REALTIME_BUCKETS: &[f64] = &[0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0];

/// Where the metrics are served.
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// `GTS_METRICS_LISTEN`; no endpoint (and no recording) when unset.
    pub listen: Option<SocketAddr>,
}

impl MetricsSettings {
    /// Reads `GTS_METRICS_LISTEN`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            listen: env.optional("GTS_METRICS_LISTEN")?,
        })
    }
}

/// The exporter's builder with the GTS buckets and the `process` label.
pub fn builder(process: &'static str) -> PrometheusBuilder {
    let builder = PrometheusBuilder::new().add_global_label("process", process);
    builder
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), SECONDS_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Suffix("_realtime_factor".to_owned()),
                REALTIME_BUCKETS,
            )
        })
        .unwrap_or_else(|_| PrometheusBuilder::new().add_global_label("process", process))
}

/// Installs the recorder and its HTTP listener. Call once, inside the Tokio runtime.
pub fn install(settings: &MetricsSettings, process: &'static str) -> Result<(), String> {
    let Some(listen) = settings.listen else {
        return Ok(());
    };
    builder(process)
        .with_http_listener(listen)
        .install()
        .map_err(|error| {
            format!("cannot serve metrics on {listen} (GTS_METRICS_LISTEN): {error}")
        })?;
    tracing::info!(address = %listen, "metrics served over HTTP");
    Ok(())
}
