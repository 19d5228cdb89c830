//! The TONE3000 library, read with the caller's own TONE3000 token.
//!
//! Contract: the token comes from a [`Tone3000TokenSource`] (in production the auth
//! service's `AuthInternal.GetTone3000AccessToken`, called with this service's credential,
//! shared with the worker through `gts_common::tone3000_token`);
//! each call builds a `tone3000::Client` for that token. Answers are cached in Redis per
//! user and query for a short time, so paging back and forth does not spend TONE3000's rate
//! limit. TONE3000's 429 becomes RESOURCE_EXHAUSTED with `google.rpc.RetryInfo`; its 401
//! becomes FAILED_PRECONDITION (sign in to TONE3000 again); other failures become clear
//! statuses, never raw upstream text.

pub mod convert;

use std::{sync::Arc, time::Duration};

use gts_common::redis_conn::RedisHandle;
use redis::AsyncCommands;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ShootoutError;

pub use gts_common::tone3000_token::{AuthServiceTokenSource, Tone3000TokenSource};

/// What the library handler needs.
#[derive(Clone)]
pub struct LibraryContext {
    pub tokens: Arc<dyn Tone3000TokenSource>,
    /// TONE3000 API base URL (`GTS_TONE3000_URL`).
    pub base_url: String,
    /// The OAuth client id the `tone3000` client is built with (`GTS_TONE3000_CLIENT_ID`).
    pub client_id: String,
    pub redis: RedisHandle,
    /// How long an answer is reused (`GTS_LIBRARY_CACHE_TTL_MS`, 60 s; 0 disables).
    pub cache_ttl: Duration,
}

impl LibraryContext {
    /// A client acting as `user`.
    pub async fn client_for(&self, user: Uuid) -> Result<tone3000::Client, ShootoutError> {
        let token = self
            .tokens
            .access_token(user)
            .await
            .map_err(ShootoutError::from)?;
        Ok(tone3000::Client::builder(self.client_id.clone())
            .base_url(self.base_url.trim_end_matches('/'))
            .access_token(token)
            .auto_refresh(false)
            .build())
    }

    fn cache_key(&self, user: Uuid, endpoint: &str, params: &str) -> String {
        let digest = hex::encode(Sha256::digest(params.as_bytes()));
        self.redis
            .key(&["library", endpoint, &user.simple().to_string(), &digest])
    }

    /// A cached answer, if any (a cache failure is a miss).
    pub async fn cached<M: prost::Message + Default>(
        &self,
        user: Uuid,
        endpoint: &str,
        params: &str,
    ) -> Option<M> {
        if self.cache_ttl.is_zero() {
            return None;
        }
        let mut conn = self.redis.conn.clone();
        let bytes: Option<Vec<u8>> = conn
            .get(self.cache_key(user, endpoint, params))
            .await
            .map_err(|error| tracing::warn!(%error, "library cache read failed"))
            .ok()
            .flatten();
        bytes.and_then(|b| M::decode(b.as_slice()).ok())
    }

    /// Remembers an answer for `cache_ttl`.
    pub async fn remember<M: prost::Message>(
        &self,
        user: Uuid,
        endpoint: &str,
        params: &str,
        answer: &M,
    ) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let mut conn = self.redis.conn.clone();
        let seconds = self.cache_ttl.as_secs().max(1);
        let stored: Result<(), _> = conn
            .set_ex(
                self.cache_key(user, endpoint, params),
                answer.encode_to_vec(),
                seconds,
            )
            .await;
        if let Err(error) = stored {
            tracing::warn!(%error, "library cache write failed");
        }
    }
}

/// Maps a TONE3000 client error to what the caller sees.
pub fn upstream_error(error: tone3000::Error, what: &'static str) -> ShootoutError {
    match error {
        tone3000::Error::RateLimited { retry_after, .. } => ShootoutError::RateLimited {
            message: "TONE3000 is rate limiting requests; wait a moment and try again".into(),
            retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
        },
        tone3000::Error::Unauthorized | tone3000::Error::Unauthenticated => {
            ShootoutError::FailedPrecondition(
                "TONE3000 no longer accepts your sign-in; sign in with TONE3000 again".into(),
            )
        }
        tone3000::Error::Forbidden => ShootoutError::Status(tonic::Status::permission_denied(
            format!("this {what} is private on TONE3000"),
        )),
        tone3000::Error::Status { code: 404, .. } => ShootoutError::NotFound(what),
        tone3000::Error::Status { code, .. } if (400..500).contains(&code) => {
            ShootoutError::Status(tonic::Status::invalid_argument(format!(
                "TONE3000 refused this request (HTTP {code}); check the filters"
            )))
        }
        other => {
            tracing::warn!(error = %other, "TONE3000 call failed");
            ShootoutError::Unavailable(
                "TONE3000 is unavailable or answered unexpectedly; try again shortly".into(),
            )
        }
    }
}
