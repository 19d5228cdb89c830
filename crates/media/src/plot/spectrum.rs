//! Average magnitude spectrum for the overlay plot.
//!
//! Contract: Welch's method (Hann window, 8192-point FFT scaled to the
//! sample rate's ~170 ms, 50% overlap), power averaged over all frames,
//! scaled so a full-scale sine reads 0 dB, then smoothed over 1/6 octave
//! around each of [`POINTS`] log-spaced frequencies from 20 Hz to
//! min(20 kHz, Nyquist). Silence and non-finite samples yield finite values
//! (floored at [`FLOOR_DB`]).

use realfft::RealFftPlanner;

/// Number of plotted points per curve.
pub const POINTS: usize = 480;
pub const FLOOR_DB: f64 = -160.0;
pub const LOW_HZ: f64 = 20.0;
pub const HIGH_HZ: f64 = 20_000.0;

/// Every chain's spectrum, as written to JSON for players that draw it themselves (and
/// highlight the chain playing): points rounded to 0.1 Hz and 0.1 dB.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpectrumData {
    pub chains: Vec<ChainSpectrum>,
}

/// One chain's `(frequency_hz, level_db)` points.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChainSpectrum {
    /// The chain's index in the spec.
    pub chain: usize,
    pub points: Vec<(f64, f64)>,
}

impl SpectrumData {
    /// The spectra of chains 0, 1, … in order.
    pub fn of(spectra: &[Vec<(f64, f64)>]) -> Self {
        let round = |v: f64| (v * 10.0).round() / 10.0;
        Self {
            chains: spectra
                .iter()
                .enumerate()
                .map(|(chain, points)| ChainSpectrum {
                    chain,
                    points: points
                        .iter()
                        .map(|&(hz, db)| (round(hz), round(db)))
                        .collect(),
                })
                .collect(),
        }
    }

    /// The spectra as JSON.
    pub fn to_json(&self) -> String {
        // Finite numbers only (the floor replaces silence), so this always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `(frequency_hz, level_db)` pairs, ascending in frequency.
pub fn smoothed_spectrum(signal: &[f32], sample_rate: u32) -> Vec<(f64, f64)> {
    let power = welch_power(signal, sample_rate);
    let bins = power.len();
    let size = (bins.saturating_sub(1) * 2).max(2);
    let bin_hz = f64::from(sample_rate) / size as f64;
    let high = HIGH_HZ.min(f64::from(sample_rate) / 2.0);
    if high <= LOW_HZ || bins == 0 {
        return Vec::new();
    }
    let ratio = (high / LOW_HZ).ln();
    let sixth_octave = 2f64.powf(1.0 / 12.0); // ±1/12 octave = 1/6 octave wide
    (0..POINTS)
        .map(|i| {
            let freq = LOW_HZ * (ratio * i as f64 / (POINTS - 1) as f64).exp();
            let lo = ((freq / sixth_octave / bin_hz).floor() as usize).min(bins - 1);
            let hi = ((freq * sixth_octave / bin_hz).ceil() as usize).clamp(lo, bins - 1);
            let band = power.get(lo..=hi).unwrap_or(&[]);
            let mean = band.iter().sum::<f64>() / band.len().max(1) as f64;
            let db = if mean > 0.0 {
                10.0 * mean.log10()
            } else {
                FLOOR_DB
            };
            (freq, db.max(FLOOR_DB))
        })
        .collect()
}

/// Averaged one-sided power per bin (full-scale sine peak → 1.0).
fn welch_power(signal: &[f32], sample_rate: u32) -> Vec<f64> {
    let size = fft_size(sample_rate);
    let hop = size / 2;
    let window: Vec<f64> = (0..size)
        .map(|n| 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / size as f64).cos())
        .collect();
    let window_sum: f64 = window.iter().sum();
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(size);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0.0f64; spectrum.len()];
    let mut frames = 0usize;
    let mut start = 0usize;
    // At least one (zero-padded) frame so short input still has a spectrum.
    loop {
        for (n, slot) in input.iter_mut().enumerate() {
            let sample = signal
                .get(start + n)
                .copied()
                .filter(|s| s.is_finite())
                .unwrap_or(0.0);
            *slot = f64::from(sample) * window.get(n).copied().unwrap_or(0.0);
        }
        if fft
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .is_ok()
        {
            for (acc, bin) in power.iter_mut().zip(&spectrum) {
                // Amplitude of a sine A at a bin centre is A·Σw/2.
                let amplitude = 2.0 * bin.norm() / window_sum;
                *acc += amplitude * amplitude;
            }
            frames += 1;
        }
        start += hop;
        if start + size > signal.len() {
            break;
        }
    }
    for value in &mut power {
        *value /= frames.max(1) as f64;
    }
    power
}

/// About 170 ms, a power of two (8192 at 48 kHz).
fn fft_size(sample_rate: u32) -> usize {
    ((sample_rate as usize) / 6)
        .clamp(256, 1 << 16)
        .next_power_of_two()
}
