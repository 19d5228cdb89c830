//! The shootout service's errors and their one mapping to `tonic::Status`.
//!
//! Raw database and Redis errors are logged here and never reach a client: they are
//! classified (by SQLSTATE for PostgreSQL) into a status with a message a person can act on.
//! Validation failures carry field-level `google.rpc.BadRequest` details so a client can
//! point at the offending input.

use std::time::Duration;

use gts_common::db_error::{database_status, redis_status};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid field: its path in the request (e.g. `shootout.chains[2].display_name`)
/// and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Accumulates every problem of a request so the caller can fix them all at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// `Ok(())` when nothing was recorded, else the INVALID_ARGUMENT error.
    pub fn into_result(self) -> Result<(), ShootoutError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ShootoutError::Invalid(self.0))
        }
    }
}

/// A single-field INVALID_ARGUMENT error.
pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> ShootoutError {
    ShootoutError::Invalid(vec![FieldViolation {
        field: field.into(),
        description: description.into(),
    }])
}

/// Everything a shootout RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ShootoutError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// Field-level validation failures (at least one).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// A missing id, or one owned by someone else: the two are indistinguishable on purpose.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is well formed but the current state forbids it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// An etag guard did not match.
    #[error("stale etag")]
    StaleEtag,
    /// A quota or cap was reached.
    #[error("{0}")]
    ResourceExhausted(String),
    /// An upstream asked us to slow down.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Duration,
    },
    /// The object store or the local disk failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// An upstream service failed; the message is safe to show.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data that cannot be read back: a bug or corruption, never the caller's fault.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A status produced elsewhere (identity checks), passed through unchanged.
    #[error("{0}")]
    Status(#[from] Status),
}

impl From<gts_common::stored::CorruptValue> for ShootoutError {
    fn from(error: gts_common::stored::CorruptValue) -> Self {
        ShootoutError::Corrupt(error.to_string())
    }
}

impl From<prost::DecodeError> for ShootoutError {
    fn from(error: prost::DecodeError) -> Self {
        ShootoutError::Corrupt(format!("an undecodable stored message: {error}"))
    }
}

impl From<ShootoutError> for Status {
    fn from(error: ShootoutError) -> Self {
        match error {
            ShootoutError::Database(error) => database_status(&error),
            ShootoutError::Redis(error) => redis_status(&error),
            ShootoutError::Invalid(violations) => bad_request(violations),
            ShootoutError::NotFound(what) => Status::not_found(format!("{what} not found")),
            ShootoutError::FailedPrecondition(message) => Status::failed_precondition(message),
            ShootoutError::StaleEtag => Status::aborted(
                "the shootout changed since you read it (stale etag); read it again and retry",
            ),
            ShootoutError::ResourceExhausted(message) => Status::resource_exhausted(message),
            ShootoutError::RateLimited {
                message,
                retry_after,
            } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                ErrorDetails::with_retry_info(Some(retry_after)),
            ),
            ShootoutError::Storage(error) => {
                tracing::error!(%error, "storage error");
                Status::unavailable("file storage is unavailable; try again shortly")
            }
            ShootoutError::Unavailable(message) => Status::unavailable(message),
            ShootoutError::Corrupt(detail) => {
                tracing::error!(%detail, "corrupt stored data");
                Status::internal("a stored record is damaged; this is our fault, not yours")
            }
            ShootoutError::Status(status) => status,
        }
    }
}

/// Most field violations one reply details (the message still counts them all), so a
/// request with thousands of bad entries gets a reply of bounded size.
pub const MAX_REPORTED_VIOLATIONS: usize = 20;
/// Longest field path or description a reply carries; longer ones are cut (they should
/// never be: messages quote client input through `convert::shown`).
const MAX_VIOLATION_CHARS: usize = 300;
/// Most bytes of field paths and descriptions one reply details: with the message, far
/// below the 16 KiB a peer accepts in headers (the details travel base64 in a trailer).
pub const MAX_DETAILS_BYTES: usize = 4096;

fn bounded(text: String) -> String {
    if text.len() <= MAX_VIOLATION_CHARS {
        return text;
    }
    let mut end = MAX_VIOLATION_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn bad_request(violations: Vec<FieldViolation>) -> Status {
    let violations: Vec<FieldViolation> = violations
        .into_iter()
        .map(|v| FieldViolation {
            field: bounded(v.field),
            description: bounded(v.description),
        })
        .collect();
    let message = match violations.as_slice() {
        [only] => format!("{}: {}", only.field, only.description),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more problem{})",
            first.field,
            first.description,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
        [] => "invalid request".to_owned(),
    };
    let mut details = ErrorDetails::new();
    let mut budget = MAX_DETAILS_BYTES;
    for violation in violations.into_iter().take(MAX_REPORTED_VIOLATIONS) {
        let cost = violation.field.len() + violation.description.len();
        if cost > budget {
            break;
        }
        budget -= cost;
        details.add_bad_request_violation(violation.field, violation.description);
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// Result alias for the service's internals.
pub type Result<T, E = ShootoutError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_become_bad_request_details() {
        let mut violations = Violations::default();
        violations.add("shootout.name", "give the shootout a name");
        violations.add("shootout.chains", "add at least one chain");
        let status = Status::from(violations.into_result().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("shootout.name"));
        let details = status.get_details_bad_request().unwrap();
        assert_eq!(details.field_violations.len(), 2);
        assert_eq!(details.field_violations[1].field, "shootout.chains");
    }

    #[test]
    fn replies_stay_small_whatever_the_violations() {
        let mut violations = Violations::default();
        for i in 0..5000 {
            violations.add(format!("order[{i}]"), "x".repeat(10_000));
        }
        let status = Status::from(violations.into_result().unwrap_err());
        assert!(status.message().len() < 1000, "{}", status.message().len());
        assert!(status.message().contains("4999 more problems"));
        let details = status.get_details_bad_request().unwrap();
        assert!(!details.field_violations.is_empty());
        assert!(details.field_violations.len() <= MAX_REPORTED_VIOLATIONS);
        assert!(
            status.details().len() < MAX_DETAILS_BYTES + 512,
            "{}",
            status.details().len()
        );

        let mut short = Violations::default();
        for i in 0..100 {
            short.add(format!("order[{i}]"), "is listed twice");
        }
        let status = Status::from(short.into_result().unwrap_err());
        let details = status.get_details_bad_request().unwrap();
        assert_eq!(details.field_violations.len(), MAX_REPORTED_VIOLATIONS);
    }

    #[test]
    fn rate_limits_carry_retry_info() {
        let status = Status::from(ShootoutError::RateLimited {
            message: "slow down".into(),
            retry_after: Duration::from_secs(7),
        });
        assert_eq!(status.code(), Code::ResourceExhausted);
        let retry = status.get_details_retry_info().unwrap();
        assert_eq!(retry.retry_delay, Some(Duration::from_secs(7)));
    }
}
