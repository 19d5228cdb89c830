//! What a verifying process reads from the environment.

use std::time::Duration;

use super::revocation::{self, RevocationList};
use super::{
    claims::{DEFAULT_AUDIENCE, DEFAULT_ISSUER},
    fetch,
    keys::{PublicKeyEntry, parse_public_key_list},
    layer::Authenticator,
    service::{ServiceCredential, ServiceSecret, ServiceVerifier},
    verifier::JwtVerifier,
};
use crate::{
    config::{ConfigError, Env},
    redis_conn::RedisHandle,
    shutdown::Shutdown,
};

/// Verification settings shared by the gateway and every service.
#[derive(Debug, Clone)]
pub struct VerifierSettings {
    /// Expected `iss` (`GTS_JWT_ISSUER`, default `gts-auth`).
    pub issuer: String,
    /// Expected `aud` (`GTS_JWT_AUDIENCE`, default `gts`).
    pub audience: String,
    /// Clock skew tolerated on `exp`/`nbf` (`GTS_JWT_LEEWAY_SECS`, default 10).
    pub leeway_secs: u64,
    /// Public keys by kid (`GTS_JWT_PUBLIC_KEYS`); when empty they are fetched from auth.
    pub public_keys: Vec<PublicKeyEntry>,
    /// Shared secret of service credentials (`GTS_SERVICE_TOKEN`, ≥ 32 characters); none
    /// means every service credential is refused and none can be minted.
    pub service_secret: Option<ServiceSecret>,
    /// The auth service, to fetch keys from (`GTS_AUTH_URL`, default http://127.0.0.1:50051).
    pub auth_url: String,
    /// How long start-up waits for auth's keys (`GTS_STARTUP_TIMEOUT_MS`, default 30 s).
    pub fetch_timeout: Duration,
    /// How often the revoked sessions are read from Redis (`GTS_REVOCATION_POLL_MS`,
    /// default 500 ms).
    pub revocation_poll: Duration,
}

impl VerifierSettings {
    /// Reads the settings; errors name the variable and never print a secret.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let public_keys = match env.optional::<String>("GTS_JWT_PUBLIC_KEYS")? {
            Some(raw) => parse_public_key_list(&raw).map_err(|e| ConfigError::Invalid {
                var: "GTS_JWT_PUBLIC_KEYS".to_owned(),
                value: "(see the variable)".to_owned(),
                reason: e.to_string(),
            })?,
            None => Vec::new(),
        };
        let service_secret = env
            .optional::<String>("GTS_SERVICE_TOKEN")?
            .map(|raw| {
                ServiceSecret::new(&raw).map_err(|reason| ConfigError::Invalid {
                    var: "GTS_SERVICE_TOKEN".to_owned(),
                    value: "***".to_owned(),
                    reason,
                })
            })
            .transpose()?;
        Ok(Self {
            issuer: env.or("GTS_JWT_ISSUER", DEFAULT_ISSUER.to_owned())?,
            audience: env.or("GTS_JWT_AUDIENCE", DEFAULT_AUDIENCE.to_owned())?,
            leeway_secs: env.or("GTS_JWT_LEEWAY_SECS", 10)?,
            public_keys,
            service_secret,
            auth_url: env
                .url_or("GTS_AUTH_URL", &["http", "https"], "http://127.0.0.1:50051")?
                .to_string(),
            fetch_timeout: env.millis_or("GTS_STARTUP_TIMEOUT_MS", Duration::from_secs(30))?,
            revocation_poll: env
                .millis_or("GTS_REVOCATION_POLL_MS", revocation::DEFAULT_POLL_INTERVAL)?,
        })
    }

    /// The verifier of service credentials, if a secret is configured.
    pub fn service_verifier(&self) -> Option<ServiceVerifier> {
        self.service_secret
            .as_ref()
            .map(|s| ServiceVerifier::new(s, self.leeway_secs))
    }

    /// Credentials for calling internal RPCs as `service_name`, if a secret is configured.
    pub fn service_credential(&self, service_name: &str) -> Option<ServiceCredential> {
        self.service_secret
            .as_ref()
            .map(|s| ServiceCredential::new(service_name, s))
    }

    /// A user-token verifier over `keys`.
    pub fn jwt_verifier(&self, keys: &[PublicKeyEntry]) -> JwtVerifier {
        JwtVerifier::new(keys, &self.issuer, &self.audience, self.leeway_secs)
    }

    /// `authenticator`, also refusing revoked sessions: reads the list from Redis once now,
    /// then keeps it current in a background task until `shutdown`.
    pub async fn revoking(
        &self,
        authenticator: Authenticator,
        redis: &RedisHandle,
        shutdown: &Shutdown,
    ) -> Authenticator {
        let list = RevocationList::new();
        if let Err(error) = list.refresh(redis, None).await {
            tracing::warn!(%error, "cannot read revoked sessions from Redis yet; will retry");
        }
        tokio::spawn(revocation::poll(
            list.clone(),
            redis.clone(),
            self.revocation_poll,
            shutdown.clone(),
        ));
        authenticator.with_revocations(list)
    }

    /// The authenticator for a service other than auth: keys from the configuration, or
    /// fetched from auth's `GetPublicKeys` when none are configured.
    pub async fn authenticator(&self, service_name: &str) -> Result<Authenticator, String> {
        let keys = if self.public_keys.is_empty() {
            fetch::public_keys(
                &self.auth_url,
                self.service_credential(service_name),
                self.fetch_timeout,
            )
            .await?
        } else {
            self.public_keys.clone()
        };
        Ok(Authenticator::new(
            self.jwt_verifier(&keys),
            self.service_verifier(),
        ))
    }
}
