//! NAM parity against the PyTorch reference fixtures (≤ 1e-5 per sample).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use gts_render::nam::NamAmp;

fn check(model: &str, input: &str, expected: &str, skip_receptive_field: bool) {
    let fixtures = common::fixtures();
    let mut amp = NamAmp::load(&fixtures.join(model)).unwrap();
    let mut audio = common::read_json_f32(&fixtures.join("parity").join(input));
    let expected = common::read_json_f32(&fixtures.join("parity").join(expected));
    assert_eq!(audio.len(), expected.len());
    amp.process_raw(&mut audio);
    let skip = if skip_receptive_field {
        amp.receptive_field()
    } else {
        0
    };
    assert!(skip < audio.len());
    let worst = audio[skip..]
        .iter()
        .zip(&expected[skip..])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "{model}: worst error {worst}");
}

#[test]
fn small_wavenet_matches_pytorch() {
    check(
        "nam/wavenet.nam",
        "input.json",
        "expected_output.json",
        true,
    );
}

#[test]
fn standard_wavenet_matches_pytorch() {
    check(
        "nam/wavenet_a1_standard.nam",
        "input_standard.json",
        "expected_output_standard.json",
        true,
    );
}

#[test]
fn lstm_matches_pytorch() {
    check(
        "parity/reference_lstm.nam",
        "input_lstm.json",
        "expected_output_lstm.json",
        false,
    );
}

#[test]
fn every_fixture_architecture_loads_at_its_rate() {
    let fixtures = common::fixtures();
    for (file, architecture) in [
        ("nam/wavenet.nam", "WaveNet"),
        ("nam/wavenet_a1_standard.nam", "WaveNet"),
        ("nam/lstm.nam", "LSTM"),
        ("nam/A2.nam", "SlimmableContainer"),
    ] {
        let amp = NamAmp::load(&fixtures.join(file)).unwrap();
        assert_eq!(amp.architecture(), architecture);
        assert_eq!(amp.sample_rate(), 48_000);
    }
    assert_eq!(
        NamAmp::load(&fixtures.join("nam/wavenet_a1_standard.nam"))
            .unwrap()
            .receptive_field(),
        4093
    );
}

#[test]
fn preroll_removes_the_startup_transient() {
    let path = common::fixtures().join("nam/wavenet_a1_standard.nam");
    let mut amp = NamAmp::load(&path).unwrap();
    // Silence in: a settled model outputs a constant (its DC), from the first sample on.
    let mut settled = vec![0.0f32; 2048];
    amp.process(&mut settled, &gts_render::CancelToken::new(), &|_| {})
        .unwrap();
    let spread = settled.iter().fold(f32::MIN, |m, &s| m.max(s))
        - settled.iter().fold(f32::MAX, |m, &s| m.min(s));
    assert!(spread < 1e-6, "pre-rolled output varies by {spread}");
    // Without pre-roll the same input starts with a transient.
    let mut raw = vec![0.0f32; 8192];
    let mut fresh = NamAmp::load(&path).unwrap();
    fresh.process_raw(&mut raw);
    let raw_spread =
        raw.iter().fold(f32::MIN, |m, &s| m.max(s)) - raw.iter().fold(f32::MAX, |m, &s| m.min(s));
    assert!(
        raw_spread > 1e-4,
        "the raw model has a start-up transient ({raw_spread})"
    );
    assert!((settled[0] - raw[8191]).abs() < 1e-5);
}
