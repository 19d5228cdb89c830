//! Small conversions shared by the handlers: ids from requests, timestamps, and opaque
//! cursor page tokens.
//!
//! Contract: a page token is the base64url text of `(created_at micros, id)` of the last
//! item of the previous page; the next page holds the items strictly older in
//! `(created_at, id)` order, so inserts between calls neither repeat nor skip items.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{ShootoutError, invalid};

/// Largest page a list call returns.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size when the request says 0.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// Parses a UUID the client sent in `field`.
///
/// An empty or malformed id is INVALID_ARGUMENT; a well formed id that names nothing the
/// caller owns is answered NOT_FOUND by the caller of this function.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, ShootoutError> {
    if raw.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    Uuid::parse_str(raw.trim()).map_err(|_| {
        invalid(
            field,
            format!("{raw:?} is not an id (expected a UUID such as 0190c8a2-…)"),
        )
    })
}

/// A protobuf timestamp from a database time.
pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The effective page size for a request's `page_size`.
pub fn page_size(field: &str, requested: u32) -> Result<u32, ShootoutError> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        size if size <= MAX_PAGE_SIZE => Ok(size),
        _ => Err(invalid(
            field,
            format!("at most {MAX_PAGE_SIZE} items per page; ask for fewer"),
        )),
    }
}

/// A position in a newest-first listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// The opaque token for this position.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        ))
    }

    /// Reads a token; empty means the first page.
    pub fn decode(field: &str, token: &str) -> Result<Option<Self>, ShootoutError> {
        if token.is_empty() {
            return Ok(None);
        }
        let bad = || {
            invalid(
                field,
                "this page token is not valid; start again from the first page",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (micros, id) = text.split_once(':').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let created_at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Some(Self { created_at, id }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let cursor = Cursor {
            created_at: DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(
            Cursor::decode("page_token", &cursor.encode()).unwrap(),
            Some(cursor)
        );
        assert_eq!(Cursor::decode("page_token", "").unwrap(), None);
        assert!(Cursor::decode("page_token", "!!!").is_err());
        assert!(Cursor::decode("page_token", &URL_SAFE_NO_PAD.encode("12:nope")).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size("page_size", 0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size("page_size", 100).unwrap(), 100);
        assert!(page_size("page_size", 101).is_err());
    }

    #[test]
    fn ids_must_be_uuids() {
        assert!(parse_id("shootout_id", "").is_err());
        assert!(parse_id("shootout_id", "42").is_err());
        let id = Uuid::new_v4();
        assert_eq!(parse_id("shootout_id", &id.to_string()).unwrap(), id);
    }
}
