//! Redis: one multiplexed connection manager per process, and key namespacing.
//!
//! Contract: every key a service writes starts with the configured prefix
//! (`GTS_REDIS_PREFIX`, default `gts:`), so tests can run side by side in one Redis and
//! environments can share one instance.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A connection manager plus the key prefix to use with it.
#[derive(Clone)]
pub struct RedisHandle {
    /// Reconnects by itself after Redis comes back.
    pub conn: ConnectionManager,
    prefix: String,
}

impl RedisHandle {
    /// Connects, waiting up to `timeout` for Redis to answer.
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(3);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                Ok(conn) => {
                    return Ok(Self {
                        conn,
                        prefix: prefix.to_owned(),
                    });
                }
                Err(error) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(%error, "Redis not reachable yet; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The namespaced key for `parts` joined by `:`.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        key.push_str(&parts.join(":"));
        key
    }

    /// The configured prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}
