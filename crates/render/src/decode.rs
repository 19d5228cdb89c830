//! Audio decoding (symphonia) to mono `f32`.
//!
//! Contract: WAV, FLAC, MP3, AIFF and OGG/Vorbis decode to one mono channel (the mean
//! of all channels) at the file's own rate. Every malformed, empty, absurd-rate or
//! over-long file is a typed [`RenderError`], never a panic; the sample count is
//! bounded before it can grow without limit.
//!
//! This is the one audio front: [`AudioStream`] checks WAV/AIFF headers itself
//! ([`check_header`]: channels, rate, block align, sample size) before symphonia parses
//! them, then decodes packet by packet. The render's [`decode_file`] and the shootout
//! service's upload checks both read audio through it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
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

/// Most channels a file may declare (real DI tracks and IRs have one or two; symphonia's
/// WAV reader overflows on absurd counts, so they are refused before it runs).
pub const MAX_CHANNELS: u16 = 8;

/// Why an audio file cannot be opened or decoded (the one front shared by the render and
/// the shootout service's upload checks, each wording it for its reader).
#[derive(Debug)]
pub enum AudioFault {
    /// The file cannot be read.
    Io(std::io::Error),
    /// The header declares an impossible channel count.
    Channels(String),
    /// The header states impossible sizes, rates or layouts.
    Header(String),
    /// Not a format GTS reads, or no audio track.
    Unrecognised(String),
    /// A packet failed to decode (corrupt data).
    Packet(String),
    /// The stream changes rate or channel count part-way.
    Inconsistent(String),
}

impl std::fmt::Display for AudioFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Channels(m)
            | Self::Header(m)
            | Self::Unrecognised(m)
            | Self::Packet(m)
            | Self::Inconsistent(m) => f.write_str(m),
        }
    }
}

/// What a container's header declares, read before any decoder runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// symphonia's short name (`wave`, `flac`, `mp3`, `aiff`, `ogg`).
    pub container: &'static str,
    /// Declared frames, when the container states them.
    pub declared_frames: Option<u64>,
    /// Declared rate, Hz.
    pub declared_rate: Option<u32>,
    /// Declared channels.
    pub declared_channels: Option<usize>,
    /// Bits per sample of lossless formats.
    pub bits_per_sample: Option<u32>,
}

/// One decoded buffer's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSpec {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels (interleaved).
    pub channels: usize,
    /// Frames in the buffer.
    pub frames: usize,
}

/// An open, header-checked audio file, decoded packet by packet.
pub struct AudioStream {
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::audio::AudioDecoder>,
    track_id: u32,
    /// What the header declares.
    pub info: StreamInfo,
    first: Option<(u32, usize)>,
}

