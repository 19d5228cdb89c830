//! The login flow: StartLogin stores a single-use attempt (hashed `state`, encrypted PKCE
//! verifier, 10-minute expiry) and returns the TONE3000 authorize URL; CompleteLogin
//! consumes the attempt, exchanges the code with the verifier, reads `/user`, then in one
//! transaction upserts the user, stores their TONE3000 tokens encrypted and opens a
//! session. Any failure before that transaction leaves no user and no session behind.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    custody,
    error::{AuthError, AuthResult},
    sessions::{self, IssuedSession, hash_token, random_token},
    state::AuthState,
    upstream::UpstreamError,
    users::{self, UserRow},
};

const MAX_RETURN_TO_LEN: usize = 2048;
const MAX_CODE_LEN: usize = 4096;

/// What StartLogin hands back.
pub struct StartedLogin {
    pub authorize_url: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

/// What CompleteLogin hands back.
pub struct CompletedLogin {
    pub session: IssuedSession,
    pub user: UserRow,
    pub return_to: String,
}

fn verifier_context(state_hash: &[u8]) -> String {
    format!("login-verifier:{}", URL_SAFE_NO_PAD.encode(state_hash))
}

fn check_return_to(return_to: &str) -> AuthResult<()> {
    let local_path = return_to.starts_with('/') && !return_to.starts_with("//");
    if return_to.is_empty()
        || (local_path && !return_to.contains('\\') && return_to.len() <= MAX_RETURN_TO_LEN)
    {
        Ok(())
    } else {
        Err(AuthError::InvalidArgument(
            "return_to must be a path inside the console starting with a single \"/\"".to_owned(),
        ))
    }
}

/// Begins a login attempt.
pub async fn start(state: &AuthState, return_to: &str) -> AuthResult<StartedLogin> {
    check_return_to(return_to)?;
    let verifier = random_token(32)?;
    let challenge = tone3000::pkce::challenge_for(&verifier);
    let login_state = random_token(32)?;
    let state_hash = hash_token(&login_state);
    let sealed = state
        .cipher
        .seal(verifier.as_bytes(), &verifier_context(&state_hash))?;
    let authorize_url = state.tone3000.authorize_url(&challenge, &login_state)?;
    let expires_at = Utc::now()
        + chrono::Duration::from_std(state.login_attempt_ttl).unwrap_or(chrono::Duration::MAX);
    // Expired attempts are useless; drop them as new ones arrive.
    sqlx::query("DELETE FROM auth.login_attempts WHERE expires_at < now() - interval '1 hour'")
        .execute(&state.infra.db)
        .await?;
    sqlx::query(
        "INSERT INTO auth.login_attempts
            (state_hash, pkce_verifier_ciphertext, key_id, return_to, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&state_hash)
    .bind(&sealed.bytes)
    .bind(&sealed.key_id)
    .bind(return_to)
    .bind(expires_at)
    .execute(&state.infra.db)
    .await?;
    Ok(StartedLogin {
        authorize_url,
        state: login_state,
        expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct Attempt {
    pkce_verifier_ciphertext: Vec<u8>,
    key_id: String,
    return_to: String,
    expires_at: DateTime<Utc>,
}

/// Finishes a login attempt.
pub async fn complete(
    state: &AuthState,
    code: &str,
    login_state: &str,
) -> AuthResult<CompletedLogin> {
    if code.is_empty() || code.len() > MAX_CODE_LEN {
        return Err(AuthError::InvalidArgument(
            "code must be the authorization code TONE3000 redirected back with".to_owned(),
        ));
    }
    if login_state.is_empty() {
        return Err(AuthError::InvalidArgument(
            "state must be the state TONE3000 redirected back with".to_owned(),
        ));
    }
    let state_hash = hash_token(login_state);
    // Deleting as it is read makes the state single use, even when what follows fails.
    let attempt = sqlx::query_as::<_, Attempt>(
        "DELETE FROM auth.login_attempts WHERE state_hash = $1
         RETURNING pkce_verifier_ciphertext, key_id, return_to, expires_at",
    )
    .bind(&state_hash)
    .fetch_optional(&state.infra.db)
    .await?
    .ok_or_else(|| {
        AuthError::InvalidArgument(
            "unknown or already used login state; start the sign-in again".to_owned(),
        )
    })?;
    if attempt.expires_at <= Utc::now() {
        return Err(AuthError::FailedPrecondition(
            "this sign-in attempt has expired (they last 10 minutes); start the sign-in again"
                .to_owned(),
        ));
    }
    let verifier = state.cipher.open_string(
        &attempt.key_id,
        &attempt.pkce_verifier_ciphertext,
        &verifier_context(&state_hash),
    )?;
    let exchanged =
        state
            .tone3000
            .exchange(code, &verifier)
            .await
            .map_err(|error| match error {
                UpstreamError::Rejected { error, description } => {
                    AuthError::Unauthenticated(format!(
                        "TONE3000 refused the sign-in ({error}{}); start the sign-in again",
                        description.map(|d| format!(": {d}")).unwrap_or_default()
                    ))
                }
                unavailable => unavailable.into(),
            })?;
    let refresh_token = exchanged
        .tokens
        .refresh_token
        .clone()
        .ok_or_else(|| AuthError::Upstream("TONE3000 issued no refresh token".to_owned()))?;

    let mut tx = state.infra.db.begin().await?;
    let user = users::upsert(
        &mut tx,
        &exchanged.user.id.0,
        &exchanged.user.username,
        exchanged
            .user
            .avatar_url
            .as_deref()
            .filter(|u| !u.is_empty()),
    )
    .await?;
    custody::store(
        &mut tx,
        state,
        user.id,
        &exchanged.tokens.access_token,
        &refresh_token,
        exchanged.tokens.expires_in,
    )
    .await?;
    let session = sessions::create(&mut tx, state, user.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, session_id = %session.session_id, "signed in");
    Ok(CompletedLogin {
        session,
        user,
        return_to: attempt.return_to,
    })
}

/// The user id in a request field.
pub fn parse_user_id(raw: &str) -> AuthResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|_| AuthError::InvalidArgument("user_id must be a UUID".to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn return_to_must_be_a_local_path() {
        assert!(check_return_to("").is_ok());
        assert!(check_return_to("/shootouts/1").is_ok());
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "shootouts",
        ] {
            assert!(check_return_to(bad).is_err(), "{bad}");
        }
    }
}
