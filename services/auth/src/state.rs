//! What every handler shares: connections, keys, the TONE3000 client and the settings.

use std::time::Duration;

use gts_common::{
    auth::{JwtSigner, PublicKeyEntry},
    infra::Infra,
};

use crate::{
    attempt_limits::RateLimiter,
    config::{Config, RateLimitSettings},
    crypto::TokenCipher,
    upstream::Tone3000,
};

/// Shared state of the auth handlers.
pub struct AuthState {
    pub infra: Infra,
    pub signer: JwtSigner,
    /// Every key a valid token may be signed with: the signing key first, then older ones.
    pub public_keys: Vec<PublicKeyEntry>,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_attempt_ttl: Duration,
    pub cipher: TokenCipher,
    pub tone3000: Tone3000,
    pub limiter: RateLimiter,
    pub limits: RateLimitSettings,
    /// How long a TONE3000 refresh lock is held at most (the upstream timeout plus margin).
    pub refresh_lock_ttl: Duration,
}

impl AuthState {
    pub fn new(config: &Config, infra: Infra) -> Self {
        let signer = JwtSigner::new(config.signing_key.clone());
        let mut public_keys = vec![config.signing_key.public_key().clone()];
        public_keys.extend(
            config
                .verifier
                .public_keys
                .iter()
                .filter(|k| k.key_id != config.signing_key.key_id())
                .cloned(),
        );
        Self {
            limiter: RateLimiter::new(infra.redis.clone(), config.rate_limits.window),
            infra,
            signer,
            public_keys,
            issuer: config.verifier.issuer.clone(),
            audience: config.verifier.audience.clone(),
            access_token_ttl: config.access_token_ttl,
            refresh_token_ttl: config.refresh_token_ttl,
            login_attempt_ttl: config.login_attempt_ttl,
            cipher: config.token_cipher.clone(),
            tone3000: Tone3000::new(config.tone3000.clone()),
            limits: config.rate_limits,
            refresh_lock_ttl: config.tone3000.timeout * 2 + Duration::from_secs(5),
        }
    }
}
