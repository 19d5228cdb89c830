//! DI tracks and impulse responses: decode with symphonia and measure.
//!
//! Contract: the whole file is decoded packet by packet without keeping the samples, so
//! memory stays bounded whatever the length; the declared length is checked before
//! decoding (an 11-minute file is refused without decoding it) and the decoded length is
//! checked against the header for lossless formats (a truncated file, or a header that lies
//! about its size, is refused). NaN or infinite samples are refused.

use std::{fs::File, path::Path};

use gts_proto::v1::{AudioFacts, AudioFormat, IrFacts};
use symphonia::core::{
    codecs::audio::AudioDecoderOptions,
    errors::Error as SymphoniaError,
    formats::{FormatOptions, TrackType, probe::Hint},
    io::MediaSourceStream,
    meta::MetadataOptions,
};

use super::ContentError;

/// Bounds a kind of audio upload must respect.
#[derive(Debug, Clone, Copy)]
pub struct AudioLimits {
    pub min_seconds: f64,
    pub max_seconds: f64,
    pub min_rate: u32,
    pub max_rate: u32,
    pub max_channels: u32,
    /// What the file is, for messages ("DI track", "impulse response").
    pub what: &'static str,
    /// A file whose loudest sample is below this (dBFS) is refused as silent; `None`
    /// accepts silence.
    pub min_peak_dbfs: Option<f64>,
}

/// A DI whose loudest sample stays below this is silence (or a muted input): rendering it
/// would only measure the noise floor, so it is refused at upload.
pub const SILENT_DI_PEAK_DBFS: f64 = -60.0;

/// A DI track: 1 s to 10 min, 22.05-192 kHz, mono or stereo.
pub const DI_TRACK: AudioLimits = AudioLimits {
    min_seconds: 1.0,
    max_seconds: 600.0,
    min_rate: 22_050,
    max_rate: 192_000,
    max_channels: 2,
    what: "DI track",
    min_peak_dbfs: Some(SILENT_DI_PEAK_DBFS),
};

/// An impulse response: at most 10 s, 22.05-192 kHz, mono or stereo.
pub const IMPULSE_RESPONSE: AudioLimits = AudioLimits {
    min_seconds: 0.0,
    max_seconds: 10.0,
    min_rate: 22_050,
    max_rate: 192_000,
    max_channels: 2,
    what: "impulse response",
    min_peak_dbfs: None,
};

/// What decoding measured.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioAnalysis {
    pub frames: u64,
    pub sample_rate: u32,
    pub channels: u32,
    pub peak_dbfs: f64,
    pub rms_dbfs: f64,
    pub format: AudioFormat,
    pub bits_per_sample: u32,
}

/// The level reported for digital silence.
pub const SILENCE_DBFS: f64 = -200.0;

impl AudioAnalysis {
    pub fn duration_ms(&self) -> u64 {
        self.frames.saturating_mul(1000) / u64::from(self.sample_rate.max(1))
    }

    pub fn to_audio_facts(&self) -> AudioFacts {
        AudioFacts {
            duration_ms: self.duration_ms(),
            sample_rate_hz: self.sample_rate,
            channels: self.channels,
            peak_dbfs: self.peak_dbfs,
            rms_dbfs: self.rms_dbfs,
            format: self.format as i32,
            bits_per_sample: self.bits_per_sample,
        }
    }

    pub fn to_ir_facts(&self) -> IrFacts {
        IrFacts {
            length_ms: self.duration_ms(),
            sample_rate_hz: self.sample_rate,
            channels: self.channels,
            format: self.format as i32,
        }
    }
}

fn format_of(short_name: &str) -> AudioFormat {
    match short_name {
        "wave" => AudioFormat::Wav,
        "flac" => AudioFormat::Flac,
        "mp3" => AudioFormat::Mp3,
        "aiff" => AudioFormat::Aiff,
        "ogg" => AudioFormat::Ogg,
        _ => AudioFormat::Unspecified,
    }
}

fn db(amplitude: f64) -> f64 {
    if amplitude > 0.0 {
        (20.0 * amplitude.log10()).max(SILENCE_DBFS)
    } else {
        SILENCE_DBFS
    }
}

fn seconds(frames: u64, rate: u32) -> f64 {
    frames as f64 / f64::from(rate.max(1))
}

/// Decodes the file at `path` and checks it against `limits`.
pub fn analyze(path: &Path, limits: &AudioLimits) -> Result<AudioAnalysis, ContentError> {
    super::guarded(limits.what, || decode_and_measure(path, limits))
}