impl AudioStream {
    /// Checks the WAV/AIFF header ([`check_header`]) and opens the file with symphonia.
    pub fn open(path: &Path) -> std::result::Result<Self, AudioFault> {
        let mut file = File::open(path).map_err(AudioFault::Io)?;
        check_header(&mut file)?;
        file.seek(SeekFrom::Start(0)).map_err(AudioFault::Io)?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymphoniaError::DecodeError(reason) if reason.contains("channel") => {
                    AudioFault::Channels(reason.to_string())
                }
                SymphoniaError::DecodeError(reason) => AudioFault::Header(reason.to_string()),
                // An I/O error while probing is a file too short to be audio.
                other => AudioFault::Unrecognised(format!("unrecognised format ({other})")),
            })?;
        let container = format.format_info().short_name;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| AudioFault::Unrecognised("no audio track".into()))?;
        let track_id = track.id;
        let declared_frames = track.num_frames;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| {
                AudioFault::Unrecognised("the track has no audio codec parameters".into())
            })?
            .clone();
        let declared_channels = params.channels.as_ref().map(|c| c.count());
        if declared_channels == Some(0) {
            return Err(AudioFault::Channels("it declares 0 channels".into()));
        }
        if let Some(count) = declared_channels
            && count > usize::from(MAX_CHANNELS)
        {
            return Err(AudioFault::Channels(format!(
                "it declares {count} channels (at most {MAX_CHANNELS})"
            )));
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| AudioFault::Unrecognised(format!("unsupported codec ({e})")))?;
        Ok(Self {
            format,
            decoder,
            track_id,
            info: StreamInfo {
                container,
                declared_frames,
                declared_rate: params.sample_rate,
                declared_channels,
                bits_per_sample: params.bits_per_sample,
            },
            first: None,
        })
    }

    /// Decodes the next buffer into `interleaved` (replacing its content); `None` at the
    /// end (a truncated file ends at its last whole packet). A corrupt packet is
    /// [`AudioFault::Packet`]: the caller may skip it and call again.
    pub fn next_into(
        &mut self,
        interleaved: &mut Vec<f32>,
    ) -> std::result::Result<Option<BufferSpec>, AudioFault> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(None),
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(None);
                }
                Err(SymphoniaError::ResetRequired) => return Ok(None),
                Err(e) => return Err(AudioFault::Packet(e.to_string())),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buffer = self
                .decoder
                .decode(&packet)
                .map_err(|e| AudioFault::Packet(e.to_string()))?;
            let spec = BufferSpec {
                rate: buffer.spec().rate(),
                channels: buffer.spec().channels().count(),
                frames: buffer.frames(),
            };
            if spec.channels == 0 || spec.channels > usize::from(MAX_CHANNELS) {
                return Err(AudioFault::Channels(format!(
                    "it has {} channels",
                    spec.channels
                )));
            }
            match self.first {
                None => self.first = Some((spec.rate, spec.channels)),
                Some(first) if first != (spec.rate, spec.channels) => {
                    return Err(AudioFault::Inconsistent(format!(
                        "the sample rate or channel count changes part-way ({} Hz × {} → {} Hz × {})",
                        first.0, first.1, spec.rate, spec.channels
                    )));
                }
                Some(_) => {}
            }
            buffer.copy_to_vec_interleaved(interleaved);
            return Ok(Some(spec));
        }
    }
}

fn header_fault(reason: String) -> AudioFault {
    AudioFault::Header(reason)
}

/// Validates a WAV (RIFF) or AIFF header before symphonia reads it: channel count
/// 1..=[`MAX_CHANNELS`], a rate in [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`], a non-zero
/// block align that matches the sample layout, plausible bits per sample. Other formats
/// pass untouched (their decoders bound these fields themselves).
pub fn check_header<R: Read + Seek>(reader: &mut R) -> std::result::Result<(), AudioFault> {
    // symphonia's probe finds a format's marker anywhere near the start, not only at byte
    // 0 (a file may begin with junk), so the header checked is the first one in that range.
    let start = reader.stream_position().map_err(AudioFault::Io)?;
    let mut window = Vec::new();
    reader
        .by_ref()
        .take(PROBE_WINDOW_BYTES)
        .read_to_end(&mut window)
        .map_err(AudioFault::Io)?;
    let found = window.windows(12).position(|w| {
        matches!(
            (&w[0..4], &w[8..12]),
            (b"RIFF", b"WAVE") | (b"FORM", b"AIFF" | b"AIFC")
        )
    });
    let Some(at) = found else {
        return Ok(());
    };
    let after_magic = start + at as u64 + 12;
    reader
        .seek(SeekFrom::Start(after_magic))
        .map_err(AudioFault::Io)?;
    if &window[at..at + 4] == b"RIFF" {
        check_wav(reader)
    } else {
        check_aiff(reader)
    }
}

/// How far into a file a WAV or AIFF header is looked for (symphonia's probe looks at
/// most this far).
const PROBE_WINDOW_BYTES: u64 = 1 << 20;

/// Chunks scanned for the format chunk before giving up.
const MAX_HEADER_CHUNKS: usize = 64;

