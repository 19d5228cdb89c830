//! Fixed-window rate limits in Redis (shared by every replica): `INCR` a counter named by
//! scope, subject and window number, expiring with the window.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gts_common::redis_conn::RedisHandle;

use crate::error::{AuthError, AuthResult};

/// Counts attempts per subject (an IP, a user) and refuses those over the limit.
#[derive(Clone)]
pub struct RateLimiter {
    redis: RedisHandle,
    window: Duration,
}

impl RateLimiter {
    pub fn new(redis: RedisHandle, window: Duration) -> Self {
        Self { redis, window }
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
        if limit == 0 {
            return Ok(());
        }
        let window_ms = u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let window_index = now_ms / window_ms;
        let key = self
            .redis
            .key(&["auth", "rl", scope, subject, &window_index.to_string()]);
        let mut conn = self.redis.conn.clone();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .pexpire(&key, i64::try_from(window_ms).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut conn)
            .await?;
        if count > limit {
            let retry_after = Duration::from_millis(
                (window_index + 1) * window_ms - now_ms.min((window_index + 1) * window_ms),
            );
            return Err(AuthError::RateLimited { what, retry_after });
        }
        Ok(())
    }
}
