//! The auth service's configuration.
//!
//! Everything beyond the shared settings has a default: the real TONE3000 API (`run.sh`
//! and the tests point `GTS_TONE3000_URL` at the fake), the gateway on 127.0.0.1:8080. Without
//! `GTS_JWT_SIGNING_KEY` or `GTS_TOKEN_ENCRYPTION_KEYS` a random key is made at start-up
//! (with a warning): sessions and stored TONE3000 tokens then do not survive a restart.

use std::time::Duration;

use gts_common::{
    ConfigError, Env,
    auth::{SigningKey, VerifierSettings},
    settings::ServiceSettings,
};

use crate::crypto::TokenCipher;

/// The longest access-token lifetime allowed.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Everything `gts-auth` reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`GTS_AUTH_LISTEN`, default 127.0.0.1:50051), database, Redis, health.
    pub service: ServiceSettings,
    /// Issuer, audience, leeway, older public keys, service secret.
    pub verifier: VerifierSettings,
    /// The key that signs access JWTs (`GTS_JWT_SIGNING_KEY` PKCS#8 PEM, with
    /// `GTS_JWT_SIGNING_KEY_ID`, default `k1`).
    pub signing_key: SigningKey,
    /// Access JWT lifetime (`GTS_ACCESS_TOKEN_TTL_SECS`, default and maximum 900).
    pub access_token_ttl: Duration,
    /// Refresh token lifetime (`GTS_REFRESH_TOKEN_TTL_SECS`, default 30 days).
    pub refresh_token_ttl: Duration,
    /// Login attempt lifetime (`GTS_LOGIN_ATTEMPT_TTL_SECS`, default 600).
    pub login_attempt_ttl: Duration,
    /// TONE3000 and the OAuth client.
    pub tone3000: Tone3000Settings,
    /// Keys for the TONE3000 tokens at rest (`GTS_TOKEN_ENCRYPTION_KEYS`).
    pub token_cipher: TokenCipher,
    /// Rate limits of StartLogin/CompleteLogin/Refresh.
    pub rate_limits: RateLimitSettings,
    /// Variables left unset whose key was generated at random (warned about at start-up).
    pub generated_keys: Vec<&'static str>,
}

/// TONE3000 API and OAuth client settings.
#[derive(Debug, Clone)]
pub struct Tone3000Settings {
    /// API base (`GTS_TONE3000_URL`, default `https://www.tone3000.com/api/v1`, as shootout).
    pub base_url: String,
    /// The same API as the user's browser reaches it, for the authorize URL
    /// (`GTS_TONE3000_BROWSER_URL`, default `base_url`): differs only where the services
    /// and the browser use different names for TONE3000, as with the fake in docker
    /// compose (`http://fake-tone3000:8787` inside, `http://127.0.0.1:8787` on the host).
    pub browser_url: String,
    /// OAuth client id / publishable key (`GTS_TONE3000_CLIENT_ID`, default `t3k_pub_gts_fake`).
    pub client_id: String,
    /// Where TONE3000 sends the browser back (`GTS_TONE3000_REDIRECT_URI`,
    /// default http://127.0.0.1:8080/auth/callback).
    pub redirect_uri: String,
    /// Upper bound on one TONE3000 call (`GTS_TONE3000_TIMEOUT_MS`, default 5000).
    pub timeout: Duration,
}

/// Fixed-window rate limits, per client IP and per user.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    /// Attempts per window per IP (`GTS_AUTH_RATE_LIMIT_PER_IP`, default 30; 0 = off).
    pub per_ip: u64,
    /// Refresh attempts per window per user (`GTS_AUTH_RATE_LIMIT_PER_USER`, default 30; 0 = off).
    pub per_user: u64,
    /// The window (`GTS_AUTH_RATE_WINDOW_SECS`, default 60).
    pub window: Duration,
}

