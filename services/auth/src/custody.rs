//! Custody of the users' TONE3000 tokens.
//!
//! Contract: tokens are stored encrypted (see [`crate::crypto`]). [`access_token`] returns
//! one valid for at least [`EARLY_REFRESH`]; otherwise it refreshes upstream. TONE3000
//! rotates the refresh token on every refresh, so two refreshes in parallel would end the
//! user's TONE3000 session: one caller per user (across replicas) takes a short Redis lock
//! (`SET NX PX`) and refreshes; the others wait for the row's `version` to change and take
//! the new token. A holder that fails because TONE3000 is down leaves a short failure
//! marker so waiters answer UNAVAILABLE at once instead of retrying one after another.
//! A refused refresh marks the user `needs_reauth` (FAILED_PRECONDITION from then on);
//! an unavailable TONE3000 writes nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    error::{AuthError, AuthResult},
    sessions::random_token,
    state::AuthState,
    upstream::UpstreamError,
};

/// A token closer than this to its expiry is refreshed first.
pub const EARLY_REFRESH: Duration = Duration::from_secs(60);
/// Lifetime assumed when TONE3000 does not say (`expires_in` missing).
const DEFAULT_LIFETIME_SECS: u64 = 3600;
/// How often a waiter looks at the row while another caller refreshes.
const WAIT_POLL: Duration = Duration::from_millis(25);
/// How long a failed refresh is remembered for the callers that waited on it.
const FAILURE_MEMORY_MS: u64 = 2000;

/// A TONE3000 access token and its expiry.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

fn context(user_id: Uuid, column: &str) -> String {
    format!("tone3000:{user_id}:{column}")
}

fn expiry(expires_in: Option<u64>) -> DateTime<Utc> {
    let secs = i64::try_from(expires_in.unwrap_or(DEFAULT_LIFETIME_SECS)).unwrap_or(i64::MAX);
    Utc::now() + chrono::Duration::try_seconds(secs).unwrap_or(chrono::Duration::MAX)
}

/// Stores (replaces) a user's tokens inside the caller's transaction.
pub async fn store(
    conn: &mut PgConnection,
    state: &AuthState,
    user_id: Uuid,
    access_token: &str,
    refresh_token: &str,
    expires_in: Option<u64>,
) -> AuthResult<()> {
    let access = state
        .cipher
        .seal(access_token.as_bytes(), &context(user_id, "access"))?;
    let refresh = state
        .cipher
        .seal(refresh_token.as_bytes(), &context(user_id, "refresh"))?;
    sqlx::query(
        "INSERT INTO auth.tone3000_tokens
            (user_id, access_token_ciphertext, refresh_token_ciphertext, key_id, access_expires_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE
            SET access_token_ciphertext = EXCLUDED.access_token_ciphertext,
                refresh_token_ciphertext = EXCLUDED.refresh_token_ciphertext,
                key_id = EXCLUDED.key_id,
                access_expires_at = EXCLUDED.access_expires_at,
                version = auth.tone3000_tokens.version + 1,
                updated_at = now()",
    )
    .bind(user_id)
    .bind(&access.bytes)
    .bind(&refresh.bytes)
    .bind(&access.key_id)
    .bind(expiry(expires_in))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct Stored {
    needs_reauth: bool,
    access_token_ciphertext: Option<Vec<u8>>,
    refresh_token_ciphertext: Option<Vec<u8>>,
    key_id: Option<String>,
    access_expires_at: Option<DateTime<Utc>>,
    version: Option<i64>,
}

impl Stored {
    fn is_fresh(&self) -> bool {
        let margin = chrono::Duration::from_std(EARLY_REFRESH).unwrap_or(chrono::Duration::zero());
        self.access_expires_at
            .is_some_and(|at| at - Utc::now() > margin)
    }
}

async fn load(state: &AuthState, user_id: Uuid) -> AuthResult<Stored> {
    let stored = sqlx::query_as::<_, Stored>(
        "SELECT u.needs_reauth, t.access_token_ciphertext, t.refresh_token_ciphertext, t.key_id,
                t.access_expires_at, t.version
         FROM auth.users u LEFT JOIN auth.tone3000_tokens t ON t.user_id = u.id
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(&state.infra.db)
    .await?
    .ok_or_else(|| AuthError::NotFound(format!("no GTS user {user_id}")))?;
    if stored.needs_reauth || stored.version.is_none() {
        return Err(AuthError::NeedsReauth);
    }
    Ok(stored)
}

/// Opens the stored access token; an unreadable one (lost key) means signing in again.
async fn open_access(state: &AuthState, user_id: Uuid, stored: &Stored) -> AuthResult<AccessToken> {
    let (Some(bytes), Some(key_id), Some(expires_at)) = (
        stored.access_token_ciphertext.as_deref(),
        stored.key_id.as_deref(),
        stored.access_expires_at,
    ) else {
        return Err(AuthError::NeedsReauth);
    };
    match state
        .cipher
        .open_string(key_id, bytes, &context(user_id, "access"))
    {
        Ok(token) => Ok(AccessToken { token, expires_at }),
        Err(error) => {
            tracing::error!(%user_id, %error, "stored TONE3000 token unreadable; the user must sign in again");
            mark_needs_reauth(state, user_id).await?;
            Err(AuthError::NeedsReauth)
        }
    }
}

async fn mark_needs_reauth(state: &AuthState, user_id: Uuid) -> AuthResult<()> {
    sqlx::query("UPDATE auth.users SET needs_reauth = true, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .execute(&state.infra.db)
        .await?;
    Ok(())
}

/// A valid TONE3000 access token for `user_id`, refreshed upstream when needed.
pub async fn access_token(state: &AuthState, user_id: Uuid) -> AuthResult<AccessToken> {
    let deadline = tokio::time::Instant::now() + state.refresh_lock_ttl + Duration::from_secs(2);
    let mut stored = load(state, user_id).await?;
    loop {
        if stored.is_fresh() {
            return open_access(state, user_id, &stored).await;
        }
        let lock = RefreshLock::new(state, user_id)?;
        if lock.try_acquire(state.refresh_lock_ttl).await? {
            let result = refresh_holding_lock(state, user_id, &lock).await;
            lock.release().await;
            return result;
        }
        // Someone else is refreshing: wait for their write, or for the lock to go.
        let seen = stored.version;
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Err(AuthError::Upstream(
                    "timed out waiting for a TONE3000 token refresh in progress".to_owned(),
                ));
            }
            tokio::time::sleep(WAIT_POLL).await;
            let now = load(state, user_id).await?;
            if now.version != seen {
                return open_access(state, user_id, &now).await;
            }
            if !lock.is_held().await? {
                if let Some(reason) = lock.recent_failure().await? {
                    return Err(AuthError::Upstream(reason));
                }
                stored = now;
                break;
            }
        }
    }
}

async fn refresh_holding_lock(
    state: &AuthState,
    user_id: Uuid,
    lock: &RefreshLock,
) -> AuthResult<AccessToken> {
    // The row may have been refreshed between our read and the lock.
    let stored = load(state, user_id).await?;
    if stored.is_fresh() {
        return open_access(state, user_id, &stored).await;
    }
    let (Some(bytes), Some(key_id), Some(version)) = (
        stored.refresh_token_ciphertext.as_deref(),
        stored.key_id.as_deref(),
        stored.version,
    ) else {
        return Err(AuthError::NeedsReauth);
    };
    let refresh_token = match state
        .cipher
        .open_string(key_id, bytes, &context(user_id, "refresh"))
    {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%user_id, %error, "stored TONE3000 refresh token unreadable");
            mark_needs_reauth(state, user_id).await?;
            return Err(AuthError::NeedsReauth);
        }
    };
    match state.tone3000.refresh(&refresh_token).await {
        Ok(tokens) => {
            let new_refresh = tokens.refresh_token.clone().unwrap_or(refresh_token);
            let mut tx = state.infra.db.begin().await?;
            let current: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM auth.tone3000_tokens WHERE user_id = $1 FOR UPDATE",
            )
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            if current == Some(version) {
                store(
                    &mut tx,
                    state,
                    user_id,
                    &tokens.access_token,
                    &new_refresh,
                    tokens.expires_in,
                )
                .await?;
                tx.commit().await?;
            } else {
                // A new sign-in replaced the tokens meanwhile; keep those.
                tx.rollback().await?;
            }
            tracing::info!(%user_id, "TONE3000 token refreshed");
            Ok(AccessToken {
                token: tokens.access_token,
                expires_at: expiry(tokens.expires_in),
            })
        }
        Err(UpstreamError::Rejected { error, .. }) => {
            tracing::warn!(%user_id, %error, "TONE3000 refused the refresh; the user must sign in again");
            mark_needs_reauth(state, user_id).await?;
            Err(AuthError::NeedsReauth)
        }
        Err(UpstreamError::Unavailable(reason)) => {
            lock.remember_failure(&reason).await;
            Err(AuthError::Upstream(reason))
        }
    }
}

