//! Shared helpers for the integration tests.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

pub fn read_json_f32(path: &Path) -> Vec<f32> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes mono or multi-channel float/int WAV with hound.
pub fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32, bits: u16, float: bool) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let frames = channels[0].len();
    for i in 0..frames {
        for channel in channels {
            let s = channel[i];
            if float {
                writer.write_sample(s).unwrap();
            } else {
                let max = (1i64 << (bits - 1)) as f32 - 1.0;
                writer
                    .write_sample((s.clamp(-1.0, 1.0) * max).round() as i32)
                    .unwrap();
            }
        }
    }
    writer.finalize().unwrap();
}
