//! DI tracks and impulse responses: decode with symphonia and measure.
//!
//! Contract: the whole file is decoded packet by packet without keeping the samples, so
//! memory stays bounded whatever the length; the declared length is checked before
//! decoding (an 11-minute file is refused without decoding it) and the decoded length is
//! checked against the header for lossless formats (a truncated file, or a header that lies
//! about its size, is refused). NaN or infinite samples, all-zero files and DI tracks
//! too quiet to level are refused. The decoding is the engine's audio front
//! (`gts_render::decode::AudioStream`, which checks headers before symphonia runs).

use std::path::Path;

use gts_proto::v1::{AudioFacts, AudioFormat, IrFacts};
use gts_render::decode::{AudioFault, AudioStream};
use gts_render::loudness::GatedRmsMeter;

use super::ContentError;

/// Bounds a kind of audio upload must respect.
#[derive(Debug, Clone, Copy)]
pub struct AudioLimits {
    pub min_seconds: f64,
    pub max_seconds: f64,
    pub min_rate: u32,
    pub max_rate: u32,
    pub max_channels: u32,
    /// Lowest gated RMS of the mono mix, dBFS (a near-silent DI cannot be levelled).
    pub min_rms_dbfs: Option<f64>,
    /// What the file is, for messages ("DI track", "impulse response").
    pub what: &'static str,
}

/// A DI track: 1 s to 10 min, 22.05-192 kHz, mono or stereo.
pub const DI_TRACK: AudioLimits = AudioLimits {
    min_seconds: 1.0,
    max_seconds: 600.0,
    min_rate: 22_050,
    max_rate: 192_000,
    max_channels: 2,
    min_rms_dbfs: Some(gts_render::limits::MIN_DI_RMS_DBFS),
    what: "DI track",
};

/// An impulse response: at most 10 s, 22.05-192 kHz, mono or stereo.
pub const IMPULSE_RESPONSE: AudioLimits = AudioLimits {
    min_seconds: 0.0,
    max_seconds: 10.0,
    min_rate: 22_050,
    max_rate: 192_000,
    max_channels: 2,
    min_rms_dbfs: None,
    what: "impulse response",
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
    // The engine's audio front: headers are checked before symphonia parses them.
    let mut stream = AudioStream::open(path).map_err(|fault| match fault {
        AudioFault::Io(e) => ContentError::new(format!("the uploaded file cannot be read: {e}")),
        AudioFault::Channels(reason) => ContentError::new(format!(
            "the {what} declares an impossible number of channels ({reason}); export it as \
             mono or stereo"
        )),
        AudioFault::Header(reason) => ContentError::new(format!(
            "the {what} is damaged or its header misstates its sizes ({reason})"
        )),
        other => unreadable(&other),
    })?;
    let container = format_of(stream.info.container);
    let declared_frames = stream.info.declared_frames;
    if let Some(rate) = stream.info.declared_rate {
        check_rate(rate, limits)?;
        if let Some(frames) = declared_frames {
            check_max_length(seconds(frames, rate), limits)?;
        }
    }
    let bits_per_sample = match container {
        AudioFormat::Mp3 | AudioFormat::Ogg => 0,
        _ => stream.info.bits_per_sample.unwrap_or(0),
    };

    let mut sample_rate: Option<u32> = None;
    let mut channels = 0u32;
    let mut frames: u64 = 0;
    let mut peak: f64 = 0.0;
    let mut sum_squares: f64 = 0.0;
    let mut interleaved: Vec<f32> = Vec::new();
    let mut level: Option<GatedRmsMeter> = None;
    loop {
        let buffer = match stream.next_into(&mut interleaved) {
            Ok(Some(buffer)) => buffer,
            Ok(None) => break,
            Err(AudioFault::Packet(e)) => {
                return Err(ContentError::new(format!(
                    "the {what} is damaged and does not decode: {e}"
                )));
            }
            Err(AudioFault::Inconsistent(_)) => {
                return Err(ContentError::new(format!(
                    "the {what} changes its sample rate or channel count part-way through"
                )));
            }
            Err(AudioFault::Channels(_)) => {
                return Err(ContentError::new(format!(
                    "the {what} has more channels than GTS reads; it must be mono or stereo"
                )));
            }
            Err(other) => return Err(unreadable(&other)),
        };
        let rate = buffer.rate;
        let count = u32::try_from(buffer.channels).unwrap_or(u32::MAX);
        if sample_rate.is_none() {
            check_rate(rate, limits)?;
            check_channels(count, limits)?;
            sample_rate = Some(rate);
            channels = count;
            level = Some(GatedRmsMeter::new(rate));
        }
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
        if let Some(level) = level.as_mut() {
            // The mono mix the render plays (the mean of the channels).
            let scale = 1.0 / buffer.channels.max(1) as f32;
            for frame in interleaved.chunks_exact(buffer.channels.max(1)) {
                level.push(frame.iter().sum::<f32>() * scale);
            }
        }
        frames = frames.saturating_add(buffer.frames as u64);
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
    if peak == 0.0 {
        return Err(ContentError::new(format!(
            "the {what} is silent (every sample is zero); upload the real recording"
        )));
    }
    if let Some(min_rms) = limits.min_rms_dbfs {
        let gated = level.and_then(GatedRmsMeter::finish);
        if gated.is_none_or(|rms| rms < min_rms) {
            let measured = gated.map_or("below -70 dBFS".to_owned(), |r| format!("{r:.1} dBFS"));
            return Err(ContentError::new(format!(
                "the {what} is nearly silent (its playing level is {measured}; at least \
                 {min_rms} dBFS is needed to level it fairly); record or export it louder"
            )));
        }
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
