//! Settings every backend service shares: where it listens, its PostgreSQL and Redis,
//! health probing and shutdown timing.

use std::{net::SocketAddr, time::Duration};

use crate::config::{ConfigError, Env};

/// TONE3000's API base unless `GTS_TONE3000_URL` says otherwise.
pub const DEFAULT_TONE3000_URL: &str = "https://www.tone3000.com/api/v1";
/// The OAuth client id (publishable key) unless `GTS_TONE3000_CLIENT_ID` says otherwise.
pub const DEFAULT_TONE3000_CLIENT_ID: &str = "t3k_pub_gts_fake";

/// TONE3000's API base (`GTS_TONE3000_URL`), read alike by every service that calls it.
pub fn tone3000_url(env: &Env) -> Result<url::Url, ConfigError> {
    env.url_or("GTS_TONE3000_URL", &["http", "https"], DEFAULT_TONE3000_URL)
}

/// The TONE3000 OAuth client id (`GTS_TONE3000_CLIENT_ID`).
pub fn tone3000_client_id(env: &Env) -> Result<String, ConfigError> {
    env.or(
        "GTS_TONE3000_CLIENT_ID",
        DEFAULT_TONE3000_CLIENT_ID.to_owned(),
    )
}

/// Shared settings of a backend service.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// gRPC listen address (`GTS_<SERVICE>_LISTEN`).
    pub listen: SocketAddr,
    /// PostgreSQL URL (`GTS_DATABASE_URL`, required).
    pub database_url: String,
    /// Pool size (`GTS_DATABASE_MAX_CONNECTIONS`, default 10).
    pub database_max_connections: u32,
    /// Redis URL (`GTS_REDIS_URL`, required).
    pub redis_url: String,
    /// Prefix of every Redis key (`GTS_REDIS_PREFIX`, default `gts:`).
    pub redis_prefix: String,
    /// How long start-up waits for PostgreSQL and Redis (`GTS_STARTUP_TIMEOUT_MS`, 30 s).
    pub startup_timeout: Duration,
    /// Dependency probe interval (`GTS_HEALTH_INTERVAL_MS`, default 2 s).
    pub health_interval: Duration,
    /// How long in-flight calls may finish after SIGTERM (`GTS_SHUTDOWN_GRACE_MS`, 8 s).
    pub shutdown_grace: Duration,
}

impl ServiceSettings {
    /// Reads the shared settings; `listen_var` is the service's own listen variable.
    pub fn from_env(
        env: &Env,
        listen_var: &str,
        default_listen: &str,
    ) -> Result<Self, ConfigError> {
        let listen = env.or(listen_var, parse_default(default_listen))?;
        let database_url = env
            .url(
                "GTS_DATABASE_URL",
                &["postgres", "postgresql"],
                "the PostgreSQL URL, e.g. postgres://gts:gts@127.0.0.1:5432/gts",
            )?
            .to_string();
        let redis_url = env
            .url(
                "GTS_REDIS_URL",
                &["redis", "rediss"],
                "the Redis URL, e.g. redis://127.0.0.1:6379",
            )?
            .to_string();
        Ok(Self {
            listen,
            database_url,
            database_max_connections: env.or("GTS_DATABASE_MAX_CONNECTIONS", 10)?,
            redis_url,
            redis_prefix: env.or("GTS_REDIS_PREFIX", "gts:".to_owned())?,
            startup_timeout: env.millis_or("GTS_STARTUP_TIMEOUT_MS", Duration::from_secs(30))?,
            health_interval: health_interval(env)?,
            shutdown_grace: shutdown_grace(env)?,
        })
    }
}

/// The probe interval (`GTS_HEALTH_INTERVAL_MS`, default 2 s, at least 50 ms so a typo
/// cannot turn the monitor into a busy loop against PostgreSQL and Redis).
pub fn health_interval(env: &Env) -> Result<Duration, ConfigError> {
    let interval = env.millis_or("GTS_HEALTH_INTERVAL_MS", Duration::from_secs(2))?;
    within(
        "GTS_HEALTH_INTERVAL_MS",
        interval,
        Duration::from_millis(50),
        Duration::from_secs(60),
    )
}

/// The drain period (`GTS_SHUTDOWN_GRACE_MS`, default 8 s, at most 9.5 s so a process
/// always exits within 10 s of SIGTERM).
pub fn shutdown_grace(env: &Env) -> Result<Duration, ConfigError> {
    let grace = env.millis_or("GTS_SHUTDOWN_GRACE_MS", Duration::from_secs(8))?;
    within(
        "GTS_SHUTDOWN_GRACE_MS",
        grace,
        Duration::ZERO,
        Duration::from_millis(9_500),
    )
}

fn within(
    var: &str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<Duration, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            var: var.to_owned(),
            value: value.as_millis().to_string(),
            reason: format!(
                "must be between {} and {} milliseconds",
                min.as_millis(),
                max.as_millis()
            ),
        })
    }
}

fn parse_default(addr: &str) -> SocketAddr {
    addr.parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_bounds_are_enforced_with_the_variable_named() {
        let env = Env::from_pairs([
            ("GTS_HEALTH_INTERVAL_MS", "0"),
            ("GTS_SHUTDOWN_GRACE_MS", "60000"),
        ]);
        let interval = health_interval(&env).unwrap_err().to_string();
        assert!(interval.contains("GTS_HEALTH_INTERVAL_MS"), "{interval}");
        let grace = shutdown_grace(&env).unwrap_err().to_string();
        assert!(grace.contains("GTS_SHUTDOWN_GRACE_MS"), "{grace}");
        let defaults = Env::default();
        assert_eq!(health_interval(&defaults).unwrap(), Duration::from_secs(2));
        assert_eq!(shutdown_grace(&defaults).unwrap(), Duration::from_secs(8));
    }
}
