//! Spectrum overlay and level chart: valid PNGs, sane spectra, no panics.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the point

mod common;

use common::{Rng, plucks_with_gaps, tone};
use gts_media::MediaError;
use gts_media::plot::{LevelRow, level_chart, smoothed_spectrum, spectrum_plot};

const SR: u32 = 48_000;

/// Reads a PNG's width and height from its IHDR chunk.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Where to keep the pictures for a person to look at, if asked to.
fn out_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn keep(path: &std::path::Path) {
    if let Ok(dir) = std::env::var("GTS_MEDIA_KEEP_PLOTS") {
        let name = path.file_name().unwrap();
        std::fs::copy(path, std::path::Path::new(&dir).join(name)).unwrap();
    }
}

#[test]
fn a_full_scale_sine_peaks_near_0_db_at_its_frequency() {
    let spectrum = smoothed_spectrum(&tone(1000.0, SR, SR as usize, 1.0), SR);
    let (peak_hz, peak_db) = spectrum
        .iter()
        .copied()
        .fold((0.0, f64::NEG_INFINITY), |best, p| {
            if p.1 > best.1 { p } else { best }
        });
    assert!(
        (peak_hz / 1000.0f64).log2().abs() < 1.0 / 12.0,
        "peak at {peak_hz} Hz"
    );
    // 1/6-octave averaging spreads the line over ~20 bins: well below 0 dB,
    // yet far above the leakage a decade away.
    assert!(peak_db < 0.5 && peak_db > -25.0, "peak {peak_db} dB");
    let far = spectrum.iter().find(|p| p.0 > 10_000.0).unwrap();
    assert!(far.1 < peak_db - 60.0, "10 kHz at {} dB", far.1);
    assert!(spectrum.windows(2).all(|w| w[0].0 < w[1].0));
    assert!((spectrum[0].0 - 20.0).abs() < 1e-9);
}

#[test]
fn a_brighter_signal_has_more_high_end() {
    let mut rng = Rng::new(3);
    let bright: Vec<f32> = (0..SR as usize).map(|_| rng.range(-0.5, 0.5)).collect();
    // A one-pole low-pass of the same noise.
    let mut state = 0.0f32;
    let dark: Vec<f32> = bright
        .iter()
        .map(|&x| {
            state += 0.05 * (x - state);
            state
        })
        .collect();
    let level_at = |s: &[(f64, f64)], hz: f64| s.iter().find(|p| p.0 >= hz).unwrap().1;
    let bright_spectrum = smoothed_spectrum(&bright, SR);
    let dark_spectrum = smoothed_spectrum(&dark, SR);
    assert!(level_at(&bright_spectrum, 8000.0) > level_at(&dark_spectrum, 8000.0) + 20.0);
}

#[test]
fn silence_and_nan_give_finite_spectra() {
    for signal in [vec![0.0f32; 1000], vec![f32::NAN; 1000], Vec::new()] {
        let spectrum = smoothed_spectrum(&signal, SR);
        assert!(!spectrum.is_empty());
        assert!(spectrum.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
    }
}

#[test]
fn spectrum_plot_writes_a_png() {
    let dir = out_dir();
    let (di, _) = plucks_with_gaps(SR, 6.0, 4);
    let mut state = 0.0f32;
    let dark: Vec<f32> = di
        .iter()
        .map(|&x| {
            state += 0.1 * (x - state);
            state
        })
        .collect();
    let bright: Vec<f32> = di.windows(2).map(|w| w[1] - 0.7 * w[0]).collect();
    let silent = vec![0.0f32; 1000];
    let curves = vec![
        ("Chain A: Clean".to_owned(), di.as_slice()),
        ("Chain B: Dark".to_owned(), dark.as_slice()),
        ("Chain C: Bright".to_owned(), bright.as_slice()),
        ("Chain D: Silent".to_owned(), silent.as_slice()),
    ];
    let path = dir.path().join("spectrum.png");
    spectrum_plot(&path, &curves, SR).unwrap();
    assert_eq!(png_size(&path), (1600, 900));
    keep(&path);
    // Also at a low rate (Nyquist under 20 kHz) and with no curves at all.
    spectrum_plot(&dir.path().join("low.png"), &curves[..1], 16_000).unwrap();
    spectrum_plot(&dir.path().join("empty.png"), &[], SR).unwrap();
    assert!(matches!(
        spectrum_plot(&path, &curves, 0),
        Err(MediaError::InvalidInput(_))
    ));
}

#[test]
fn level_chart_writes_a_png() {
    let dir = out_dir();
    let rows: Vec<LevelRow> = [
        ("Chain A", -14.0, -1.2, -16.8),
        ("Chain B", -14.05, -1.0, -17.9),
        ("Chain C", -13.96, -2.4, -15.2),
        ("Chain D", f64::NAN, f64::NEG_INFINITY, -90.0),
    ]
    .iter()
    .map(|&(name, lufs, tp, rms)| LevelRow {
        name: name.to_owned(),
        integrated_lufs: lufs,
        true_peak_dbtp: tp,
        rms_dbfs: rms,
    })
    .collect();
    let path = dir.path().join("levels.png");
    level_chart(&path, &rows).unwrap();
    assert_eq!(png_size(&path), (1600, 900));
    keep(&path);
    assert!(matches!(
        level_chart(&path, &[]),
        Err(MediaError::InvalidInput(_))
    ));
}

#[test]
fn unwritable_paths_are_errors_not_panics() {
    let dir = out_dir();
    let path = dir.path().join("missing/dir/plot.png");
    let signal = vec![0.1f32; 100];
    let result = spectrum_plot(&path, &[("x".to_owned(), signal.as_slice())], SR);
    assert!(matches!(result, Err(MediaError::Draw(_))));
}
