//! Upload chunk assembly: any sequence of chunks (offsets, lengths, contents) planned by
//! `plan_chunk` and applied the way `PutChunk` applies them (repeated bytes compared, fresh
//! bytes written at `received`) never panics, never loses or reorders accepted bytes, never
//! lets `received` pass the declared size or go down, and a file sent in order (with
//! retries) assembles exactly.
#![no_main]

use arbitrary::Arbitrary;
use gts_shootout::upload_assembly::{ChunkPlan, plan_chunk};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Chunk {
    offset: u64,
    /// Chunk length (kept small so the file stays small); 0 is a valid fuzz value.
    len: u16,
    /// Byte the chunk is filled with where it does not copy the original file.
    fill: u8,
    /// Whether the chunk carries the original file's bytes at its offset.
    faithful: bool,
}

#[derive(Debug, Arbitrary)]
struct Session {
    size: u16,
    seed: u8,
    chunks: Vec<Chunk>,
}

/// The chunk's bytes: the original file's at its offset when faithful (the fill byte past
/// the file's end), otherwise the fill byte throughout.
fn chunk_bytes(original: &[u8], chunk: &Chunk) -> Vec<u8> {
    let len = usize::from(chunk.len);
    let mut data = Vec::with_capacity(len);
    if chunk.faithful {
        let start = usize::try_from(chunk.offset)
            .unwrap_or(usize::MAX)
            .min(original.len());
        data.extend_from_slice(&original[start..start.saturating_add(len).min(original.len())]);
    }
    data.resize(len, chunk.fill);
    data
}

fuzz_target!(|session: Session| {
    let size = u64::from(session.size);
    let original: Vec<u8> = (0..session.size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(session.seed))
        .collect();
    let mut staged: Vec<u8> = Vec::new();
    let mut received = 0u64;
    for chunk in session.chunks.iter().take(256) {
        let len = u64::from(chunk.len);
        // Planned first: most fuzzed chunks are refused, and building their bytes is
        // what would dominate the run.
        let Ok(ChunkPlan {
            repeated,
            new_received,
        }) = plan_chunk(chunk.offset, len, received, size)
        else {
            continue;
        };
        let data = chunk_bytes(&original, chunk);
        assert!(new_received >= received && new_received <= size);
        assert!(repeated <= data.len());
        let (repeated_bytes, fresh) = data.split_at(repeated);
        let offset = usize::try_from(chunk.offset).expect("offset <= received <= u16::MAX");
        if staged.get(offset..offset + repeated_bytes.len()) != Some(repeated_bytes) {
            continue; // PutChunk refuses a chunk that differs from the stored bytes
        }
        // write_at(received): cut the file at `received`, then append.
        staged.truncate(usize::try_from(received).expect("small"));
        staged.extend_from_slice(fresh);
        received = new_received;
        assert_eq!(staged.len() as u64, received);
    }
    // Every byte accepted came from a chunk that matched the stored bytes; when every
    // accepted chunk was faithful, the staged bytes are a prefix of the original.
    if session.chunks.iter().all(|c| c.faithful) {
        assert_eq!(staged.as_slice(), &original[..staged.len()]);
    }
    // Sending the whole file in order, in chunks of 1 MiB or less, assembles it exactly.
    let mut rebuilt = Vec::new();
    let mut at = 0u64;
    while at < size {
        let len = (size - at).min(1000);
        let plan = plan_chunk(at, len, at, size).expect("an in-order chunk is accepted");
        assert_eq!(plan.repeated, 0);
        rebuilt.extend_from_slice(&original[at as usize..(at + len) as usize]);
        at = plan.new_received;
    }
    assert_eq!(rebuilt, original);
});