/// The per-user refresh lock in Redis, owned by a random value.
struct RefreshLock {
    redis: gts_common::redis_conn::RedisHandle,
    key: String,
    failure_key: String,
    owner: String,
}

impl RefreshLock {
    fn new(state: &AuthState, user_id: Uuid) -> AuthResult<Self> {
        let user = user_id.to_string();
        Ok(Self {
            redis: state.infra.redis.clone(),
            key: state.infra.redis.key(&["auth", "t3k-refresh-lock", &user]),
            failure_key: state
                .infra
                .redis
                .key(&["auth", "t3k-refresh-failed", &user]),
            owner: random_token(16)?,
        })
    }

    async fn try_acquire(&self, ttl: Duration) -> AuthResult<bool> {
        let mut conn = self.redis.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(&self.key)
            .arg(&self.owner)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .query_async(&mut conn)
            .await?;
        if set.is_some() {
            // A fresh attempt: forget an older failure.
            let _: () = redis::cmd("DEL")
                .arg(&self.failure_key)
                .query_async(&mut conn)
                .await?;
        }
        Ok(set.is_some())
    }

    async fn is_held(&self) -> AuthResult<bool> {
        let mut conn = self.redis.conn.clone();
        let exists: bool = redis::cmd("EXISTS")
            .arg(&self.key)
            .query_async(&mut conn)
            .await?;
        Ok(exists)
    }

    async fn recent_failure(&self) -> AuthResult<Option<String>> {
        let mut conn = self.redis.conn.clone();
        Ok(redis::cmd("GET")
            .arg(&self.failure_key)
            .query_async(&mut conn)
            .await?)
    }

    async fn remember_failure(&self, reason: &str) {
        let mut conn = self.redis.conn.clone();
        let result: redis::RedisResult<()> = redis::cmd("SET")
            .arg(&self.failure_key)
            .arg(reason)
            .arg("PX")
            .arg(FAILURE_MEMORY_MS)
            .query_async(&mut conn)
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "cannot record a failed refresh");
        }
    }

    /// Deletes the lock only if this caller still owns it.
    async fn release(&self) {
        let script = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
        );
        let mut conn = self.redis.conn.clone();
        let result: redis::RedisResult<i64> = script
            .key(&self.key)
            .arg(&self.owner)
            .invoke_async(&mut conn)
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "cannot release the TONE3000 refresh lock; it will expire");
        }
    }
}
