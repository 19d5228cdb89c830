//! Where a chunk goes: the pure arithmetic of `UploadService.PutChunk`, kept apart from
//! the database and the staging file so it can be fuzzed.
//!
//! Contract: given the chunk's offset and length and the upload's declared size and the
//! bytes already received, [`plan_chunk`] either refuses the chunk (a gap, past the
//! declared size, empty or oversized) or says how many of its leading bytes repeat stored
//! ones (to be compared, never rewritten) and where the upload's received count ends.
//! It never panics and never lets `received` exceed `size` or go down.

use super::MAX_CHUNK_BYTES;

/// What to do with an accepted chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    /// Leading bytes of the chunk that cover bytes already stored (to compare).
    pub repeated: usize,
    /// Bytes received once the chunk is stored.
    pub new_received: u64,
}

/// Why a chunk is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkRefusal {
    /// Empty, or longer than [`MAX_CHUNK_BYTES`].
    BadLength,
    /// Starts after the bytes received so far.
    Gap,
    /// Ends past the declared size (`end` is where it ends).
    PastSize { end: u64 },
}

/// Plans a chunk of `len` bytes at `offset` for an upload of `size` bytes of which
/// `received` have arrived.
pub fn plan_chunk(
    offset: u64,
    len: u64,
    received: u64,
    size: u64,
) -> Result<ChunkPlan, ChunkRefusal> {
    if len == 0 || len > u64::from(MAX_CHUNK_BYTES) {
        return Err(ChunkRefusal::BadLength);
    }
    if offset > received {
        return Err(ChunkRefusal::Gap);
    }
    let end = offset.saturating_add(len);
    if end > size {
        return Err(ChunkRefusal::PastSize { end });
    }
    // offset <= received and offset <= end: no underflow; at most len, which fits usize.
    let repeated = usize::try_from(received.min(end) - offset).unwrap_or(0);
    Ok(ChunkPlan {
        repeated,
        new_received: received.max(end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_planned_or_refused() {
        assert_eq!(
            plan_chunk(0, 10, 0, 20),
            Ok(ChunkPlan {
                repeated: 0,
                new_received: 10
            })
        );
        // A retried chunk overlapping what arrived: compare 5, append 5.
        assert_eq!(
            plan_chunk(5, 10, 10, 20),
            Ok(ChunkPlan {
                repeated: 5,
                new_received: 15
            })
        );
        // A chunk wholly inside what arrived: compare it all, nothing new.
        assert_eq!(
            plan_chunk(2, 3, 10, 20),
            Ok(ChunkPlan {
                repeated: 3,
                new_received: 10
            })
        );
        assert_eq!(plan_chunk(11, 1, 10, 20), Err(ChunkRefusal::Gap));
        assert_eq!(
            plan_chunk(15, 10, 20, 20),
            Err(ChunkRefusal::PastSize { end: 25 })
        );
        assert_eq!(plan_chunk(0, 0, 0, 20), Err(ChunkRefusal::BadLength));
        // A saturated end is still bounded by the size.
        assert_eq!(
            plan_chunk(u64::MAX, 1, u64::MAX, u64::MAX),
            Ok(ChunkPlan {
                repeated: 0,
                new_received: u64::MAX
            })
        );
    }
}
