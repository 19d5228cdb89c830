//! The worker service's configuration: shared service settings, the queue and runner
//! tuning, the event log and watch streams, and artifact URLs.
//!
//! Every variable is optional (documented with its default in `docs/worker.md`); a
//! malformed value stops start-up with one line naming the variable.

use std::time::Duration;

use gts_common::{ConfigError, Env, settings::ServiceSettings};

use gts_common::signed_url::UrlSigner;

/// Everything `gts-worker` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`GTS_WORKER_LISTEN`, default 127.0.0.1:50053), database, Redis, health.
    pub service: ServiceSettings,
    /// Access-JWT verification and the service credential (`GTS_JWT_*`, `GTS_SERVICE_TOKEN`,
    /// `GTS_AUTH_URL`; see docs/auth.md).
    pub auth: gts_common::auth::VerifierSettings,
    /// Queue and runner tuning.
    pub queue: QueueSettings,
    /// Event log and watch streams.
    pub events: EventSettings,
    /// Signed artifact URLs.
    pub artifacts: ArtifactSettings,
    /// The shootout service, source of render specs (`GTS_SHOOTOUT_URL`, called with the
    /// service credential from `auth`).
    pub shootout_url: String,
    /// Rendering: inputs, scratch space, the model cache.
    pub render: RenderSettings,
    /// The object store holding uploads, cached models and artifacts (`GTS_STORAGE_*`).
    pub storage: gts_storage::StorageSettings,
}

/// How this process renders.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    /// Where attempts unpack inputs and the engine writes (`GTS_WORKER_SCRATCH_DIR`,
    /// default `<temp>/gts/worker-scratch`).
    pub scratch_dir: std::path::PathBuf,
    /// Chains one job renders at once (`GTS_WORKER_RENDER_THREADS`, default: cores divided
    /// by the job concurrency, at least 1).
    pub threads: usize,
    /// Size cap of the TONE3000 model cache (`GTS_WORKER_MODEL_CACHE_MAX_BYTES`, 2 GiB).
    pub model_cache_max_bytes: u64,
    /// Largest TONE3000 file downloaded (`GTS_WORKER_MAX_DOWNLOAD_BYTES`, 64 MiB).
    pub max_download_bytes: u64,
    /// TONE3000 API base (`GTS_TONE3000_URL`, default `https://www.tone3000.com/api/v1`);
    /// downloads are only made from its origin.
    pub tone3000_url: url::Url,
    /// OAuth client id the TONE3000 client is built with (`GTS_TONE3000_CLIENT_ID`).
    pub tone3000_client_id: String,
}

impl RenderSettings {
    /// Reads the render variables; `concurrency` is the job concurrency already read.
    pub fn from_env(env: &Env, concurrency: usize) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            scratch_dir: env
                .or(
                    "GTS_WORKER_SCRATCH_DIR",
                    gts_storage::default_dir("worker-scratch")
                        .to_string_lossy()
                        .into_owned(),
                )?
                .into(),
            threads: positive(
                "GTS_WORKER_RENDER_THREADS",
                env.or("GTS_WORKER_RENDER_THREADS", (cores / concurrency).max(1))?,
            )?,
            model_cache_max_bytes: env.or("GTS_WORKER_MODEL_CACHE_MAX_BYTES", 2u64 << 30)?,
            max_download_bytes: positive(
                "GTS_WORKER_MAX_DOWNLOAD_BYTES",
                env.or("GTS_WORKER_MAX_DOWNLOAD_BYTES", 64u64 << 20)?,
            )?,
            tone3000_url: gts_common::settings::tone3000_url(env)?,
            tone3000_client_id: gts_common::settings::tone3000_client_id(env)?,
        })
    }
}

/// How jobs are claimed, leased and retried.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Whether this process claims and renders jobs (`GTS_WORKER_RUN_JOBS`, default true);
    /// false makes an API-only replica (jobs, watch streams, artifact URLs).
    pub run_jobs: bool,
    /// Jobs rendered at once by one process (`GTS_WORKER_CONCURRENCY`, default: cores).
    pub concurrency: usize,
    /// Running jobs one user may have at once, over all workers
    /// (`GTS_WORKER_USER_RUNNING_LIMIT`, default 2).
    pub user_running_limit: i64,
    /// Lease length; a worker silent this long loses its job (`GTS_WORKER_LEASE_MS`, 6 s:
    /// with the 1 s sweep, a killed worker's job runs again elsewhere within about 7 s).
    pub lease: Duration,
    /// How often a running job's lease is renewed (`GTS_WORKER_HEARTBEAT_MS`, lease / 3).
    pub heartbeat: Duration,
    /// Fallback claim poll when no notification arrives (`GTS_WORKER_POLL_MS`, 1 s).
    pub poll: Duration,
    /// Attempts before a job fails for good (`GTS_WORKER_MAX_ATTEMPTS`, default 3).
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt (`GTS_WORKER_RETRY_BASE_MS`, 2 s).
    pub retry_base: Duration,
    /// Longest retry delay (`GTS_WORKER_RETRY_MAX_MS`, 60 s).
    pub retry_max: Duration,
    /// Least time between two progress events of one job (`GTS_WORKER_PROGRESS_INTERVAL_MS`, 100 ms).
    pub progress_interval: Duration,
}

