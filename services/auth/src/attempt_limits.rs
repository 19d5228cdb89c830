//! Fixed-window rate limits in Redis (shared by every replica): the counter is
//! [`gts_common::rate_limit::FixedWindow`], keyed by scope and subject under `auth:rl`.

use std::time::Duration;

use gts_common::{
    rate_limit::{FixedWindow, Verdict},
    redis_conn::RedisHandle,
};

use crate::error::{AuthError, AuthResult};

/// Counts attempts per subject (an IP, a user) and refuses those over the limit.
#[derive(Clone)]
pub struct RateLimiter {
    window: FixedWindow,
}

impl RateLimiter {
    pub fn new(redis: RedisHandle, window: Duration) -> Self {
        Self {
            window: FixedWindow::new(redis, window),
        }
    }

    /// Counts one attempt of `scope` by `subject`; RESOURCE_EXHAUSTED past `limit`
    /// (0 disables the limit).
    pub async fn hit(
        &self,
        scope: &'static str,
        what: &'static str,
        subject: &str,
        limit: u64,
    ) -> AuthResult<()> {
        match self
            .window
            .hit(&["auth", "rl", scope, subject], limit)
            .await?
        {
            Verdict::Allowed => Ok(()),
            Verdict::Limited { retry_after } => Err(AuthError::RateLimited { what, retry_after }),
        }
    }
}
