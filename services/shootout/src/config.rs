//! The shootout service's configuration.

use std::{path::PathBuf, time::Duration};

use gts_common::{ConfigError, Env, settings::ServiceSettings};
use gts_storage::StorageSettings;

/// Everything `gts-shootout` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`GTS_SHOOTOUT_LISTEN`, default 127.0.0.1:50052), database, Redis, health.
    pub service: ServiceSettings,
    /// Access-JWT verification and the service credential (`GTS_JWT_*`, `GTS_SERVICE_TOKEN`,
    /// `GTS_AUTH_URL`; see docs/auth.md).
    pub auth: gts_common::auth::VerifierSettings,
    /// Where blobs go (`GTS_STORAGE_BACKEND`, `GTS_STORAGE_DIR`, `GTS_S3_*`).
    pub storage: StorageSettings,
    /// Uploads in progress.
    pub uploads: UploadSettings,
    /// TONE3000 API base URL (`GTS_TONE3000_URL`, default `https://www.tone3000.com/api/v1`).
    pub tone3000_url: url::Url,
    /// OAuth client id the TONE3000 client is built with (`GTS_TONE3000_CLIENT_ID`,
    /// default `t3k_pub_gts_fake`; only identifies the app, the user's token authorises).
    pub tone3000_client_id: String,
    /// How long a library answer is reused per user and query (`GTS_LIBRARY_CACHE_TTL_MS`,
    /// default 60 s; 0 disables the cache).
    pub library_cache_ttl: Duration,
}

/// Limits and housekeeping of uploads.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// Local directory holding the bytes of unfinished uploads
    /// (`GTS_UPLOAD_STAGING_DIR`, default `<temp>/gts/uploads`).
    pub staging_dir: PathBuf,
    /// Bytes a user's assets and open uploads may use (`GTS_UPLOAD_QUOTA_BYTES`, 2 GiB).
    pub quota_bytes: u64,
    /// Unfinished uploads a user may have at once (`GTS_UPLOAD_MAX_OPEN`, default 5).
    pub max_open: u32,
    /// Idle time after which an unfinished upload expires (`GTS_UPLOAD_TTL_MS`, 24 h).
    pub ttl: Duration,
    /// How often expired uploads are cleaned up (`GTS_UPLOAD_CLEANUP_INTERVAL_MS`, 5 min).
    pub cleanup_interval: Duration,
}

impl Config {
    /// Reads the configuration; errors name the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, "GTS_SHOOTOUT_LISTEN", "127.0.0.1:50052")?,
            auth: gts_common::auth::VerifierSettings::from_env(env)?,
            storage: StorageSettings::from_env(env)?,
            tone3000_url: gts_common::settings::tone3000_url(env)?,
            tone3000_client_id: gts_common::settings::tone3000_client_id(env)?,
            library_cache_ttl: env
                .millis_or("GTS_LIBRARY_CACHE_TTL_MS", Duration::from_secs(60))?,
            uploads: UploadSettings {
                staging_dir: env
                    .or(
                        "GTS_UPLOAD_STAGING_DIR",
                        gts_storage::default_dir("uploads")
                            .to_string_lossy()
                            .into_owned(),
                    )?
                    .into(),
                quota_bytes: env.or("GTS_UPLOAD_QUOTA_BYTES", 2 * 1024 * 1024 * 1024)?,
                max_open: env.or("GTS_UPLOAD_MAX_OPEN", 5)?,
                ttl: env.millis_or("GTS_UPLOAD_TTL_MS", Duration::from_secs(24 * 3600))?,
                cleanup_interval: env
                    .millis_or("GTS_UPLOAD_CLEANUP_INTERVAL_MS", Duration::from_secs(300))?,
            },
        })
    }
}