/// The per-job event log and the WatchJob streams.
#[derive(Debug, Clone)]
pub struct EventSettings {
    /// Approximate cap of a job's log (`GTS_WORKER_EVENT_LOG_MAXLEN`, default 10 000).
    pub log_max_len: usize,
    /// How long a log outlives its job's end (`GTS_WORKER_EVENT_LOG_TTL_SECS`, 86 400).
    pub log_ttl: Duration,
    /// Heartbeat interval of an idle watch stream (`GTS_WORKER_WATCH_HEARTBEAT_MS`, 15 s).
    pub watch_heartbeat: Duration,
    /// Longest blocking read of a job's shared reader (`GTS_WORKER_READER_BLOCK_MS`, 1 s);
    /// also how long a reader outlives its last watcher.
    pub reader_block: Duration,
    /// Events buffered per job for slow watchers before they catch up from Redis
    /// (`GTS_WORKER_WATCH_BUFFER`, default 256).
    pub watch_buffer: usize,
}

/// Signed download URLs of artifacts.
#[derive(Clone)]
pub struct ArtifactSettings {
    /// Signs URLs (`GTS_ARTIFACT_URL_KEY`, ≥ 32 characters, shared with the gateway);
    /// none means GetArtifactUrl answers FAILED_PRECONDITION.
    pub signer: Option<UrlSigner>,
    /// Public base URL of the gateway (`GTS_ARTIFACT_URL_BASE`, http://127.0.0.1:8080).
    pub url_base: url::Url,
    /// Lifetime of a signed URL (`GTS_ARTIFACT_URL_TTL_SECS`, default 900).
    pub url_ttl: Duration,
}

impl std::fmt::Debug for ArtifactSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactSettings")
            .field("signer", &self.signer.as_ref().map(|_| "***"))
            .field("url_base", &self.url_base.as_str())
            .field("url_ttl", &self.url_ttl)
            .finish()
    }
}

impl Config {
    /// Reads the configuration; errors name the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue = QueueSettings::from_env(env)?;
        Ok(Self {
            service: ServiceSettings::from_env(env, "GTS_WORKER_LISTEN", "127.0.0.1:50053")?,
            auth: gts_common::auth::VerifierSettings::from_env(env)?,
            render: RenderSettings::from_env(env, queue.concurrency)?,
            storage: gts_storage::StorageSettings::from_env(env)?,
            queue,
            events: EventSettings::from_env(env)?,
            artifacts: ArtifactSettings::from_env(env)?,
            shootout_url: env
                .url_or(
                    "GTS_SHOOTOUT_URL",
                    &["http", "https"],
                    "http://127.0.0.1:50052",
                )?
                .to_string(),
        })
    }
}

fn positive<T: PartialOrd + Default + ToString>(var: &str, value: T) -> Result<T, ConfigError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            var: var.to_owned(),
            value: value.to_string(),
            reason: "must be greater than zero".to_owned(),
        })
    }
}

fn positive_duration(var: &str, value: Duration) -> Result<Duration, ConfigError> {
    if value.is_zero() {
        Err(ConfigError::Invalid {
            var: var.to_owned(),
            value: "0".to_owned(),
            reason: "must be greater than zero".to_owned(),
        })
    } else {
        Ok(value)
    }
}

