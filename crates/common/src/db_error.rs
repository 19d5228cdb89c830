//! Classification of database errors by SQLSTATE.
//!
//! Contract: services never send a database error's text to a client. They classify it
//! here and map the class to a `tonic::Status` in their own error module; the raw error
//! is only logged.

/// What a database error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorClass {
    /// 23505: a row with the same key exists.
    UniqueViolation,
    /// 23503: a referenced row is missing or still referenced.
    ForeignKeyViolation,
    /// 23514 / 23502 / 22xxx: the data broke a constraint or was out of range.
    InvalidData,
    /// 40001 / 40P01: serialization failure or deadlock; the operation may be retried.
    Conflict,
    /// The database could not be reached, or a pool timed out; retry later.
    Unavailable,
    /// No row where exactly one was expected.
    NotFound,
    /// Anything else: an internal error.
    Internal,
}

/// Classifies an sqlx error by its SQLSTATE (or its kind where there is none).
pub fn classify(error: &sqlx::Error) -> DbErrorClass {
    match error {
        sqlx::Error::RowNotFound => DbErrorClass::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            DbErrorClass::Unavailable
        }
        sqlx::Error::Tls(_) => DbErrorClass::Unavailable,
        sqlx::Error::Database(db) => classify_sqlstate(db.code().as_deref().unwrap_or("")),
        _ => DbErrorClass::Internal,
    }
}

/// Classifies a SQLSTATE code.
pub fn classify_sqlstate(code: &str) -> DbErrorClass {
    match code {
        "23505" => DbErrorClass::UniqueViolation,
        "23503" => DbErrorClass::ForeignKeyViolation,
        "23514" | "23502" => DbErrorClass::InvalidData,
        "40001" | "40P01" => DbErrorClass::Conflict,
        // Class 08: connection exception; 57P0x: the server is shutting down.
        code if code.starts_with("08") || code.starts_with("57P0") => DbErrorClass::Unavailable,
        code if code.starts_with("53") => DbErrorClass::Unavailable,
        code if code.starts_with("22") => DbErrorClass::InvalidData,
        _ => DbErrorClass::Internal,
    }
}

/// The status a class maps to by default, with a message safe to show to a person.
pub fn default_status(class: DbErrorClass) -> tonic::Status {
    match class {
        DbErrorClass::UniqueViolation => tonic::Status::already_exists("that item already exists"),
        DbErrorClass::ForeignKeyViolation => {
            tonic::Status::failed_precondition("a referenced item is missing or still in use")
        }
        DbErrorClass::InvalidData => tonic::Status::invalid_argument("a value is out of range"),
        DbErrorClass::Conflict => {
            tonic::Status::aborted("a concurrent change conflicted with this one; try again")
        }
        DbErrorClass::Unavailable => {
            tonic::Status::unavailable("the database is unavailable; try again shortly")
        }
        DbErrorClass::NotFound => tonic::Status::not_found("not found"),
        DbErrorClass::Internal => tonic::Status::internal("internal error"),
    }
}

/// Logs a database error and returns the status a client may see.
pub fn database_status(error: &sqlx::Error) -> tonic::Status {
    tracing::error!(%error, "database error");
    default_status(classify(error))
}

/// Logs a Redis error and returns the status a client may see.
pub fn redis_status(error: &redis::RedisError) -> tonic::Status {
    tracing::error!(%error, "redis error");
    tonic::Status::unavailable("a backing store is unavailable; try again shortly")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_classes() {
        assert_eq!(classify_sqlstate("23505"), DbErrorClass::UniqueViolation);
        assert_eq!(
            classify_sqlstate("23503"),
            DbErrorClass::ForeignKeyViolation
        );
        assert_eq!(classify_sqlstate("40P01"), DbErrorClass::Conflict);
        assert_eq!(classify_sqlstate("08006"), DbErrorClass::Unavailable);
        assert_eq!(classify_sqlstate("57P01"), DbErrorClass::Unavailable);
        assert_eq!(classify_sqlstate("22003"), DbErrorClass::InvalidData);
        assert_eq!(classify_sqlstate("XX000"), DbErrorClass::Internal);
    }

    #[test]
    fn statuses_never_carry_raw_database_text() {
        let status = default_status(DbErrorClass::Internal);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.message(), "internal error");
        assert_eq!(
            classify(&sqlx::Error::PoolTimedOut),
            DbErrorClass::Unavailable
        );
    }
}
