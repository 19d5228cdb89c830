//! The auth service's configuration.

use gts_common::{ConfigError, Env, settings::ServiceSettings};

/// Everything `gts-auth` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`GTS_AUTH_LISTEN`, default 127.0.0.1:50051), database, Redis, health.
    pub service: ServiceSettings,
}

impl Config {
    /// Reads the configuration; errors name the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, "GTS_AUTH_LISTEN", "127.0.0.1:50051")?,
        })
    }
}
