//! GTS sessions: a short-lived access JWT plus an opaque, single-use refresh token.
//!
//! Contract: the refresh token is 256 random bits, stored only as its SHA-256. `rotate`
//! swaps it for a new one under a row lock (two concurrent refreshes with one token: one
//! wins, the other sees a rotated token). Presenting a rotated token again is theft
//! evidence: the whole session is revoked, its current refresh token dies with it and its
//! access tokens stop working at auth at once and at the gateway, shootout and worker
//! within about a second (the revoked-sessions feed, `revocations.rs`).

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use gts_common::{auth::AccessClaims, identity::UserIdentity};
use gts_proto::v1::Session;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    error::{AuthError, AuthResult},
    state::AuthState,
    users::timestamp,
};

const REFRESH_TOKEN_PREFIX: &str = "gtsr_";

/// A freshly issued token pair.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub session_id: Uuid,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

impl IssuedSession {
    pub fn into_proto(self) -> Session {
        Session {
            session_id: self.session_id.to_string(),
            access_token: self.access_token,
            access_token_expires_at: Some(timestamp(self.access_expires_at)),
            refresh_token: self.refresh_token,
            refresh_token_expires_at: Some(timestamp(self.refresh_expires_at)),
        }
    }
}

/// SHA-256 of a secret token.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// `bytes` random bytes, base64url.
pub fn random_token(bytes: usize) -> AuthResult<String> {
    let mut buffer = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buffer).map_err(|_| AuthError::Internal("no randomness".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

fn new_refresh_token() -> AuthResult<(String, Vec<u8>)> {
    let token = format!("{REFRESH_TOKEN_PREFIX}{}", random_token(32)?);
    let hash = hash_token(&token);
    Ok((token, hash))
}

fn after(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
}

fn mint_access(
    state: &AuthState,
    user_id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> AuthResult<(String, DateTime<Utc>)> {
    let expires_at = after(now, state.access_token_ttl);
    let claims = AccessClaims {
        sub: user_id.to_string(),
        sid: session_id.to_string(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: expires_at.timestamp(),
        iss: state.issuer.clone(),
        aud: state.audience.clone(),
    };
    let token = state
        .signer
        .sign(&claims)
        .map_err(|e| AuthError::Internal(format!("cannot sign an access token: {e}")))?;
    Ok((token, expires_at))
}

/// Starts a session for `user_id` inside the caller's transaction.
pub async fn create(
    conn: &mut PgConnection,
    state: &AuthState,
    user_id: Uuid,
) -> AuthResult<IssuedSession> {
    let now = Utc::now();
    let session_id = Uuid::now_v7();
    let (refresh_token, refresh_hash) = new_refresh_token()?;
    let refresh_expires_at = after(now, state.refresh_token_ttl);
    sqlx::query(
        "INSERT INTO auth.sessions (id, user_id, refresh_token_hash, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(&refresh_hash)
    .bind(refresh_expires_at)
    .execute(&mut *conn)
    .await?;
    let (access_token, access_expires_at) = mint_access(state, user_id, session_id, now)?;
    Ok(IssuedSession {
        session_id,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct LiveSession {
    id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

/// The user a refresh token belongs to, for per-user rate limiting (current or rotated).
pub async fn owner_of(state: &AuthState, refresh_token: &str) -> AuthResult<Option<Uuid>> {
    let hash = hash_token(refresh_token);
    Ok(sqlx::query_scalar::<_, Uuid>(
        "SELECT user_id FROM auth.sessions WHERE refresh_token_hash = $1
         UNION ALL
         SELECT s.user_id FROM auth.rotated_refresh_tokens r
           JOIN auth.sessions s ON s.id = r.session_id WHERE r.token_hash = $1
         LIMIT 1",
    )
    .bind(&hash)
    .fetch_optional(&state.infra.db)
    .await?)
}

/// Rotates a refresh token; a reused one revokes its session.
pub async fn rotate(state: &AuthState, refresh_token: &str) -> AuthResult<IssuedSession> {
    let hash = hash_token(refresh_token);
    let now = Utc::now();
    let mut tx = state.infra.db.begin().await?;
    let current = sqlx::query_as::<_, LiveSession>(
        "SELECT id, user_id, expires_at, revoked_at FROM auth.sessions
         WHERE refresh_token_hash = $1 FOR UPDATE",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(session) = current else {
        let reused = sqlx::query_scalar::<_, Uuid>(
            "SELECT session_id FROM auth.rotated_refresh_tokens WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        return match reused {
            Some(session_id) => {
                sqlx::query(
                    "UPDATE auth.sessions
                     SET revoked_at = COALESCE(revoked_at, now()),
                         revoked_reason = COALESCE(revoked_reason, 'refresh_token_reuse')
                     WHERE id = $1",
                )
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                tracing::warn!(%session_id, "a rotated refresh token was presented again; session revoked");
                Err(AuthError::Unauthenticated(
                    "this refresh token was already used; the session has been revoked for \
                     safety, sign in again"
                        .to_owned(),
                ))
            }
            None => Err(AuthError::Unauthenticated(
                "unknown refresh token; sign in again".to_owned(),
            )),
        };
    };
    if session.revoked_at.is_some() {
        return Err(AuthError::Unauthenticated(
            "this session was signed out; sign in again".to_owned(),
        ));
    }
    if session.expires_at <= now {
        return Err(AuthError::Unauthenticated(
            "the refresh token has expired; sign in again".to_owned(),
        ));
    }
    let (new_token, new_hash) = new_refresh_token()?;
    let refresh_expires_at = after(now, state.refresh_token_ttl);
    sqlx::query("INSERT INTO auth.rotated_refresh_tokens (token_hash, session_id) VALUES ($1, $2)")
        .bind(&hash)
        .bind(session.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE auth.sessions SET refresh_token_hash = $2, refreshed_at = now(), expires_at = $3
         WHERE id = $1",
    )
    .bind(session.id)
    .bind(&new_hash)
    .bind(refresh_expires_at)
    .execute(&mut *tx)
    .await?;
    let (access_token, access_expires_at) = mint_access(state, session.user_id, session.id, now)?;
    tx.commit().await?;
    Ok(IssuedSession {
        session_id: session.id,
        access_token,
        access_expires_at,
        refresh_token: new_token,
        refresh_expires_at,
    })
}

/// Checks that the caller's session is still live (not revoked, not expired): a signed-out
/// session's access token stops working at auth immediately.
pub async fn require_live(state: &AuthState, identity: UserIdentity) -> AuthResult<()> {
    let live = sqlx::query_scalar::<_, bool>(
        "SELECT revoked_at IS NULL AND expires_at > now() FROM auth.sessions
         WHERE id = $1 AND user_id = $2",
    )
    .bind(identity.session_id)
    .bind(identity.user_id)
    .fetch_optional(&state.infra.db)
    .await?;
    match live {
        Some(true) => Ok(()),
        Some(false) => Err(AuthError::Unauthenticated(
            "this session has been signed out or revoked; sign in again".to_owned(),
        )),
        None => Err(AuthError::Unauthenticated(
            "unknown session; sign in again".to_owned(),
        )),
    }
}

/// Revokes one session of `user_id`; false when it was not live.
pub async fn revoke(state: &AuthState, identity: UserIdentity) -> AuthResult<bool> {
    let result = sqlx::query(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'logout'
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(identity.session_id)
    .bind(identity.user_id)
    .execute(&state.infra.db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every live session of `user_id`; returns how many.
pub async fn revoke_all(state: &AuthState, user_id: Uuid) -> AuthResult<u64> {
    let result = sqlx::query(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'logout_all'
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(&state.infra.db)
    .await?;
    Ok(result.rows_affected())
}
