//! Expiry of abandoned uploads: a periodic task marks open uploads past `expires_at` as
//! expired and deletes their staging files.

use gts_common::shutdown::Shutdown;
use uuid::Uuid;

use super::{UploadContext, staging};
use crate::error::ShootoutError;

/// Expires every overdue upload now; returns how many.
pub async fn expire_overdue(context: &UploadContext) -> Result<usize, ShootoutError> {
    let expired: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE uploads SET state = 'expired' WHERE state = 'open' AND expires_at <= now() \
         RETURNING id",
    )
    .fetch_all(&context.db)
    .await?;
    for id in &expired {
        staging::remove(&context.settings.staging_dir, *id).await;
    }
    Ok(expired.len())
}

/// Runs [`expire_overdue`] every `cleanup_interval` until shutdown.
pub async fn run(context: UploadContext, shutdown: Shutdown) {
    let mut ticker = tokio::time::interval(context.settings.cleanup_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticker.tick() => match expire_overdue(&context).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "expired abandoned uploads"),
                Err(error) => tracing::warn!(%error, "upload cleanup failed; will retry"),
            },
        }
    }
}
