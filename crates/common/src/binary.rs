//! The shape of every GTS `main`: read the configuration (one line and exit 2 when it is
//! wrong), install telemetry, run until SIGTERM/SIGINT, exit 0 after a clean drain.

use std::{fmt::Display, future::Future, process::ExitCode};

use crate::{
    config::{ConfigError, Env},
    metrics::{self, MetricsSettings},
    shutdown::Shutdown,
    telemetry::{self, TelemetrySettings},
};

/// Runs a service binary. `load` reads its configuration; `run` serves until the
/// shutdown fires.
pub fn main_with<C, F, Fut, E>(
    service_name: &'static str,
    load: fn(&Env) -> Result<C, ConfigError>,
    run: F,
) -> ExitCode
where
    F: FnOnce(C, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let env = Env::from_process();
    let loaded = load(&env).and_then(|config| {
        let telemetry = TelemetrySettings::from_env(&env, service_name)?;
        let metrics = MetricsSettings::from_env(&env)?;
        Ok((config, telemetry, metrics))
    });
    let (config, telemetry_settings, metrics_settings) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{service_name}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let _telemetry = match telemetry::init(&telemetry_settings) {
            Ok(guard) => guard,
            Err(line) => {
                eprintln!("{line}");
                return ExitCode::from(2);
            }
        };
        if let Err(line) = metrics::install(&metrics_settings, service_name) {
            tracing::error!("{line}");
            eprintln!("{service_name}: {line}");
            return ExitCode::FAILURE;
        }
        let shutdown = Shutdown::on_signals();
        match run(config, shutdown).await {
            Ok(()) => {
                tracing::info!("{service_name} stopped cleanly");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!(%error, "{service_name} failed");
                eprintln!("{service_name}: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
