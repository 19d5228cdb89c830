//! The shootout service's errors and their one mapping to `tonic::Status`.
//!
//! Raw database and Redis errors are logged here and never reach a client: they are
//! classified (by SQLSTATE for PostgreSQL) into a status with a message a person can act on.

use gts_common::db_error::{database_status, redis_status};
use tonic::Status;

/// Everything a shootout RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ShootoutError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{0}")]
    InvalidArgument(String),
}

impl From<ShootoutError> for Status {
    fn from(error: ShootoutError) -> Self {
        match error {
            ShootoutError::Database(error) => database_status(&error),
            ShootoutError::Redis(error) => redis_status(&error),
            ShootoutError::InvalidArgument(message) => Status::invalid_argument(message),
        }
    }
}
