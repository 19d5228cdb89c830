//! Loud levelling targets on a dense, heavily clipped high-gain signal: the target is met
//! within ±0.1 LU with the true peak at or under the ceiling, checked with an outside
//! meter (ebur128's own integrated and true-peak modes on the returned samples).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use gts_render::CancelToken;
use gts_render::loudness::{LEVEL_TOLERANCE_LU, level_output};
use gts_render::nam::NamAmp;
use gts_render::synth::plucked_di;

const RATE: u32 = 48_000;
const CEILING_DBTP: f64 = -1.0;

/// A DI driven 24 dB hot and hard-clipped, through the standard WaveNet pushed +12 dB:
/// the kind of dense, already-saturated signal metal creators level loud.
fn high_gain_output() -> Vec<f32> {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/nam/wavenet_a1_standard.nam");
    let mut amp = NamAmp::load(&model).unwrap();
    let gain = 10f32.powf(24.0 / 20.0);
    let mut signal: Vec<f32> = plucked_di(RATE, 8.0, 3)
        .iter()
        .map(|s| (s * gain).clamp(-0.5, 0.5) * 4.0)
        .collect();
    amp.process_raw(&mut signal);
    // Pick attacks: a 2 ms burst 12 dB over the body every quarter second, the peaks a
    // slow-release limiter ducks the whole next beat for.
    let attack = (RATE / 500) as usize;
    for beat in signal.chunks_mut(RATE as usize / 4) {
        for s in beat.iter_mut().take(attack) {
            *s *= 4.0;
        }
    }
    signal
}

fn outside_meter(samples: &[f32]) -> (f64, f64) {
    let mut meter =
        ebur128::EbuR128::new(1, RATE, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK).unwrap();
    meter.add_frames_f32(samples).unwrap();
    let lufs = meter.loudness_global().unwrap();
    let peak = 20.0 * meter.true_peak(0).unwrap().log10();
    (lufs, peak)
}

#[test]
fn loud_targets_converge_under_the_true_peak_ceiling() {
    let source = high_gain_output();
    for target in [-10.0, -9.0, -8.0] {
        let mut samples = source.clone();
        let report = level_output(
            &mut samples,
            RATE,
            target,
            CEILING_DBTP,
            &CancelToken::new(),
        )
        .unwrap();
        let (lufs, peak) = outside_meter(&samples);
        assert!(
            report.reached_target && (lufs - target).abs() <= LEVEL_TOLERANCE_LU,
            "target {target}: measured {lufs:.2} LUFS, report {report:?}"
        );
        assert!(
            peak <= CEILING_DBTP,
            "target {target}: true peak {peak:.2} dBTP"
        );
        assert!(report.max_limiter_reduction_db > 3.0, "{report:?}");
    }
}
