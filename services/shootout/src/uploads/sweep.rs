//! Expiry of abandoned uploads: a periodic task marks open uploads past `expires_at` as
//! expired and deletes their staging files.

use gts_common::shutdown::{Rounds, Shutdown};
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
    let interval = context.settings.cleanup_interval;
    let mut rounds = Rounds::new("expire abandoned uploads", interval, shutdown);
    while rounds.next().await {
        let outcome = expire_overdue(&context).await.map(|count| {
            if count > 0 {
                tracing::info!(count, "expired abandoned uploads");
            }
        });
        rounds.record(outcome);
    }
}
