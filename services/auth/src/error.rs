//! The auth service's errors and their one mapping to `tonic::Status`.
//!
//! Raw database and Redis errors are logged here and never reach a client: they are
//! classified (by SQLSTATE for PostgreSQL) into a status with a message a person can act on.

use gts_common::db_error::{database_status, redis_status};
use tonic::Status;

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
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Database(error) => database_status(&error),
            AuthError::Redis(error) => redis_status(&error),
            AuthError::InvalidArgument(message) => Status::invalid_argument(message),
            AuthError::Unauthenticated(message) => Status::unauthenticated(message),
        }
    }
}
