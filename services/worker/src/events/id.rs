//! Event positions: Redis stream ids (`<ms>-<seq>`), totally ordered.

use std::{fmt, str::FromStr};

/// A position in a job's event log. `0-0` is "before the first event".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId {
    pub ms: u64,
    pub seq: u64,
}

impl EventId {
    /// Before every event.
    pub const ZERO: EventId = EventId { ms: 0, seq: 0 };
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A string that is not a stream id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an event id has the form <ms>-<seq>, e.g. 1700000000000-0")]
pub struct BadEventId;

impl FromStr for EventId {
    type Err = BadEventId;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ms, seq) = text.split_once('-').ok_or(BadEventId)?;
        let digits = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BadEventId);
            }
            part.parse::<u64>().map_err(|_| BadEventId)
        };
        Ok(EventId {
            ms: digits(ms)?,
            seq: digits(seq)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_orders_and_prints() {
        let a: EventId = "1700000000000-3".parse().unwrap();
        let b: EventId = "1700000000000-10".parse().unwrap();
        let c: EventId = "1700000000001-0".parse().unwrap();
        assert!(a < b && b < c && EventId::ZERO < a);
        assert_eq!(b.to_string(), "1700000000000-10");
        for bad in [
            "",
            "1",
            "-1",
            "1-",
            "a-1",
            "1-2-3",
            "+1-2",
            "99999999999999999999-0",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?}");
        }
    }
}