fn decode_and_measure(path: &Path, limits: &AudioLimits) -> Result<AudioAnalysis, ContentError> {
    let what = limits.what;
    let unreadable = |reason: &dyn std::fmt::Display| {
        ContentError::new(format!(
            "this is not a {what} GTS can read (WAV, FLAC, MP3, AIFF or OGG expected): {reason}"
        ))
    };
    let file = File::open(path)
        .map_err(|e| ContentError::new(format!("the uploaded file cannot be read: {e}")))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::DecodeError(reason) if reason.contains("channel") => {
                ContentError::new(format!(
                    "the {what} declares an impossible number of channels ({reason}); export it \
                     as mono or stereo"
                ))
            }
            SymphoniaError::DecodeError(reason) => ContentError::new(format!(
                "the {what} is damaged or its header misstates its sizes ({reason})"
            )),
            other => unreadable(&other),
        })?;
    let container = format_of(format.format_info().short_name);
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unreadable(&"it has no audio track"))?;
    let track_id = track.id;
    let declared_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unreadable(&"its audio track has no codec parameters"))?
        .clone();

    let declared_channels = params.channels.as_ref().map(|c| c.count());
    if declared_channels == Some(0) {
        return Err(ContentError::new(format!(
            "the {what} declares 0 channels; export it as mono or stereo"
        )));
    }
    if let Some(rate) = params.sample_rate {
        check_rate(rate, limits)?;
        if let Some(frames) = declared_frames {
            check_max_length(seconds(frames, rate), limits)?;
        }
    }
    let bits_per_sample = match container {
        AudioFormat::Mp3 | AudioFormat::Ogg => 0,
        _ => params.bits_per_sample.unwrap_or(0),
    };
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| unreadable(&e))?;

    let mut sample_rate: Option<u32> = None;
    let mut channels = 0u32;
    let mut frames: u64 = 0;
    let mut peak: f64 = 0.0;
    let mut sum_squares: f64 = 0.0;
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(e) => return Err(unreadable(&e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = decoder.decode(&packet).map_err(|e| {
            ContentError::new(format!("the {what} is damaged and does not decode: {e}"))
        })?;
        let rate = buffer.spec().rate();
        let count = u32::try_from(buffer.spec().channels().count()).unwrap_or(u32::MAX);
        match sample_rate {
            None => {
                check_rate(rate, limits)?;
                check_channels(count, limits)?;
                sample_rate = Some(rate);
                channels = count;
            }
            Some(first) if first != rate || channels != count => {
                return Err(ContentError::new(format!(
                    "the {what} changes its sample rate or channel count part-way through"
                )));
            }
            Some(_) => {}
        }
        buffer.copy_to_vec_interleaved(&mut interleaved);
        for (index, sample) in interleaved.iter().enumerate() {
            if !sample.is_finite() {
                let at = seconds(frames + index as u64 / u64::from(channels.max(1)), rate);
                return Err(ContentError::new(format!(
                    "the {what} contains NaN or infinite samples (first at {at:.3} s); re-export it"
                )));
            }
            let value = f64::from(*sample);
            peak = peak.max(value.abs());
            sum_squares += value * value;
        }
        frames = frames.saturating_add(buffer.frames() as u64);
        check_max_length(seconds(frames, rate), limits)?;
    }

    let sample_rate = sample_rate
        .ok_or_else(|| ContentError::new(format!("the {what} contains no audio samples")))?;
    if frames == 0 {
        return Err(ContentError::new(format!(
            "the {what} contains no audio samples"
        )));
    }
    let lossless = matches!(
        container,
        AudioFormat::Wav | AudioFormat::Aiff | AudioFormat::Flac
    );
    if let Some(declared) = declared_frames.filter(|_| lossless)
        && frames < declared
    {
        return Err(ContentError::new(format!(
            "the {what} ends early: its header promises {:.2} s of audio but only {:.2} s is \
             present (a truncated file, or a header that misstates its size)",
            seconds(declared, sample_rate),
            seconds(frames, sample_rate)
        )));
    }
    let duration = seconds(frames, sample_rate);
    if duration < limits.min_seconds {
        return Err(ContentError::new(format!(
            "the {what} lasts {duration:.2} s; it must last at least {} s",
            limits.min_seconds
        )));
    }
    if let Some(floor) = limits.min_peak_dbfs
        && db(peak) < floor
    {
        return Err(ContentError::new(format!(
            "the {what} is silent (its loudest sample is {}); record or export it again with \
             the guitar audible",
            if peak > 0.0 {
                format!("{:.0} dBFS", db(peak))
            } else {
                "digital silence".to_owned()
            }
        )));
    }
    let samples = frames.saturating_mul(u64::from(channels.max(1))) as f64;
    Ok(AudioAnalysis {
        frames,
        sample_rate,
        channels,
        peak_dbfs: db(peak),
        rms_dbfs: db((sum_squares / samples).sqrt()),
        format: container,
        bits_per_sample,
    })
}

