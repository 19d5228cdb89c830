//! The codec of every generated client and server: prost, with a small starting encode
//! buffer.
//!
//! Why: tonic's default encoder starts each response body with an 8 KiB buffer and keeps
//! it for the body's whole life. A server stream lives as long as its watcher, and one
//! worker holds thousands of idle `WatchJob` streams whose events are a few hundred bytes;
//! 8 KiB each was over half of a watcher's memory. The buffer still grows to fit any
//! message, so only idle streams are affected. Decoding keeps tonic's defaults.

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// Starting size of an encode buffer.
pub const ENCODE_BUFFER_BYTES: usize = 512;
/// Encoded bytes after which a long stream yields to the runtime (tonic's default).
const YIELD_THRESHOLD_BYTES: usize = 32 * 1024;

/// prost encoding with [`ENCODE_BUFFER_BYTES`] encode buffers.
#[derive(Debug)]
pub struct LeanCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for LeanCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for LeanCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::new(
            ENCODE_BUFFER_BYTES,
            YIELD_THRESHOLD_BYTES,
        ))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(BufferSettings::default())
    }
}
