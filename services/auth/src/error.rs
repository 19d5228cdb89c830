//! The auth service's errors and their one mapping to `tonic::Status`.
//!
//! Raw database and Redis errors are logged here and never reach a client: they are
//! classified (by SQLSTATE for PostgreSQL) into a status with a message a person can act
//! on. TONE3000 being down is UNAVAILABLE; TONE3000 refusing a user's grant is
//! FAILED_PRECONDITION ("sign in again"); rate limits carry a `google.rpc.RetryInfo`.

use std::time::Duration;

use gts_common::{
    db_error::{database_status, redis_status},
    rate_limit::resource_exhausted,
};
use tonic::Status;

use crate::{crypto::CipherError, upstream::UpstreamError};

/// Everything an auth RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("not signed in: {0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    NotFound(String),
    /// TONE3000 could not be used right now.
    #[error("TONE3000 is unavailable right now, try again shortly ({0})")]
    Upstream(String),
    /// The user's TONE3000 grant is gone.
    #[error(
        "the user must sign in with TONE3000 again: TONE3000 no longer accepts their authorization"
    )]
    NeedsReauth,
    #[error("too many {what}; try again in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        what: &'static str,
        retry_after: Duration,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<CipherError> for AuthError {
    fn from(error: CipherError) -> Self {
        AuthError::Internal(error.to_string())
    }
}

impl From<UpstreamError> for AuthError {
    fn from(error: UpstreamError) -> Self {
        match error {
            UpstreamError::Unavailable(reason) => AuthError::Upstream(reason),
            rejected @ UpstreamError::Rejected { .. } => {
                AuthError::Unauthenticated(rejected.to_string())
            }
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Database(error) => database_status(&error),
            AuthError::Redis(error) => redis_status(&error),
            AuthError::InvalidArgument(message) => Status::invalid_argument(message),
            AuthError::Unauthenticated(message) => Status::unauthenticated(message),
            AuthError::PermissionDenied(message) => Status::permission_denied(message),
            AuthError::FailedPrecondition(message) => Status::failed_precondition(message),
            AuthError::NotFound(message) => Status::not_found(message),
            error @ AuthError::Upstream(_) => {
                tracing::warn!(%error, "TONE3000 call failed");
                Status::unavailable(error.to_string())
            }
            error @ AuthError::NeedsReauth => Status::failed_precondition(error.to_string()),
            ref error @ AuthError::RateLimited { retry_after, .. } => {
                resource_exhausted(error.to_string(), retry_after)
            }
            AuthError::Internal(message) => {
                tracing::error!(%message, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// Shorthand for handler results.
pub type AuthResult<T> = Result<T, AuthError>;
