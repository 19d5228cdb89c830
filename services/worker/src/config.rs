//! The worker service's configuration.

use gts_common::{ConfigError, Env, settings::ServiceSettings};

/// Everything `gts-worker` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`GTS_WORKER_LISTEN`, default 127.0.0.1:50053), database, Redis, health.
    pub service: ServiceSettings,
}

impl Config {
    /// Reads the configuration; errors name the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, "GTS_WORKER_LISTEN", "127.0.0.1:50053")?,
        })
    }
}
