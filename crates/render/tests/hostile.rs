//! Bad inputs give typed errors, never panics.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::Path;

use gts_render::RenderError;
use gts_render::decode::decode_file;
use gts_render::nam::NamAmp;

fn small_wavenet_json() -> serde_json::Value {
    let text = std::fs::read_to_string(common::fixtures().join("nam/wavenet.nam")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load(json: &str) -> Result<NamAmp, RenderError> {
    NamAmp::from_json_str(json, Path::new("hostile.nam"))
}

fn assert_invalid_model(result: Result<NamAmp, RenderError>, needle: &str) {
    match result {
        Err(RenderError::InvalidModel { reason, .. }) => {
            assert!(
                reason.contains(needle),
                "{reason:?} should mention {needle:?}"
            )
        }
        other => panic!("expected InvalidModel mentioning {needle:?}, got {other:?}"),
    }
}

#[test]
fn malformed_json_is_refused() {
    assert_invalid_model(load("{not json"), "JSON");
    assert_invalid_model(load("{}"), "");
    assert_invalid_model(
        load(r#"{"version":"0.5","architecture":"Transformer","config":{},"weights":[]}"#),
        "Transformer",
    );
}

#[test]
fn huge_dimensions_are_refused_before_allocating() {
    let mut model = small_wavenet_json();
    model["config"]["layers"][0]["channels"] = serde_json::json!(1_000_000_000u64);
    assert_invalid_model(load(&model.to_string()), "channels");

    let mut model = small_wavenet_json();
    model["config"]["layers"][0]["dilations"] = serde_json::json!([1u64 << 40]);
    assert_invalid_model(load(&model.to_string()), "dilation");

    let mut model = small_wavenet_json();
    let many: Vec<u64> = vec![16_000; 60];
    model["config"]["layers"][0]["dilations"] = serde_json::json!(many);
    assert_invalid_model(load(&model.to_string()), "receptive field");

    let lstm = r#"{"version":"0.5","architecture":"LSTM","config":{"input_size":1,"hidden_size":100000000,"num_layers":1},"weights":[]}"#;
    assert_invalid_model(load(lstm), "hidden_size");
}

#[test]
fn wrong_weight_count_is_refused() {
    let mut model = small_wavenet_json();
    model["weights"].as_array_mut().unwrap().pop();
    assert_invalid_model(load(&model.to_string()), "weight");
}

#[test]
fn infinite_weights_are_refused() {
    // JSON has no NaN; an out-of-range literal is how a file would smuggle in an
    // infinity. serde_json refuses it as out of range for f32, and our own finiteness
    // check stands behind that; either way it is an InvalidModel.
    let mut model = small_wavenet_json();
    model["weights"][3] = serde_json::json!(1e300);
    match load(&model.to_string()) {
        Err(RenderError::InvalidModel { reason, .. }) => assert!(
            reason.contains("out of range") || reason.contains("NaN or infinite"),
            "{reason}"
        ),
        other => panic!("expected InvalidModel, got {other:?}"),
    }
}

#[test]
fn absurd_model_sample_rate_is_refused() {
    let mut model = small_wavenet_json();
    model["sample_rate"] = serde_json::json!(12.5);
    assert_invalid_model(load(&model.to_string()), "sample rate");
}

#[test]
fn missing_files_are_io_errors() {
    assert!(matches!(
        NamAmp::load(Path::new("/nonexistent/x.nam")),
        Err(RenderError::Io { .. })
    ));
    assert!(matches!(
        decode_file(Path::new("/nonexistent/x.wav"), 60),
        Err(RenderError::Io { .. })
    ));
}

#[test]
fn garbage_empty_and_truncated_audio_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"this is not audio at all, just text pretending").unwrap();
    assert!(matches!(
        decode_file(&garbage, 60),
        Err(RenderError::Decode { .. })
    ));

    let empty = dir.path().join("empty.flac");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        decode_file(&empty, 60),
        Err(RenderError::Decode { .. })
    ));

    // A valid header with its data cut off mid-sample, and one with no frames at all.
    let full = dir.path().join("full.wav");
    common::write_wav(&full, &[vec![0.25; 1000]], 48_000, 24, false);
    let bytes = std::fs::read(&full).unwrap();
    let header_only = dir.path().join("header_only.wav");
    std::fs::write(&header_only, &bytes[..44]).unwrap();
    assert!(decode_file(&header_only, 60).is_err());
    let truncated = dir.path().join("truncated.wav");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2 + 1]).unwrap();
    if let Ok(audio) = decode_file(&truncated, 60) {
        assert!(audio.samples.len() < 1000 && audio.samples.iter().all(|s| s.is_finite()));
    }
}