fn next_chunk<R: Read + Seek>(
    reader: &mut R,
    big_endian: bool,
) -> std::result::Result<Option<([u8; 4], u32)>, AudioFault> {
    let mut header = [0u8; 8];
    match reader.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(AudioFault::Io(e)),
    }
    let id = [header[0], header[1], header[2], header[3]];
    let size = [header[4], header[5], header[6], header[7]];
    let size = if big_endian {
        u32::from_be_bytes(size)
    } else {
        u32::from_le_bytes(size)
    };
    Ok(Some((id, size)))
}

fn skip_chunk<R: Seek>(reader: &mut R, size: u32) -> std::result::Result<(), AudioFault> {
    let padded = i64::from(size) + i64::from(size & 1);
    reader
        .seek(SeekFrom::Current(padded))
        .map(|_| ())
        .map_err(AudioFault::Io)
}

fn check_channels_and_rate(channels: u32, rate: f64) -> std::result::Result<(), AudioFault> {
    if channels == 0 || channels > u32::from(MAX_CHANNELS) {
        return Err(AudioFault::Channels(format!(
            "the header declares {channels} channels (1 to {MAX_CHANNELS} are readable)"
        )));
    }
    if !(rate.is_finite()
        && (f64::from(MIN_SAMPLE_RATE)..=f64::from(MAX_SAMPLE_RATE)).contains(&rate))
    {
        return Err(header_fault(format!(
            "the header declares a sample rate of {rate} Hz (outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE})"
        )));
    }
    Ok(())
}

fn check_wav<R: Read + Seek>(reader: &mut R) -> std::result::Result<(), AudioFault> {
    // symphonia reads every fmt chunk before the data (a later one replaces an earlier
    // one), so each is checked, not only the first.
    let mut has_fmt = false;
    for _ in 0..MAX_HEADER_CHUNKS {
        let Some((id, size)) = next_chunk(reader, false)? else {
            return if has_fmt {
                Ok(()) // no data chunk: the decoder says so
            } else {
                Err(header_fault("the WAV file has no fmt chunk".into()))
            };
        };
        match &id {
            b"fmt " => {
                check_wav_fmt(reader, size)?;
                has_fmt = true;
            }
            b"data" if has_fmt => return Ok(()),
            b"data" => {
                return Err(header_fault(
                    "the WAV file's data comes before its fmt chunk".into(),
                ));
            }
            _ => skip_chunk(reader, size)?,
        }
    }
    Err(header_fault(
        "the WAV file has no audio data near its start".into(),
    ))
}

/// Checks one fmt chunk (the reader is at its content) and moves past it.
fn check_wav_fmt<R: Read + Seek>(reader: &mut R, size: u32) -> std::result::Result<(), AudioFault> {
    if size < 16 {
        return Err(header_fault(format!(
            "the WAV fmt chunk is {size} bytes (at least 16 expected)"
        )));
    }
    let mut fmt = [0u8; 16];
    reader.read_exact(&mut fmt).map_err(AudioFault::Io)?;
    let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
    let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let block_align = u16::from_le_bytes([fmt[12], fmt[13]]);
    let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
    check_channels_and_rate(u32::from(channels), f64::from(rate))?;
    if block_align == 0 {
        return Err(header_fault(
            "the WAV header's block align is 0 (it must be the bytes per frame)".into(),
        ));
    }
    // PCM, IEEE float and extensible store whole bytes per sample.
    if matches!(tag, 1 | 3 | 0xFFFE) {
        if !matches!(bits, 8 | 16 | 24 | 32 | 64) {
            return Err(header_fault(format!(
                "the WAV header declares {bits} bits per sample"
            )));
        }
        let expected = u32::from(channels) * u32::from(bits / 8);
        if u32::from(block_align) != expected {
            return Err(header_fault(format!(
                "the WAV header's block align is {block_align}, but {channels} \
                 channel(s) of {bits}-bit samples need {expected}"
            )));
        }
    }
    skip_chunk(reader, size - 16)
}

