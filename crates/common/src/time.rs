//! Times on the wire: one conversion from database times to protobuf timestamps.

use chrono::{DateTime, Utc};

/// The protobuf timestamp of `at`.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        // Below 2·10⁹ even in a leap second, so always an i32.
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(999_999_999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_seconds_and_nanoseconds() {
        let at = DateTime::from_timestamp(1_764_633_600, 123_456_789).unwrap();
        let stamp = timestamp(at);
        assert_eq!((stamp.seconds, stamp.nanos), (1_764_633_600, 123_456_789));
    }
}
