//! Audio decoding (symphonia) to mono `f32`.
//!
//! Contract: WAV, FLAC, MP3, AIFF and OGG/Vorbis decode to one mono channel (the mean
//! of all channels) at the file's own rate. Every malformed, empty, absurd-rate or
//! over-long file is a typed [`RenderError`], never a panic; the sample count is
//! bounded before it can grow without limit.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::{RenderError, Result};

/// Lowest sample rate accepted (below it a guitar's range does not fit).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate accepted.
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Upper bound on decoded length, in seconds, so a hostile file cannot exhaust memory.
pub const MAX_DURATION_SECONDS: u64 = 20 * 60;

/// Mono audio at a known rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Samples, nominally in -1..=1.
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
}

impl MonoAudio {
    /// Duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// Decodes `path`, downmixes to mono and checks rate, length and finiteness.
///
/// The decoder is third-party code that can still panic on hostile headers (symphonia's
/// WAV reader overflows on absurd channel counts), so a panic becomes a decode error.
pub fn decode_file(path: &Path, max_seconds: u64) -> Result<MonoAudio> {
    std::panic::catch_unwind(|| decode_unguarded(path, max_seconds)).unwrap_or_else(|_| {
        Err(RenderError::Decode {
            path: path.to_path_buf(),
            reason: "malformed in a way the decoder cannot read safely".into(),
        })
    })
}

fn decode_unguarded(path: &Path, max_seconds: u64) -> Result<MonoAudio> {
    let file = File::open(path).map_err(|e| RenderError::io(path, e))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let decode_error = |reason: String| RenderError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    let invalid = |reason: String| RenderError::InvalidAudio {
        path: path.to_path_buf(),
        reason,
    };

    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| decode_error(format!("unrecognised format ({e})")))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| decode_error("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| decode_error("track has no audio codec parameters".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| decode_error(format!("unsupported codec ({e})")))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut sample_rate: Option<u32> = None;
    let mut max_frames: usize = usize::MAX;
    let mut bad_packets = 0usize;
    let mut good_packets = 0usize;

    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // Truncated files end with an unexpected EOF: keep what decoded.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(decode_error(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(e) => return Err(decode_error(e.to_string())),
        };
        good_packets += 1;
        let rate = buffer.spec().rate();
        let channels = buffer.spec().channels().count();
        match sample_rate {
            None => {
                if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
                    return Err(invalid(format!(
                        "sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE}"
                    )));
                }
                sample_rate = Some(rate);
                max_frames = usize::try_from(u64::from(rate).saturating_mul(max_seconds))
                    .unwrap_or(usize::MAX);
            }
            Some(first) if first != rate => {
                return Err(invalid(format!(
                    "sample rate changes mid-stream ({first} → {rate} Hz)"
                )));
            }
            Some(_) => {}
        }
        if channels == 0 {
            return Err(invalid("zero channels".into()));
        }
        buffer.copy_to_vec_interleaved(&mut interleaved);
        if mono.len().saturating_add(buffer.frames()) > max_frames {
            return Err(invalid(format!("longer than {max_seconds} s")));
        }
        let scale = 1.0 / channels as f32;
        mono.extend(
            interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() * scale),
        );
    }

    let sample_rate = sample_rate.ok_or_else(|| invalid("no decodable audio".into()))?;
    if mono.is_empty() {
        return Err(invalid("no samples".into()));
    }
    // A file that is mostly corrupt is refused rather than rendered with holes.
    if bad_packets > good_packets {
        return Err(decode_error(format!(
            "{bad_packets} of {} packets are corrupt",
            bad_packets + good_packets
        )));
    }
    if mono.iter().any(|s| !s.is_finite()) {
        return Err(invalid("contains NaN or infinite samples".into()));
    }
    Ok(MonoAudio {
        samples: mono,
        sample_rate,
    })
}
