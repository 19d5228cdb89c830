//! Paging shared by every list RPC (ListShootouts, ListAssets, ListJobs): one page-size
//! limit and one page-token format.
//!
//! Contract: a page token is the base64url text of `<list>:<created_at micros>:<id>` of the
//! last item of the previous page, where `<list>` names the list that issued it. A token
//! from another list (or anything this server did not issue) is refused with a clear
//! message, so a client can never page one list with another's position. Tokens longer
//! than [`MAX_PAGE_TOKEN_CHARS`] are refused before they are decoded.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

/// Largest page any list call returns; a request for more is INVALID_ARGUMENT.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size when the request says 0.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Longest page token accepted (the ones issued are under 100 characters).
pub const MAX_PAGE_TOKEN_CHARS: usize = 256;

/// The effective page size for a request's `page_size`, or what to tell the caller.
pub fn page_size(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        size if size <= MAX_PAGE_SIZE => Ok(size),
        _ => Err(format!(
            "at most {MAX_PAGE_SIZE} items per page; ask for fewer"
        )),
    }
}

/// A position in a newest-first listing: the last item of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    /// The item's creation time, in microseconds since the epoch.
    pub created_at_micros: i64,
    pub id: Uuid,
}

/// Why a page token was refused; the text is safe to show (it never echoes the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenError {
    #[error("this page token is not valid; start again from the first page")]
    Invalid,
    #[error("this page token belongs to another list; start again from the first page")]
    OtherList,
}

impl PagePosition {
    /// The opaque token for this position in `list` (e.g. `"jobs"`).
    pub fn encode(&self, list: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{list}:{}:{}",
            self.created_at_micros,
            self.id.simple()
        ))
    }

    /// Reads a token `list` issued; empty means the first page.
    pub fn decode(list: &str, token: &str) -> Result<Option<Self>, PageTokenError> {
        if token.is_empty() {
            return Ok(None);
        }
        if token.len() > MAX_PAGE_TOKEN_CHARS {
            return Err(PageTokenError::Invalid);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| PageTokenError::Invalid)?;
        let text = String::from_utf8(bytes).map_err(|_| PageTokenError::Invalid)?;
        let mut parts = text.splitn(3, ':');
        let (Some(issuer), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(PageTokenError::Invalid);
        };
        let created_at_micros: i64 = micros.parse().map_err(|_| PageTokenError::Invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| PageTokenError::Invalid)?;
        if issuer != list {
            return Err(PageTokenError::OtherList);
        }
        Ok(Some(Self {
            created_at_micros,
            id,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_round_trip_within_their_list_only() {
        let position = PagePosition {
            created_at_micros: 1_700_000_000_123_456,
            id: Uuid::new_v4(),
        };
        let token = position.encode("shootouts");
        assert_eq!(
            PagePosition::decode("shootouts", &token).unwrap(),
            Some(position)
        );
        assert_eq!(
            PagePosition::decode("assets", &token),
            Err(PageTokenError::OtherList)
        );
        assert_eq!(PagePosition::decode("jobs", "").unwrap(), None);
    }

    #[test]
    fn garbage_and_oversized_tokens_are_refused() {
        let long = "A".repeat(MAX_PAGE_TOKEN_CHARS + 1);
        let untagged = URL_SAFE_NO_PAD.encode(format!("12:{}", Uuid::new_v4()));
        for bad in [
            "!!",
            "bm9wZQ",
            &URL_SAFE_NO_PAD.encode("x:y:z"),
            &untagged,
            &long,
        ] {
            assert_eq!(
                PagePosition::decode("jobs", bad),
                Err(PageTokenError::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(MAX_PAGE_SIZE).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(MAX_PAGE_SIZE + 1).is_err());
    }
}
