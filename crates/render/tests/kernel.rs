//! Our NAM kernel against nam-rs (which matches NeuralAmpModelerCore): every fixture
//! model on 60 s of synthesised DI, the portable path against the SIMD path, and the
//! segmented parallel render against the one-piece render.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use gts_render::CancelToken;
use gts_render::nam::{KernelVariant, NamAmp};
use gts_render::synth::plucked_di;

const MODELS: [&str; 5] = [
    "nam/wavenet.nam",
    "nam/wavenet_a1_standard.nam",
    "nam/A2.nam",
    "nam/lstm.nam",
    "parity/reference_lstm.nam",
];

fn load(model: &str) -> NamAmp {
    NamAmp::load(&common::fixtures().join(model)).unwrap()
}

/// A DI at a realistic level: chords, single notes and palm mutes around −18 dBFS RMS.
fn di(seconds: f64) -> Vec<f32> {
    plucked_di(48_000, seconds, 7)
}

fn reference(model: &str, input: &[f32]) -> Vec<f32> {
    let text = std::fs::read_to_string(common::fixtures().join(model)).unwrap();
    let parsed = nam_rs::NamModel::from_json_str(&text).unwrap();
    let mut net = nam_rs::Model::from_nam(&parsed).unwrap();
    let mut out = input.to_vec();
    for chunk in out.chunks_mut(4096) {
        net.process_buffer(chunk);
    }
    out
}

fn esr(got: &[f32], want: &[f32]) -> f64 {
    let (mut err, mut energy) = (0.0f64, 0.0f64);
    for (&g, &w) in got.iter().zip(want) {
        err += (f64::from(g) - f64::from(w)).powi(2);
        energy += f64::from(w).powi(2);
    }
    err / energy.max(1e-30)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn every_fixture_model_runs_on_our_kernel() {
    for model in MODELS {
        let kernel = load(model).kernel();
        assert!(kernel.starts_with("gts_"), "{model} runs on {kernel}");
    }
}

#[test]
fn kernel_matches_nam_rs_on_a_minute_of_di_from_the_first_sample() {
    let input = di(60.0);
    for model in MODELS {
        let want = reference(model, &input);
        let mut got = input.clone();
        let mut amp = load(model);
        for chunk in got.chunks_mut(1000) {
            amp.process_raw(chunk);
        }
        let e = esr(&got, &want);
        assert!(e <= 1e-10, "{model}: ESR {e:e} over 60 s");
        // No start-up transient of our own: the first receptive field agrees too.
        let head = amp.receptive_field().max(4096);
        let e_head = esr(&got[..head], &want[..head]);
        assert!(
            e_head <= 1e-10,
            "{model}: ESR {e_head:e} over the first {head} samples"
        );
    }
}

#[test]
fn portable_path_agrees_with_the_simd_path() {
    let input = di(20.0);
    for model in MODELS {
        let mut fast = input.clone();
        let mut amp = load(model).with_variant(KernelVariant::detect());
        amp.process_raw(&mut fast);
        let mut portable = input.clone();
        let mut amp = load(model).with_variant(KernelVariant::Portable);
        assert_eq!(amp.kernel().rsplit('/').next(), Some("portable"));
        amp.process_raw(&mut portable);
        let worst = max_abs_diff(&fast, &portable);
        assert!(
            worst <= 1e-6,
            "{model}: portable and SIMD differ by {worst}"
        );
    }
}

#[test]
fn segmented_render_equals_the_one_piece_render_and_repeats_bit_for_bit() {
    let input = di(12.0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    for model in [
        "nam/wavenet_a1_standard.nam",
        "nam/A2.nam",
        "nam/wavenet.nam",
    ] {
        let mut whole = input.clone();
        load(model)
            .process_unsegmented(&mut whole, &CancelToken::new(), &|_| {})
            .unwrap();
        let segmented = |amp: &mut NamAmp| {
            let mut out = input.clone();
            pool.install(|| amp.process(&mut out, &CancelToken::new(), &|_| {}))
                .unwrap();
            out
        };
        let mut amp = load(model);
        let first = segmented(&mut amp);
        let second = segmented(&mut amp);
        let worst = max_abs_diff(&first, &whole);
        assert!(worst <= 1e-6, "{model}: segmented differs by {worst}");
        let bits = |v: &[f32]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&first), bits(&second), "{model}: two renders differ");
    }
}

#[test]
fn progress_reaches_one_and_cancel_stops_a_segmented_render() {
    let input = di(6.0);
    let mut amp = load("nam/wavenet_a1_standard.nam");
    let last = std::sync::Mutex::new(0.0f32);
    let mut out = input.clone();
    amp.process(&mut out, &CancelToken::new(), &|f| {
        let mut last = last.lock().unwrap();
        *last = last.max(f);
    })
    .unwrap();
    assert!((*last.lock().unwrap() - 1.0).abs() < 1e-6);
    let cancel = CancelToken::new();
    cancel.cancel();
    let mut out = input;
    assert!(matches!(
        amp.process(&mut out, &cancel, &|_| {}),
        Err(gts_render::RenderError::Cancelled)
    ));
}