#[test]
fn over_long_audio_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    common::write_wav(&path, &[vec![0.1; 48_000 * 3]], 48_000, 16, false);
    assert!(matches!(
        decode_file(&path, 2),
        Err(RenderError::InvalidAudio { .. })
    ));
}

#[test]
fn nan_audio_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.wav");
    let mut samples = vec![0.1f32; 1000];
    samples[500] = f32::NAN;
    common::write_wav(&path, &[samples], 48_000, 32, true);
    assert!(matches!(
        decode_file(&path, 60),
        Err(RenderError::InvalidAudio { .. })
    ));
}

#[test]
fn stereo_and_bit_depths_decode_to_the_channel_mean() {
    let dir = tempfile::tempdir().unwrap();
    let left: Vec<f32> = (0..4410).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
    let right: Vec<f32> = left.iter().map(|s| -s * 0.5).collect();
    for (bits, float, tolerance) in [(16u16, false, 1e-4f32), (24, false, 1e-6), (32, true, 1e-7)] {
        let path = dir.path().join(format!("stereo{bits}.wav"));
        common::write_wav(&path, &[left.clone(), right.clone()], 44_100, bits, float);
        let audio = decode_file(&path, 60).unwrap();
        assert_eq!(audio.sample_rate, 44_100);
        assert_eq!(audio.samples.len(), left.len());
        for (i, s) in audio.samples.iter().enumerate() {
            assert!(
                (s - (left[i] + right[i]) / 2.0).abs() <= tolerance,
                "{bits}-bit sample {i}"
            );
        }
    }
    // The shipped fixture: 2 s, 24-bit, 48 kHz.
    let fixture = decode_file(&common::fixtures().join("audio/input.wav"), 60).unwrap();
    assert_eq!(fixture.sample_rate, 48_000);
    assert_eq!(fixture.samples.len(), 96_000);
}

/// A WAV header declaring 65 535 channels of 32-bit samples, or a block align of 0: the
/// header check refuses it before symphonia parses it (whose WAV reader overflows on such
/// counts: a panic in debug builds, wrapped arithmetic in release), so debug and release
/// builds answer the same typed error. CI also runs this file against a release build.
#[test]
fn a_header_with_absurd_channel_counts_is_a_decode_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (name, channels, block_align, expected) in [
        (
            "absurd.wav",
            u16::MAX,
            u16::MAX.wrapping_mul(4),
            "65535 channels",
        ),
        ("zero-align.wav", 1, 0, "block align is 0"),
        ("lying-align.wav", 2, 4, "block align is 4"),
    ] {
        let path = dir.path().join(name);
        write_header(&path, channels, block_align);
        match decode_file(&path, 60) {
            Err(RenderError::InvalidAudio { reason, .. }) => {
                assert!(reason.contains(expected), "{name}: {reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

fn write_header(path: &Path, channels: u16, block_align: u16) {
    let bits: u16 = 32;
    let rate: u32 = 48_000;
    let byte_rate = rate.wrapping_mul(u32::from(block_align));
    let data = vec![0u8; 4096];
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&byte_rate.to_le_bytes());
    wav.extend_from_slice(&block_align.to_le_bytes());
    wav.extend_from_slice(&bits.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    std::fs::write(path, &wav).unwrap();
}
