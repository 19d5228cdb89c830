//! Fixed-window rate limits in Redis, shared by every replica, and the status that refuses
//! a caller over a limit.
//!
//! Contract: [`FixedWindow::hit`] counts one attempt under a key made of the caller's
//! parts plus the window's number (`INCR`, expiring with the window), so replicas share
//! one count per subject and window. Past the limit it answers [`Verdict::Limited`] with
//! the time left in the window; [`resource_exhausted`] turns that into
//! RESOURCE_EXHAUSTED carrying a `google.rpc.RetryInfo` (in `grpc-status-details-bin`),
//! which clients use to wait before retrying. A fixed window admits up to twice the limit
//! across a window boundary; that is the accepted price of one round trip per call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::redis_conn::RedisHandle;

/// Whether an attempt is within the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit (or the limit is off).
    Allowed,
    /// Over the limit until the window ends, `retry_after` from now.
    Limited { retry_after: Duration },
}

/// Counts attempts per key in fixed windows of `window`.
#[derive(Clone)]
pub struct FixedWindow {
    redis: RedisHandle,
    window: Duration,
}

impl FixedWindow {
    pub fn new(redis: RedisHandle, window: Duration) -> Self {
        Self { redis, window }
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts one attempt under `parts` (namespaced by the Redis prefix, the window number
    /// appended); [`Verdict::Limited`] past `limit` (0 disables the limit).
    pub async fn hit(&self, parts: &[&str], limit: u64) -> redis::RedisResult<Verdict> {
        if limit == 0 {
            return Ok(Verdict::Allowed);
        }
        let window_ms = u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let window_index = now_ms / window_ms;
        let index = window_index.to_string();
        let mut key_parts = parts.to_vec();
        key_parts.push(&index);
        let key = self.redis.key(&key_parts);
        let mut conn = self.redis.conn.clone();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .pexpire(&key, i64::try_from(window_ms).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut conn)
            .await?;
        if count > limit {
            // parts are [process, "rl", scope, subject]: label by the first and the scope
            // only, never by the subject (unbounded).
            let scope = format!(
                "{}:{}",
                parts.first().copied().unwrap_or("?"),
                parts.get(2).copied().unwrap_or("?")
            );
            metrics::counter!("gts_rate_limit_refusals_total", "scope" => scope).increment(1);
            let window_end = window_index.saturating_add(1).saturating_mul(window_ms);
            let retry_after = Duration::from_millis(window_end.saturating_sub(now_ms));
            return Ok(Verdict::Limited { retry_after });
        }
        Ok(Verdict::Allowed)
    }
}

/// RESOURCE_EXHAUSTED with `message` and a `google.rpc.RetryInfo` of `retry_after`.
pub fn resource_exhausted(message: impl Into<String>, retry_after: Duration) -> Status {
    Status::with_error_details(
        Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_carries_retry_info() {
        let status = resource_exhausted("slow down", Duration::from_secs(7));
        assert_eq!(status.code(), Code::ResourceExhausted);
        let retry = status
            .get_details_retry_info()
            .and_then(|info| info.retry_delay);
        assert_eq!(retry, Some(Duration::from_secs(7)));
    }
}
