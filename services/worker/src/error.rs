//! The worker service's errors and their one mapping to `tonic::Status`.
//!
//! Raw database and Redis errors are logged here and never reach a client: they are
//! classified (by SQLSTATE for PostgreSQL) into a status with a message a person can act on.

use gts_common::db_error::{database_status, redis_status};
use tonic::Status;

/// Everything a worker RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{0}")]
    InvalidArgument(String),
    /// A missing job (or artifact, or shootout), or another user's: the same answer.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    FailedPrecondition(String),
    /// A resume point older than the retained event log.
    #[error("{0}")]
    OutOfRange(String),
    /// A dependency (the shootout service, the artifact store) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data that cannot be decoded: a bug or corruption, never the caller's fault.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<WorkerError> for Status {
    fn from(error: WorkerError) -> Self {
        match error {
            WorkerError::Database(error) => database_status(&error),
            WorkerError::Redis(error) => redis_status(&error),
            WorkerError::InvalidArgument(message) => Status::invalid_argument(message),
            WorkerError::NotFound(what) => Status::not_found(format!("{what} not found")),
            WorkerError::FailedPrecondition(message) => Status::failed_precondition(message),
            WorkerError::OutOfRange(message) => Status::out_of_range(message),
            WorkerError::Unavailable(message) => Status::unavailable(message),
            WorkerError::Corrupt(detail) => {
                tracing::error!(%detail, "corrupt stored data");
                Status::internal("internal error")
            }
        }
    }
}

impl From<gts_common::stored::CorruptValue> for WorkerError {
    fn from(error: gts_common::stored::CorruptValue) -> Self {
        WorkerError::Corrupt(error.to_string())
    }
}

impl From<prost::DecodeError> for WorkerError {
    fn from(error: prost::DecodeError) -> Self {
        WorkerError::Corrupt(error.to_string())
    }
}