/// An IEEE 754 80-bit extended float (AIFF's sample rate).
fn extended_to_f64(bytes: &[u8; 10]) -> f64 {
    let sign = if bytes[0] & 0x80 != 0 { -1.0 } else { 1.0 };
    let exponent = (i32::from(bytes[0] & 0x7F) << 8) | i32::from(bytes[1]);
    let mut mantissa_bytes = [0u8; 8];
    mantissa_bytes.copy_from_slice(&bytes[2..10]);
    let mantissa = u64::from_be_bytes(mantissa_bytes);
    if exponent == 0 && mantissa == 0 {
        return 0.0;
    }
    if exponent == 0x7FFF {
        return f64::NAN;
    }
    sign * (mantissa as f64) * 2f64.powi(exponent - 16_383 - 63)
}

fn check_aiff<R: Read + Seek>(reader: &mut R) -> std::result::Result<(), AudioFault> {
    // Every COMM chunk before the sound data is checked (a later one would replace it).
    let mut has_comm = false;
    for _ in 0..MAX_HEADER_CHUNKS {
        let Some((id, size)) = next_chunk(reader, true)? else {
            return if has_comm {
                Ok(())
            } else {
                Err(header_fault("the AIFF file has no COMM chunk".into()))
            };
        };
        match &id {
            b"COMM" => {
                check_aiff_comm(reader, size)?;
                has_comm = true;
            }
            b"SSND" if has_comm => return Ok(()),
            _ => skip_chunk(reader, size)?,
        }
    }
    Err(header_fault(
        "the AIFF file has no sound data near its start".into(),
    ))
}

/// Checks one COMM chunk (the reader is at its content) and moves past it.
fn check_aiff_comm<R: Read + Seek>(
    reader: &mut R,
    size: u32,
) -> std::result::Result<(), AudioFault> {
    if size < 18 {
        return Err(header_fault(format!(
            "the AIFF COMM chunk is {size} bytes (at least 18 expected)"
        )));
    }
    let mut comm = [0u8; 18];
    reader.read_exact(&mut comm).map_err(AudioFault::Io)?;
    let channels = i16::from_be_bytes([comm[0], comm[1]]);
    let bits = i16::from_be_bytes([comm[6], comm[7]]);
    let mut rate = [0u8; 10];
    rate.copy_from_slice(&comm[8..18]);
    check_channels_and_rate(u32::try_from(channels).unwrap_or(0), extended_to_f64(&rate))?;
    if !(1..=32).contains(&bits) {
        return Err(header_fault(format!(
            "the AIFF header declares {bits} bits per sample"
        )));
    }
    skip_chunk(reader, size - 18)
}

/// Decodes `path`, downmixes to mono and checks rate, length and finiteness.
///
/// Headers are checked before the decoder runs ([`check_header`]), so absurd channel
/// counts never reach symphonia; a panic inside the decoder on some other hostile input
/// still becomes a decode error.
pub fn decode_file(path: &Path, max_seconds: u64) -> Result<MonoAudio> {
    std::panic::catch_unwind(|| decode_unguarded(path, max_seconds)).unwrap_or_else(|_| {
        Err(RenderError::Decode {
            path: path.to_path_buf(),
            reason: "malformed in a way the decoder cannot read safely".into(),
        })
    })
}