impl QueueSettings {
    /// Reads the `GTS_WORKER_*` queue variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let lease = positive_duration(
            "GTS_WORKER_LEASE_MS",
            env.millis_or("GTS_WORKER_LEASE_MS", Duration::from_secs(6))?,
        )?;
        Ok(Self {
            run_jobs: env.or("GTS_WORKER_RUN_JOBS", true)?,
            concurrency: positive(
                "GTS_WORKER_CONCURRENCY",
                env.or("GTS_WORKER_CONCURRENCY", cores)?,
            )?,
            user_running_limit: positive(
                "GTS_WORKER_USER_RUNNING_LIMIT",
                env.or("GTS_WORKER_USER_RUNNING_LIMIT", 2i64)?,
            )?,
            lease,
            heartbeat: positive_duration(
                "GTS_WORKER_HEARTBEAT_MS",
                env.millis_or("GTS_WORKER_HEARTBEAT_MS", lease / 3)?,
            )?,
            poll: positive_duration(
                "GTS_WORKER_POLL_MS",
                env.millis_or("GTS_WORKER_POLL_MS", Duration::from_secs(1))?,
            )?,
            max_attempts: positive(
                "GTS_WORKER_MAX_ATTEMPTS",
                env.or("GTS_WORKER_MAX_ATTEMPTS", 3i32)?,
            )?,
            retry_base: env.millis_or("GTS_WORKER_RETRY_BASE_MS", Duration::from_secs(2))?,
            retry_max: env.millis_or("GTS_WORKER_RETRY_MAX_MS", Duration::from_secs(60))?,
            progress_interval: env.millis_or(
                "GTS_WORKER_PROGRESS_INTERVAL_MS",
                Duration::from_millis(100),
            )?,
        })
    }
}

impl EventSettings {
    /// Reads the event log and watch variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            log_max_len: positive(
                "GTS_WORKER_EVENT_LOG_MAXLEN",
                env.or("GTS_WORKER_EVENT_LOG_MAXLEN", 10_000usize)?,
            )?,
            log_ttl: Duration::from_secs(positive(
                "GTS_WORKER_EVENT_LOG_TTL_SECS",
                env.or("GTS_WORKER_EVENT_LOG_TTL_SECS", 86_400u64)?,
            )?),
            watch_heartbeat: positive_duration(
                "GTS_WORKER_WATCH_HEARTBEAT_MS",
                env.millis_or("GTS_WORKER_WATCH_HEARTBEAT_MS", Duration::from_secs(15))?,
            )?,
            reader_block: positive_duration(
                "GTS_WORKER_READER_BLOCK_MS",
                env.millis_or("GTS_WORKER_READER_BLOCK_MS", Duration::from_secs(1))?,
            )?,
            watch_buffer: positive(
                "GTS_WORKER_WATCH_BUFFER",
                env.or("GTS_WORKER_WATCH_BUFFER", 256usize)?,
            )?,
        })
    }
}

impl ArtifactSettings {
    /// Reads the artifact URL variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let signer = env
            .optional::<String>("GTS_ARTIFACT_URL_KEY")?
            .map(|key| {
                UrlSigner::new(key.as_bytes()).map_err(|error| ConfigError::Invalid {
                    var: "GTS_ARTIFACT_URL_KEY".to_owned(),
                    value: "***".to_owned(),
                    reason: error.to_string(),
                })
            })
            .transpose()?;
        Ok(Self {
            signer,
            url_base: env.url_or(
                "GTS_ARTIFACT_URL_BASE",
                &["http", "https"],
                "http://127.0.0.1:8080",
            )?,
            url_ttl: Duration::from_secs(positive(
                "GTS_ARTIFACT_URL_TTL_SECS",
                env.or("GTS_ARTIFACT_URL_TTL_SECS", 900u64)?,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn base() -> Vec<(&'static str, String)> {
        vec![
            (
                "GTS_DATABASE_URL",
                "postgres://gts:gts@127.0.0.1/gts".into(),
            ),
            ("GTS_REDIS_URL", "redis://127.0.0.1".into()),
        ]
    }

    #[test]
    fn defaults_apply() {
        let config = Config::from_env(&Env::from_pairs(base())).unwrap();
        assert!(config.queue.concurrency >= 1);
        assert_eq!(config.queue.lease, Duration::from_secs(6));
        assert_eq!(config.queue.heartbeat, Duration::from_secs(2));
        assert_eq!(config.events.watch_heartbeat, Duration::from_secs(15));
        assert!(config.artifacts.signer.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let mut pairs = base();
        pairs.push(("GTS_WORKER_CONCURRENCY", "0".into()));
        let error = Config::from_env(&Env::from_pairs(pairs)).unwrap_err();
        assert!(error.to_string().contains("GTS_WORKER_CONCURRENCY"));

        let mut pairs = base();
        pairs.push(("GTS_ARTIFACT_URL_KEY", "short".into()));
        let error = Config::from_env(&Env::from_pairs(pairs))
            .unwrap_err()
            .to_string();
        assert!(error.contains("GTS_ARTIFACT_URL_KEY"), "{error}");
        assert!(!error.contains("short"), "{error}");
    }
}
