//! The TONE3000 model cache: downloaded model and IR files, content-addressed in the
//! object store, indexed in `worker.model_cache`, bounded by size with LRU eviction.
//!
//! Contract: [`ModelCache::get`] answers the bytes of a model id (checked against the
//! expected SHA-256 when one is known) and marks the entry used; a missing, evicted or
//! corrupt blob is a miss, never an error, because the caller can always download again.
//! [`ModelCache::put`] stores the bytes under `cache/tone3000/<sha256>`, records the entry,
//! then evicts least-recently-used entries until the sizes fit the cap. Cache failures
//! (database or store) are logged and skipped: the cache only ever saves downloads.

use bytes::Bytes;
use gts_storage::{BlobStore, sha256_hex};
use sqlx::PgPool;

/// The key of a cached file with this content hash.
pub fn cache_key(sha256: &str) -> String {
    format!("cache/tone3000/{sha256}")
}

/// Downloaded TONE3000 files.
#[derive(Clone)]
pub struct ModelCache {
    db: PgPool,
    blobs: BlobStore,
    max_bytes: u64,
}

impl ModelCache {
    /// A cache over the worker's database and the object store, holding at most `max_bytes`.
    pub fn new(db: PgPool, blobs: BlobStore, max_bytes: u64) -> Self {
        Self {
            db,
            blobs,
            max_bytes,
        }
    }

    /// The cached bytes of `model_id`, if present (and matching `expected_sha256` when given).
    pub async fn get(&self, model_id: u64, expected_sha256: Option<&str>) -> Option<Bytes> {
        let id = i64::try_from(model_id).ok()?;
        let sha256: Option<String> = sqlx::query_scalar(
            "UPDATE worker.model_cache SET last_used_at = now() WHERE model_id = $1 \
             RETURNING sha256",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await
        .map_err(|error| tracing::warn!(%error, "model cache lookup failed"))
        .ok()?;
        let Some(sha256) = sha256 else {
            metrics::counter!("gts_model_cache_lookups_total", "result" => "miss").increment(1);
            return None;
        };
        if expected_sha256.is_some_and(|expected| expected != sha256) {
            metrics::counter!("gts_model_cache_lookups_total", "result" => "stale").increment(1);
            return None;
        }
        match self.blobs.get_verified(&cache_key(&sha256), &sha256).await {
            Ok(bytes) => {
                metrics::counter!("gts_model_cache_lookups_total", "result" => "hit").increment(1);
                metrics::counter!("gts_model_cache_hit_bytes_total").increment(bytes.len() as u64);
                Some(bytes)
            }
            Err(error) => {
                metrics::counter!("gts_model_cache_lookups_total", "result" => "unusable")
                    .increment(1);
                tracing::info!(%error, model_id, "model cache entry unusable; downloading again");
                None
            }
        }
    }

    /// Caches `bytes` as the file of `model_id`, then evicts down to the cap.
    pub async fn put(&self, model_id: u64, bytes: Bytes) {
        let Ok(id) = i64::try_from(model_id) else {
            return;
        };
        let sha256 = sha256_hex(&bytes);
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        if let Err(error) = self.blobs.put_bytes(&cache_key(&sha256), bytes).await {
            tracing::warn!(%error, "cannot cache a TONE3000 download");
            return;
        }
        let recorded = sqlx::query(
            "INSERT INTO worker.model_cache (model_id, sha256, size_bytes) VALUES ($1, $2, $3) \
             ON CONFLICT (model_id) DO UPDATE SET sha256 = EXCLUDED.sha256, \
             size_bytes = EXCLUDED.size_bytes, last_used_at = now()",
        )
        .bind(id)
        .bind(&sha256)
        .bind(size)
        .execute(&self.db)
        .await;
        if let Err(error) = recorded {
            tracing::warn!(%error, "cannot record a cached TONE3000 download");
            return;
        }
        self.evict().await;
        if let Ok(total) = self.total_bytes().await {
            metrics::gauge!("gts_model_cache_bytes").set(total as f64);
        }
    }

    /// Deletes the least recently used entries beyond the cap, and blobs no entry names.
    async fn evict(&self) {
        let cap = i64::try_from(self.max_bytes).unwrap_or(i64::MAX);
        let evicted: Result<Vec<(String,)>, _> = sqlx::query_as(
            "DELETE FROM worker.model_cache WHERE model_id IN ( \
                 SELECT model_id FROM ( \
                     SELECT model_id, sum(size_bytes) OVER \
                         (ORDER BY last_used_at DESC, model_id) AS running \
                     FROM worker.model_cache) ranked \
                 WHERE running > $1) \
             RETURNING sha256",
        )
        .bind(cap)
        .fetch_all(&self.db)
        .await;
        let evicted = match evicted {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "model cache eviction failed");
                return;
            }
        };
        for (sha256,) in evicted {
            let still_named: Result<bool, _> = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM worker.model_cache WHERE sha256 = $1)",
            )
            .bind(&sha256)
            .fetch_one(&self.db)
            .await;
            if matches!(still_named, Ok(false))
                && let Err(error) = self.blobs.delete(&cache_key(&sha256)).await
            {
                tracing::warn!(%error, "cannot delete an evicted model blob");
            }
        }
    }

    /// Total bytes the index accounts for (tests and metrics).
    pub async fn total_bytes(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(sum(size_bytes), 0)::bigint FROM worker.model_cache")
            .fetch_one(&self.db)
            .await
    }
}