fn check_rate(rate: u32, limits: &AudioLimits) -> Result<(), ContentError> {
    if (limits.min_rate..=limits.max_rate).contains(&rate) {
        Ok(())
    } else {
        Err(ContentError::new(format!(
            "the {} is sampled at {rate} Hz; it must be between {} and {} Hz",
            limits.what, limits.min_rate, limits.max_rate
        )))
    }
}

fn check_channels(count: u32, limits: &AudioLimits) -> Result<(), ContentError> {
    if (1..=limits.max_channels).contains(&count) {
        Ok(())
    } else {
        Err(ContentError::new(format!(
            "the {} has {count} channels; it must be mono or stereo",
            limits.what
        )))
    }
}

fn check_max_length(duration: f64, limits: &AudioLimits) -> Result<(), ContentError> {
    if duration > limits.max_seconds {
        Err(ContentError::new(format!(
            "the {} lasts {}; at most {} is allowed",
            limits.what,
            human_duration(duration),
            human_duration(limits.max_seconds)
        )))
    } else {
        Ok(())
    }
}

fn human_duration(seconds: f64) -> String {
    if seconds >= 60.0 {
        format!("{}:{:04.1} min", (seconds / 60.0).floor(), seconds % 60.0)
    } else {
        format!("{seconds:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(frames: usize, rate: u32, channels: u16) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
            for i in 0..frames * usize::from(channels) {
                writer.write_sample(((i % 200) as i16 - 100) * 100).unwrap();
            }
            writer.finalize().unwrap();
        }
        cursor.into_inner()
    }

    #[test]
    fn a_silent_di_is_refused_but_a_silent_ir_tail_is_not_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silent.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for _ in 0..96_000 {
            writer.write_sample(0i16).unwrap();
        }
        writer.finalize().unwrap();
        let error = analyze(&path, &DI_TRACK).unwrap_err();
        assert!(error.0.contains("is silent"), "{error}");
        assert!(analyze(&path, &IMPULSE_RESPONSE).is_ok());
        // Just above the floor is a (very quiet) DI, accepted.
        let quiet = dir.path().join("quiet.wav");
        let mut writer = hound::WavWriter::create(&quiet, spec).unwrap();
        for i in 0..96_000 {
            writer
                .write_sample(if i % 100 == 0 { 40i16 } else { 0 })
                .unwrap();
        }
        writer.finalize().unwrap();
        assert!(analyze(&quiet, &DI_TRACK).is_ok());
    }

    #[test]
    fn measures_a_clean_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        std::fs::write(&path, wav(44_100 * 2, 44_100, 2)).unwrap();
        let analysis = analyze(&path, &DI_TRACK).unwrap();
        assert_eq!(analysis.frames, 88_200);
        assert_eq!(analysis.channels, 2);
        assert_eq!(analysis.duration_ms(), 2000);
        assert!(analysis.peak_dbfs < 0.0 && analysis.rms_dbfs < analysis.peak_dbfs);
    }

    /// Bit flips and truncations of a valid file: every outcome is Ok or a message, never
    /// a panic.
    #[test]
    fn mangled_files_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wav");
        let original = wav(44_100, 44_100, 1);
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let mut bytes = original.clone();
            // Header bytes are the interesting ones; hit them most.
            for _ in 0..1 + round % 4 {
                let at = if next() % 4 == 0 {
                    next() as usize % bytes.len()
                } else {
                    next() as usize % 64
                };
                bytes[at] = next() as u8;
            }
            if round % 5 == 0 {
                bytes.truncate(next() as usize % bytes.len());
            }
            std::fs::write(&path, &bytes).unwrap();
            let _ = analyze(&path, &DI_TRACK);
            let _ = analyze(&path, &IMPULSE_RESPONSE);
        }
    }
}
