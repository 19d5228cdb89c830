//! Small conversions shared by the handlers: ids from requests, timestamps, opaque
//! cursor page tokens, and the bounded echo of client input in error messages.
//!
//! Contract: a page token is `gts_common::paging`'s token naming the list that issued it
//! (`shootouts` or `assets`) and the `(created_at, id)` of the last item of the previous
//! page; the next page holds the items strictly older in `(created_at, id)` order, so
//! inserts between calls neither repeat nor skip items, and a token from another list is
//! refused. Ids longer than [`MAX_ID_CHARS`] are refused before they are parsed and no
//! error message quotes more than `gts_common::echo::MAX_ECHO_CHARS` characters of what a client sent.

use chrono::{DateTime, Utc};
use gts_common::paging::{self, PagePosition};
use uuid::Uuid;

use crate::error::{ShootoutError, invalid};

/// Longest id accepted in any request field (a UUID is 36 characters; 45 as a URN).
pub const MAX_ID_CHARS: usize = 64;
/// Longest etag accepted (the ones issued are under 20 characters).
pub const MAX_ETAG_CHARS: usize = 64;
pub use gts_common::echo::shown;

/// Parses a UUID the client sent in `field`.
///
/// An empty, overlong or malformed id is INVALID_ARGUMENT; a well formed id that names
/// nothing the caller owns is answered NOT_FOUND by the caller of this function.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, ShootoutError> {
    if raw.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    if raw.len() > MAX_ID_CHARS {
        return Err(invalid(
            field,
            format!(
                "is {} characters long; an id is at most {MAX_ID_CHARS} (a UUID such as 0190c8a2-…)",
                raw.chars().count()
            ),
        ));
    }
    Uuid::parse_str(raw.trim()).map_err(|_| {
        invalid(
            field,
            format!(
                "{} is not an id (expected a UUID such as 0190c8a2-…)",
                shown(raw)
            ),
        )
    })
}

/// An optional etag guard: empty (no guard) or at most [`MAX_ETAG_CHARS`] characters.
pub fn etag(field: &str, raw: &str) -> Result<(), ShootoutError> {
    if raw.len() > MAX_ETAG_CHARS {
        return Err(invalid(
            field,
            format!(
                "is {} characters long; an etag is at most {MAX_ETAG_CHARS}; send the one the \
                 last read returned",
                raw.chars().count()
            ),
        ));
    }
    Ok(())
}

pub use gts_common::time::timestamp;

/// The effective page size for a request's `page_size` (the limit every list shares).
pub fn page_size(field: &str, requested: u32) -> Result<u32, ShootoutError> {
    paging::page_size(requested).map_err(|message| invalid(field, message))
}

/// The lists this service pages, each with its own page tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Shootouts,
    Assets,
}

impl List {
    fn tag(self) -> &'static str {
        match self {
            List::Shootouts => "shootouts",
            List::Assets => "assets",
        }
    }
}

/// A position in a newest-first listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// The opaque token for this position in `list`.
    pub fn encode(&self, list: List) -> String {
        PagePosition {
            created_at_micros: self.created_at.timestamp_micros(),
            id: self.id,
        }
        .encode(list.tag())
    }

    /// Reads a token `list` issued; empty means the first page.
    pub fn decode(list: List, field: &str, token: &str) -> Result<Option<Self>, ShootoutError> {
        let position =
            PagePosition::decode(list.tag(), token).map_err(|e| invalid(field, e.to_string()))?;
        let Some(position) = position else {
            return Ok(None);
        };
        let created_at = DateTime::<Utc>::from_timestamp_micros(position.created_at_micros)
            .ok_or_else(|| invalid(field, paging::PageTokenError::Invalid.to_string()))?;
        Ok(Some(Self {
            created_at,
            id: position.id,
        }))
    }
}

#[cfg(test)]
mod tests {
    use gts_common::{echo::MAX_ECHO_CHARS, paging::DEFAULT_PAGE_SIZE};

    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let cursor = Cursor {
            created_at: DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        let token = cursor.encode(List::Shootouts);
        assert_eq!(
            Cursor::decode(List::Shootouts, "page_token", &token).unwrap(),
            Some(cursor)
        );
        assert!(Cursor::decode(List::Assets, "page_token", &token).is_err());
        assert_eq!(
            Cursor::decode(List::Assets, "page_token", "").unwrap(),
            None
        );
        assert!(Cursor::decode(List::Assets, "page_token", "!!!").is_err());
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
        let long = "x".repeat(10 * 1024);
        let ShootoutError::Invalid(violations) = parse_id("shootout_id", &long).unwrap_err() else {
            panic!("an overlong id must be INVALID_ARGUMENT");
        };
        assert!(violations[0].description.len() < 200, "{violations:?}");
        assert!(shown(&long).len() < 2 * MAX_ECHO_CHARS, "{}", shown(&long));
        let id = Uuid::new_v4();
        assert_eq!(parse_id("shootout_id", &id.to_string()).unwrap(), id);
    }
}
