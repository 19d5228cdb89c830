//! The revocation publisher: copies the sessions that ended early from
//! `auth.revoked_sessions` (filled by a trigger on every path that ends a session, see
//! migrations/auth/0002) into Redis, where every verifier reads them
//! (`gts_common::auth::revocation`).
//!
//! Contract: every `interval` it reads the recent rows and publishes those it has not
//! published yet; when Redis fails or lost its data it publishes them all again on the
//! next round, so a revocation reaches Redis at most one round after Redis answers again.
//! Rows past the retention are pruned.

use std::{collections::HashSet, time::Duration};

use chrono::{DateTime, Utc};
use gts_common::{
    auth::revocation,
    infra::Infra,
    shutdown::{Rounds, Shutdown},
};
use uuid::Uuid;

/// Publishes until `shutdown`.
pub async fn run(infra: Infra, interval: Duration, shutdown: Shutdown) {
    let mut published: HashSet<Uuid> = HashSet::new();
    let mut rounds = Rounds::new("publish revoked sessions to Redis", interval, shutdown);
    while rounds.next().await {
        if rounds.record(round(&infra, &mut published).await) {
            // Whatever state Redis is in, everything is published again next round.
            published.clear();
        }
    }
}

async fn round(infra: &Infra, published: &mut HashSet<Uuid>) -> Result<(), String> {
    let retention = chrono::Duration::from_std(revocation::RETENTION).unwrap_or_default();
    let rows: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT session_id, revoked_at FROM auth.revoked_sessions WHERE revoked_at > $1",
    )
    .bind(Utc::now() - retention)
    .fetch_all(&infra.db)
    .await
    .map_err(|e| e.to_string())?;
    if !published.is_empty()
        && !revocation::published(&infra.redis)
            .await
            .map_err(|e| e.to_string())?
    {
        // Redis lost its data (a restart without persistence): publish everything again.
        published.clear();
    }
    let fresh: Vec<(Uuid, std::time::SystemTime)> = rows
        .iter()
        .filter(|(id, _)| !published.contains(id))
        .map(|(id, at)| (*id, (*at).into()))
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    revocation::publish(&infra.redis, &fresh)
        .await
        .map_err(|e| e.to_string())?;
    published.clear();
    published.extend(rows.iter().map(|(id, _)| *id));
    sqlx::query("DELETE FROM auth.revoked_sessions WHERE revoked_at <= $1")
        .bind(Utc::now() - retention)
        .execute(&infra.db)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
