//! Numbers between the database's columns and the contract's types, in both directions.
//!
//! Columns are signed (`integer`, `bigint`) where the contract's fields are often unsigned.
//! A stored value outside the target type is a corrupt row, and a value too large for its
//! column is a bug (validation bounds what is written): either is an error each service
//! logs and answers INTERNAL, never a zero or a clamp that would show a user wrong data.

use std::fmt::Display;

/// A value of `column` that the other side's type cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} is out of range: {value}")]
pub struct CorruptValue {
    pub column: &'static str,
    pub value: String,
}

/// `value` of `column` as a `T` (read from the column, or about to be written to it); out
/// of range is [`CorruptValue`].
pub fn stored<T: TryFrom<S>, S: Copy + Display>(
    column: &'static str,
    value: S,
) -> Result<T, CorruptValue> {
    T::try_from(value).map_err(|_| CorruptValue {
        column,
        value: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn out_of_range_stored_numbers_are_errors_not_zeros() {
        assert_eq!(stored::<u32, i32>("jobs.attempt", 3).unwrap(), 3);
        let corrupt = stored::<u32, i32>("jobs.attempt", -1).unwrap_err();
        assert_eq!(corrupt.to_string(), "jobs.attempt is out of range: -1");
        assert!(stored::<u64, i64>("assets.size_bytes", -5).is_err());
        assert_eq!(
            stored::<u64, i64>("assets.size_bytes", i64::MAX).unwrap(),
            i64::MAX as u64
        );
    }
}
