//! Every format the issue names decodes to mono at its own rate (files in tests/data).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use gts_render::decode::decode_file;
use gts_render::synth::plucked_di;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn rms(samples: &[f32]) -> f64 {
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len().max(1) as f64)
        .sqrt()
}

#[test]
fn lossless_formats_decode_to_the_source_samples() {
    // The files were encoded from this exact synthesis (see tests/data/README.md).
    let source = plucked_di(44_100, 0.6, 1);
    for (file, tolerance) in [("pluck.flac", 1e-6f32), ("pluck.aiff", 4e-5)] {
        let audio = decode_file(&data(file), 60).unwrap();
        assert_eq!(audio.sample_rate, 44_100, "{file}");
        assert_eq!(audio.samples.len(), source.len(), "{file}");
        let worst = audio
            .samples
            .iter()
            .zip(&source)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= tolerance, "{file}: worst {worst}");
    }
}

#[test]
fn lossy_formats_decode_with_the_right_length_and_level() {
    let source = plucked_di(44_100, 0.6, 1);
    // The OGG is a stereo upmix at −3 dB per channel (see tests/data/README.md).
    for (file, expected_db) in [("pluck.mp3", 0.0), ("pluck.ogg", -3.01)] {
        let audio = decode_file(&data(file), 60).unwrap();
        assert_eq!(audio.sample_rate, 44_100, "{file}");
        let seconds = audio.duration_seconds();
        assert!((seconds - 0.6).abs() < 0.08, "{file}: {seconds} s");
        let level_difference = 20.0 * (rms(&audio.samples) / rms(&source)).log10();
        assert!(
            (level_difference - expected_db).abs() < 1.0,
            "{file}: {level_difference} dB"
        );
        assert!(audio.samples.iter().all(|s| s.is_finite()));
    }
}
