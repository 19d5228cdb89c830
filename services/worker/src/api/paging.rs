//! ListJobs cursors: an opaque token naming the last job of the previous page by
//! (created_at, id), the order the list is sorted in.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::WorkerError;

/// The token that continues after the job (`created_at`, `id`).
pub fn encode(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", created_at.timestamp_micros()))
}

/// The position a token names.
pub fn decode(token: &str) -> Result<(DateTime<Utc>, Uuid), WorkerError> {
    let invalid =
        || WorkerError::InvalidArgument("page_token is not a token this server issued".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (micros, id) = text.split_once(':').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((at, id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        for bad in ["", "!!", "bm9wZQ", &URL_SAFE_NO_PAD.encode("x:y")] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }
}
