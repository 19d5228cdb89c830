//! Audio file encoders for mono `f32` buffers: 24-bit PCM WAV (`hound`) and
//! 24-bit FLAC (`flacenc`, pure Rust, single-threaded so output is
//! byte-for-byte reproducible, with a guard against an encoder cost
//! mis-estimate that otherwise produces oversized frames).
//!
//! Contract: samples are quantised by [`to_i24`]: NaN becomes 0, values are
//! clamped to [-1, 1 - 2^-23] and rounded to the nearest 24-bit step, so a
//! stray NaN or overshoot never panics or wraps around.

use std::path::Path;

use flacenc::component::BitRepr;
use flacenc::error::Verify;

use crate::MediaError;

/// Full scale of a 24-bit signed sample (2^23).
const I24_SCALE: f32 = 8_388_608.0;
const I24_MAX: i32 = 8_388_607;
const I24_MIN: i32 = -8_388_608;
/// FLAC's STREAMINFO stores the rate in 20 bits.
const FLAC_MAX_SAMPLE_RATE: u32 = 655_350;

/// Quantises one sample to a signed 24-bit integer (NaN → 0, clamped).
pub fn to_i24(sample: f32) -> i32 {
    if sample.is_nan() {
        return 0;
    }
    // Clamp in float first so infinities become full scale, then clamp the
    // integer: +1.0 would round to 2^23, which does not fit.
    let scaled = (sample.clamp(-1.0, 1.0) * I24_SCALE).round() as i32;
    scaled.clamp(I24_MIN, I24_MAX)
}

/// Converts a 24-bit integer sample back to `f32` in [-1, 1).
pub fn from_i24(sample: i32) -> f32 {
    sample as f32 / I24_SCALE
}

fn check_rate(sample_rate: u32) -> Result<(), MediaError> {
    if sample_rate == 0 {
        return Err(MediaError::InvalidInput("sample rate is 0".into()));
    }
    Ok(())
}

/// Writes a mono 24-bit PCM WAV file.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), MediaError> {
    check_rate(sample_rate)?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(|e| match e {
        hound::Error::IoError(source) => MediaError::io(path, source),
        other => MediaError::Wav(other),
    })?;
    for &sample in samples {
        writer.write_sample(to_i24(sample))?;
    }
    writer.finalize()?;
    Ok(())
}

/// Writes a mono 24-bit FLAC file (block size 4096, MD5 in STREAMINFO).
pub fn write_flac24(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), MediaError> {
    let bytes = encode_flac24(samples, sample_rate)?;
    std::fs::write(path, bytes).map_err(|e| MediaError::io(path, e))
}

/// Encodes a mono 24-bit FLAC stream in memory.
pub fn encode_flac24(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>, MediaError> {
    check_rate(sample_rate)?;
    if sample_rate > FLAC_MAX_SAMPLE_RATE {
        return Err(MediaError::InvalidInput(format!(
            "sample rate {sample_rate} Hz exceeds FLAC's limit of {FLAC_MAX_SAMPLE_RATE} Hz"
        )));
    }
    let ints: Vec<i32> = samples.iter().map(|&s| to_i24(s)).collect();
    // flacenc 0.5.1's fixed-predictor path mis-chooses Rice parameters on
    // ordinary material (plucks after silence, a tone turning into noise)
    // and emits frames 20× larger than verbatim, so it is never used; every
    // frame is still checked against its verbatim size, with verbatim coding
    // as the last resort.
    let attempts = [Predictors::LpcOnly, Predictors::VerbatimOnly];
    for predictors in attempts {
        let mut stream = encode_stream(&ints, sample_rate, predictors)?;
        if !all_frames_bounded(&stream) {
            continue;
        }
        // A fixed-block-size stream declares min = max = the block size (as
        // libFLAC does); flacenc would declare the short last block as the
        // minimum, which decoders reject when it is under 16 samples.
        stream
            .stream_info_mut()
            .set_block_sizes(BLOCK_SIZE, BLOCK_SIZE)
            .map_err(|e| MediaError::Flac(e.to_string()))?;
        let mut sink = flacenc::bitsink::ByteSink::new();
        stream
            .write(&mut sink)
            .map_err(|e| MediaError::Flac(e.to_string()))?;
        return Ok(sink.as_slice().to_vec());
    }
    Err(MediaError::Flac(
        "encoder produced oversized frames with every predictor setting".into(),
    ))
}

/// Samples per FLAC frame (flacenc's default).
const BLOCK_SIZE: usize = 4096;
/// Room for frame and subframe headers on top of the verbatim payload.
const FRAME_OVERHEAD_BITS: usize = 1024;

#[derive(Clone, Copy)]
enum Predictors {
    LpcOnly,
    VerbatimOnly,
}

fn encode_stream(
    ints: &[i32],
    sample_rate: u32,
    predictors: Predictors,
) -> Result<flacenc::component::Stream, MediaError> {
    let mut config = flacenc::config::Encoder::default();
    config.block_size = BLOCK_SIZE;
    // Single-threaded: deterministic output and no surprise CPU use in the worker.
    config.multithread = false;
    let coding = &mut config.subframe_coding;
    coding.use_fixed = false;
    match predictors {
        Predictors::LpcOnly => {}
        Predictors::VerbatimOnly => coding.use_lpc = false,
    }
    let config = config
        .into_verified()
        .map_err(|(_, e)| MediaError::Flac(format!("config: {e}")))?;
    let source = flacenc::source::MemSource::from_samples(ints, 1, 24, sample_rate as usize);
    flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| MediaError::Flac(e.to_string()))
}

/// True when no frame is larger than storing its samples verbatim.
fn all_frames_bounded(stream: &flacenc::component::Stream) -> bool {
    (0..stream.frame_count()).all(|index| {
        stream.frame(index).is_some_and(|frame| {
            frame.count_bits() <= frame.block_size() * 24 + FRAME_OVERHEAD_BITS
        })
    })
}