fn decode_unguarded(path: &Path, max_seconds: u64) -> Result<MonoAudio> {
    let decode_error = |reason: String| RenderError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    let invalid = |reason: String| RenderError::InvalidAudio {
        path: path.to_path_buf(),
        reason,
    };
    let mut stream = AudioStream::open(path).map_err(|fault| match fault {
        AudioFault::Io(e) => RenderError::io(path, e),
        AudioFault::Channels(m) | AudioFault::Header(m) => invalid(m),
        other => decode_error(other.to_string()),
    })?;

    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut sample_rate: Option<u32> = None;
    let mut max_frames: usize = usize::MAX;
    let mut bad_packets = 0usize;
    let mut good_packets = 0usize;

    loop {
        let buffer = match stream.next_into(&mut interleaved) {
            Ok(Some(buffer)) => buffer,
            Ok(None) => break,
            Err(AudioFault::Packet(_)) => {
                bad_packets += 1;
                // A file that is mostly corrupt is refused rather than rendered with holes.
                if bad_packets > good_packets + 64 {
                    break;
                }
                continue;
            }
            Err(AudioFault::Io(e)) => return Err(RenderError::io(path, e)),
            Err(other) => return Err(invalid(other.to_string())),
        };
        good_packets += 1;
        if sample_rate.is_none() {
            let rate = buffer.rate;
            if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
                return Err(invalid(format!(
                    "sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE}"
                )));
            }
            sample_rate = Some(rate);
            max_frames =
                usize::try_from(u64::from(rate).saturating_mul(max_seconds)).unwrap_or(usize::MAX);
        }
        if mono.len().saturating_add(buffer.frames) > max_frames {
            return Err(invalid(format!("longer than {max_seconds} s")));
        }
        let channels = buffer.channels;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_header(channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"RIFF");
        bytes.extend_from_slice(&36u32.to_le_bytes());
        bytes.extend_from_slice(b"WAVEfmt ");
        bytes.extend_from_slice(&16u32.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&channels.to_le_bytes());
        bytes.extend_from_slice(&rate.to_le_bytes());
        bytes.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        bytes.extend_from_slice(&block_align.to_le_bytes());
        bytes.extend_from_slice(&bits.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        bytes
    }

    fn check(bytes: Vec<u8>) -> std::result::Result<(), AudioFault> {
        check_header(&mut std::io::Cursor::new(bytes))
    }

    #[test]
    fn wav_headers_are_checked_before_decoding() {
        assert!(check(wav_header(2, 48_000, 4, 16)).is_ok());
        assert!(matches!(
            check(wav_header(2, 48_000, 0, 16)),
            Err(AudioFault::Header(m)) if m.contains("block align is 0")
        ));
        assert!(matches!(
            check(wav_header(u16::MAX, 48_000, 2, 16)),
            Err(AudioFault::Channels(m)) if m.contains("65535")
        ));
        assert!(matches!(
            check(wav_header(0, 48_000, 2, 16)),
            Err(AudioFault::Channels(_))
        ));
        assert!(matches!(
            check(wav_header(1, 1, 2, 16)),
            Err(AudioFault::Header(_))
        ));
        assert!(matches!(
            check(wav_header(1, 48_000, 3, 16)),
            Err(AudioFault::Header(_))
        ));
        assert!(matches!(
            check(wav_header(1, 48_000, 2, 12)),
            Err(AudioFault::Header(_))
        ));
        assert!(check(b"fLaC....not riff".to_vec()).is_ok());
        assert!(check(b"RIFF".to_vec()).is_ok());
        // A header after junk is the one symphonia's probe would read: checked too.
        let mut late = b"\0junk".to_vec();
        late.extend(wav_header(u16::MAX, 48_000, 2, 16));
        assert!(check(late).is_err());
    }

    /// A WAV with two fmt chunks before its data: a good one, a LIST chunk, then `second`.
    fn wav_with_second_fmt(second_channels: u16) -> Vec<u8> {
        let good = wav_header(1, 48_000, 2, 16);
        let mut bytes = good[..36].to_vec(); // RIFF, WAVE and the first fmt chunk
        bytes.extend_from_slice(b"LIST");
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(b"INFO");
        let second = wav_header(second_channels, 48_000, 2 * second_channels.min(2), 16);
        bytes.extend_from_slice(&second[12..]); // its fmt chunk, then the data
        bytes
    }

    #[test]
    fn every_fmt_chunk_before_the_data_is_checked() {
        // cargo-fuzz found it: symphonia reads a later fmt chunk too, and its 32769
        // channels overflowed symphonia's block-align arithmetic.
        assert!(check(wav_with_second_fmt(2)).is_ok());
        assert!(matches!(
            check(wav_with_second_fmt(32_769)),
            Err(AudioFault::Channels(m)) if m.contains("32769")
        ));
    }

    #[test]
    fn aiff_rates_decode_from_80_bit_floats() {
        // 44100 Hz as written by every AIFF encoder.
        let rate = [0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0];
        assert_eq!(extended_to_f64(&rate), 44_100.0);
    }
}
