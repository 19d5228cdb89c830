//! The gateway's configuration.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use gts_common::{ConfigError, Env, settings};

/// Everything `gts-gateway` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP listen address for grpc-web, gRPC and downloads (`GTS_GATEWAY_LISTEN`).
    pub listen: SocketAddr,
    /// The auth service (`GTS_AUTH_URL`).
    pub auth_url: String,
    /// The shootout service (`GTS_SHOOTOUT_URL`; like the worker's, one URL or a
    /// comma-separated list, each resolved to every address its host has, see
    /// [`crate::balance`]).
    pub shootout_url: String,
    /// The worker service (`GTS_WORKER_URL`).
    pub worker_url: String,
    /// How often backend hosts are resolved again (`GTS_GATEWAY_RESOLVE_INTERVAL_MS`,
    /// default 5 s).
    pub resolve_interval: Duration,
    /// Calls forwarded at once before new ones are shed with RESOURCE_EXHAUSTED
    /// (`GTS_GATEWAY_MAX_CONCURRENT_CALLS`, default 1024).
    pub max_concurrent_calls: usize,
    /// Deadline given to unary calls that carry none (`GTS_GATEWAY_DEFAULT_DEADLINE_MS`,
    /// default 30 s; streams are never cut by it).
    pub default_deadline: Duration,
    /// Redis, for rate limits (`GTS_REDIS_URL`, required).
    pub redis_url: String,
    /// Redis key prefix (`GTS_REDIS_PREFIX`).
    pub redis_prefix: String,
    /// Browser origins allowed by CORS (`GTS_CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// Dependency probe interval (`GTS_HEALTH_INTERVAL_MS`).
    pub health_interval: Duration,
    /// How long in-flight calls may finish after SIGTERM (`GTS_SHUTDOWN_GRACE_MS`).
    pub shutdown_grace: Duration,
    /// How long start-up waits for Redis (`GTS_STARTUP_TIMEOUT_MS`).
    pub startup_timeout: Duration,
    /// Largest request body accepted (`GTS_GATEWAY_MAX_REQUEST_BYTES`, default 2 MiB:
    /// a 1 MiB upload chunk plus framing, even base64-encoded by grpc-web-text).
    pub max_request_bytes: usize,
    /// Access-JWT verification at the edge (`GTS_JWT_*`; see docs/auth.md).
    pub auth: gts_common::auth::VerifierSettings,
    /// Verifies artifact download links (`GTS_ARTIFACT_URL_KEY`, shared with the worker;
    /// none: every download is refused).
    pub artifact_signer: Option<gts_common::signed_url::UrlSigner>,
    /// The object store artifacts are served from (`GTS_STORAGE_*`, as the worker's).
    pub storage: gts_storage::StorageSettings,
    /// The built web console served at `/` (`GTS_GATEWAY_CONSOLE_DIR`, default `web/dist`).
    pub console_dir: PathBuf,
    /// Calls per minute one signed-in user may make (`GTS_GATEWAY_RATE_LIMIT_USER_PER_MINUTE`,
    /// default 600; 0 turns the limit off).
    pub rate_limit_user_per_minute: u64,
    /// Calls per minute one client IP may make (`GTS_GATEWAY_RATE_LIMIT_IP_PER_MINUTE`,
    /// default 1200; 0 turns the limit off).
    pub rate_limit_ip_per_minute: u64,
    /// The window both limits count in (`GTS_GATEWAY_RATE_WINDOW_MS`, default 60000: the
    /// limits are per minute; tests shorten it to see a window end).
    pub rate_limit_window: Duration,
}

impl Config {
    /// Reads the configuration; errors name the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let backend = |var: &str, default: &str| -> Result<String, ConfigError> {
            Ok(env.url_or(var, &["http", "https"], default)?.to_string())
        };
        let backend_list = |var: &str, default: &str| -> Result<String, ConfigError> {
            let raw: String = env.or(var, default.to_owned())?;
            let urls = raw
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| {
                    Env::from_pairs([(var, part)])
                        .url_or(var, &["http", "https"], part)
                        .map(|url| url.to_string())
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(urls.join(","))
        };
        let origins: String = env.or(
            "GTS_CORS_ORIGINS",
            "http://127.0.0.1:8080,http://localhost:8080".to_owned(),
        )?;
        Ok(Self {
            listen: env.or(
                "GTS_GATEWAY_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            auth_url: backend("GTS_AUTH_URL", "http://127.0.0.1:50051")?,
            shootout_url: backend_list("GTS_SHOOTOUT_URL", "http://127.0.0.1:50052")?,
            worker_url: backend_list("GTS_WORKER_URL", "http://127.0.0.1:50053")?,
            resolve_interval: env
                .millis_or("GTS_GATEWAY_RESOLVE_INTERVAL_MS", Duration::from_secs(5))?,
            max_concurrent_calls: env.or("GTS_GATEWAY_MAX_CONCURRENT_CALLS", 1024usize)?,
            default_deadline: env
                .millis_or("GTS_GATEWAY_DEFAULT_DEADLINE_MS", Duration::from_secs(30))?,
            redis_url: env
                .url(
                    "GTS_REDIS_URL",
                    &["redis", "rediss"],
                    "the Redis URL, e.g. redis://127.0.0.1:6379",
                )?
                .to_string(),
            redis_prefix: env.or("GTS_REDIS_PREFIX", "gts:".to_owned())?,
            cors_origins: origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            health_interval: settings::health_interval(env)?,
            shutdown_grace: settings::shutdown_grace(env)?,
            startup_timeout: env.millis_or("GTS_STARTUP_TIMEOUT_MS", Duration::from_secs(30))?,
            max_request_bytes: env.or("GTS_GATEWAY_MAX_REQUEST_BYTES", 2 * 1024 * 1024)?,
            auth: gts_common::auth::VerifierSettings::from_env(env)?,
            artifact_signer: env
                .optional::<String>("GTS_ARTIFACT_URL_KEY")?
                .map(|key| {
                    gts_common::signed_url::UrlSigner::new(key.as_bytes()).map_err(|error| {
                        ConfigError::Invalid {
                            var: "GTS_ARTIFACT_URL_KEY".to_owned(),
                            value: "***".to_owned(),
                            reason: error.to_string(),
                        }
                    })
                })
                .transpose()?,
            storage: gts_storage::StorageSettings::from_env(env)?,
            console_dir: env.or("GTS_GATEWAY_CONSOLE_DIR", PathBuf::from("web/dist"))?,
            rate_limit_user_per_minute: env.or("GTS_GATEWAY_RATE_LIMIT_USER_PER_MINUTE", 600)?,
            rate_limit_ip_per_minute: env.or("GTS_GATEWAY_RATE_LIMIT_IP_PER_MINUTE", 1200)?,
            rate_limit_window: env
                .millis_or("GTS_GATEWAY_RATE_WINDOW_MS", crate::edge_limits::WINDOW)?
                .max(Duration::from_millis(1)),
        })
    }
}
