//! ListJobs cursors: `gts_common::paging`'s token, issued for the `jobs` list, naming the
//! last job of the previous page by (created_at, id), the order the list is sorted in. A
//! token of another list (ListShootouts, ListAssets) is refused.

use chrono::{DateTime, Utc};
use gts_common::paging::{PagePosition, PageTokenError};
use uuid::Uuid;

use crate::error::WorkerError;

const LIST: &str = "jobs";

/// The token that continues after the job (`created_at`, `id`).
pub fn encode(created_at: DateTime<Utc>, id: Uuid) -> String {
    PagePosition {
        created_at_micros: created_at.timestamp_micros(),
        id,
    }
    .encode(LIST)
}

/// The position a token names.
pub fn decode(token: &str) -> Result<(DateTime<Utc>, Uuid), WorkerError> {
    let invalid =
        |error: PageTokenError| WorkerError::InvalidArgument(format!("page_token: {error}"));
    let position = PagePosition::decode(LIST, token)
        .map_err(invalid)?
        .ok_or_else(|| invalid(PageTokenError::Invalid))?;
    let at = DateTime::from_timestamp_micros(position.created_at_micros)
        .ok_or_else(|| invalid(PageTokenError::Invalid))?;
    Ok((at, position.id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        let shootouts = PagePosition {
            created_at_micros: 1,
            id,
        }
        .encode("shootouts");
        for bad in [
            "",
            "!!",
            "bm9wZQ",
            &URL_SAFE_NO_PAD.encode("x:y"),
            &shootouts,
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }
}
