//! Numbers read back from the database, in the contract's types.
//!
//! Columns are signed (`integer`, `bigint`) where the contract's fields are often unsigned.
//! A stored value outside the target type is a corrupt row: an error each service logs and
//! answers INTERNAL, never a zero or a clamp that would show a user wrong data.

use std::fmt::Display;

/// A stored value its column's contract type cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} holds {value}")]
pub struct CorruptValue {
    pub column: &'static str,
    pub value: String,
}

/// `value` of `column` as a `T`; out of range is [`CorruptValue`].
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
        assert_eq!(corrupt.to_string(), "jobs.attempt holds -1");
        assert!(stored::<u64, i64>("assets.size_bytes", -5).is_err());
        assert_eq!(
            stored::<u64, i64>("assets.size_bytes", i64::MAX).unwrap(),
            i64::MAX as u64
        );
    }
}