impl Config {
    /// Reads the configuration; errors name the variable and never print a secret.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let service = ServiceSettings::from_env(env, "GTS_AUTH_LISTEN", "127.0.0.1:50051")?;
        let verifier = VerifierSettings::from_env(env)?;
        let mut generated = Vec::new();
        let signing_key = signing_key(env, &mut generated)?;
        let access_token_ttl = Duration::from_secs(env.or("GTS_ACCESS_TOKEN_TTL_SECS", 900)?);
        if access_token_ttl.is_zero() || access_token_ttl > MAX_ACCESS_TOKEN_TTL {
            return Err(ConfigError::Invalid {
                var: "GTS_ACCESS_TOKEN_TTL_SECS".to_owned(),
                value: access_token_ttl.as_secs().to_string(),
                reason: "must be between 1 and 900 seconds".to_owned(),
            });
        }
        let base_url = gts_common::settings::tone3000_url(env)?
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let redirect_uri = env
            .url_or(
                "GTS_TONE3000_REDIRECT_URI",
                &["http", "https"],
                "http://127.0.0.1:8080/auth/callback",
            )?
            .to_string();
        let token_cipher = match env.optional::<String>("GTS_TOKEN_ENCRYPTION_KEYS")? {
            Some(raw) => TokenCipher::from_config(&raw).map_err(|reason| ConfigError::Invalid {
                var: "GTS_TOKEN_ENCRYPTION_KEYS".to_owned(),
                value: "***".to_owned(),
                reason,
            })?,
            None => {
                generated.push("GTS_TOKEN_ENCRYPTION_KEYS");
                TokenCipher::random().map_err(|reason| ConfigError::Invalid {
                    var: "GTS_TOKEN_ENCRYPTION_KEYS".to_owned(),
                    value: String::new(),
                    reason,
                })?
            }
        };
        Ok(Self {
            service,
            verifier,
            signing_key,
            access_token_ttl,
            refresh_token_ttl: Duration::from_secs(
                env.or("GTS_REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            ),
            login_attempt_ttl: Duration::from_secs(env.or("GTS_LOGIN_ATTEMPT_TTL_SECS", 600)?),
            tone3000: Tone3000Settings {
                browser_url: match env.optional::<url::Url>("GTS_TONE3000_BROWSER_URL")? {
                    Some(url) => url.to_string().trim_end_matches('/').to_owned(),
                    None => base_url.clone(),
                },
                base_url,
                client_id: gts_common::settings::tone3000_client_id(env)?,
                redirect_uri,
                timeout: env.millis_or("GTS_TONE3000_TIMEOUT_MS", Duration::from_secs(5))?,
            },
            token_cipher,
            generated_keys: generated,
            rate_limits: RateLimitSettings {
                per_ip: env.or("GTS_AUTH_RATE_LIMIT_PER_IP", 30)?,
                per_user: env.or("GTS_AUTH_RATE_LIMIT_PER_USER", 30)?,
                window: Duration::from_secs(env.or("GTS_AUTH_RATE_WINDOW_SECS", 60)?.max(1)),
            },
        })
    }
}

fn signing_key(env: &Env, generated: &mut Vec<&'static str>) -> Result<SigningKey, ConfigError> {
    let key_id: String = env.or("GTS_JWT_SIGNING_KEY_ID", "k1".to_owned())?;
    let invalid = |var: &str, reason: String| ConfigError::Invalid {
        var: var.to_owned(),
        value: "***".to_owned(),
        reason,
    };
    match env.optional::<String>("GTS_JWT_SIGNING_KEY")? {
        Some(pem) => SigningKey::from_pkcs8_pem(&key_id, &pem)
            .map_err(|e| invalid("GTS_JWT_SIGNING_KEY", e.to_string())),
        None => {
            generated.push("GTS_JWT_SIGNING_KEY");
            let random_id = format!("dev-{}", uuid::Uuid::new_v4().simple());
            SigningKey::generate(&random_id)
                .map_err(|e| invalid("GTS_JWT_SIGNING_KEY", e.to_string()))
        }
    }
}
