//! Loudness measurement (BS.1770-4 via ebur128), input levelling and output levelling
//! with a look-ahead true-peak limiter.
//!
//! Contract:
//! - [`gated_rms_dbfs`] is the DI's level: RMS over 50 ms windows, keeping windows above
//!   −70 dBFS and then those within 20 dB of their mean, so pauses don't change it.
//! - [`level_output`] makes a chain's integrated loudness equal to the target within
//!   ±0.1 LU (it aims at ±0.02) with a true peak ≤ the ceiling: it applies a gain, runs
//!   the limiter (never clipping), re-measures and corrects the gain by a secant step
//!   (loud targets, where the limiter takes many dB, converge too). A target out of the
//!   limiter's reach, or a silent chain, is reported in the result, never a failed job.
//! - The limiter's gain is `min` over a look-ahead window of the gain each
//!   4×-oversampled peak needs, then a box average of the same length (so the gain is
//!   already down when the peak arrives), then a 100 ms release. It is offline, so the
//!   look-ahead adds no latency.

use std::collections::VecDeque;

use ebur128::{EbuR128, Mode};
use serde::{Deserialize, Serialize};

use crate::error::{RenderError, Result};
use crate::progress::CancelToken;

/// Loudness below which a signal is treated as silence.
pub const SILENCE_LUFS: f64 = -70.0;
/// Tolerance every levelled chain meets, in LU.
pub const LEVEL_TOLERANCE_LU: f64 = 0.1;
/// What the iteration aims at, well inside the tolerance.
const AIM_LU: f64 = 0.02;
/// Look-ahead of the limiter.
const LOOKAHEAD_SECONDS: f64 = 0.0015;
/// Release of the limiter.
const RELEASE_SECONDS: f64 = 0.1;
/// Headroom between the limiter's own peak estimate and the ceiling measured by ebur128.
const LIMITER_MARGIN_DB: f64 = 0.2;
const MAX_ITERATIONS: usize = 30;
/// Flattest loudness-per-gain slope the search assumes (below it the target is out of reach).
const MIN_SLOPE: f64 = 0.02;
/// Largest gain change of one iteration, dB.
const MAX_STEP_DB: f64 = 12.0;

fn meter(samples: &[f32], sample_rate: u32, mode: Mode) -> Result<EbuR128> {
    let mut meter =
        EbuR128::new(1, sample_rate, mode).map_err(|e| RenderError::Loudness(e.to_string()))?;
    meter
        .add_frames_f32(samples)
        .map_err(|e| RenderError::Loudness(e.to_string()))?;
    Ok(meter)
}

/// Clamps measurement results to finite numbers (silence reads as `floor`).
pub(crate) fn finite_or_floor(value: f64, floor: f64) -> f64 {
    if value.is_finite() {
        value.max(floor)
    } else {
        floor
    }
}

/// Integrated loudness in LUFS (≥ −200; silence reads −200).
pub fn integrated_lufs(samples: &[f32], sample_rate: u32) -> Result<f64> {
    let meter = meter(samples, sample_rate, Mode::I)?;
    let value = meter
        .loudness_global()
        .map_err(|e| RenderError::Loudness(e.to_string()))?;
    Ok(finite_or_floor(value, -200.0))
}

/// Loudness range in LU (0 for silence or too-short signals).
pub fn loudness_range_lu(samples: &[f32], sample_rate: u32) -> Result<f64> {
    let meter = meter(samples, sample_rate, Mode::LRA)?;
    let value = meter
        .loudness_range()
        .map_err(|e| RenderError::Loudness(e.to_string()))?;
    Ok(finite_or_floor(value, 0.0))
}

/// True peak in dBTP per BS.1770-4 (≥ −200).
pub fn true_peak_dbtp(samples: &[f32], sample_rate: u32) -> Result<f64> {
    let meter = meter(samples, sample_rate, Mode::TRUE_PEAK)?;
    let linear = meter
        .true_peak(0)
        .map_err(|e| RenderError::Loudness(e.to_string()))?;
    Ok(finite_or_floor(20.0 * linear.max(1e-10).log10(), -200.0))
}

/// Integrated loudness and true peak in one pass (what each levelling iteration needs).
pub fn loudness_and_true_peak(samples: &[f32], sample_rate: u32) -> Result<(f64, f64)> {
    let meter = meter(samples, sample_rate, Mode::I | Mode::TRUE_PEAK)?;
    let lufs = meter
        .loudness_global()
        .map_err(|e| RenderError::Loudness(e.to_string()))?;
    let peak = meter
        .true_peak(0)
        .map_err(|e| RenderError::Loudness(e.to_string()))?;
    Ok((
        finite_or_floor(lufs, -200.0),
        finite_or_floor(20.0 * peak.max(1e-10).log10(), -200.0),
    ))
}

/// Gated RMS of the DI in dBFS, or `None` if nothing rises above −70 dBFS.
pub fn gated_rms_dbfs(samples: &[f32], sample_rate: u32) -> Option<f64> {
    let mut meter = GatedRmsMeter::new(sample_rate);
    samples.iter().for_each(|&s| meter.push(s));
    meter.finish()
}

/// [`gated_rms_dbfs`] fed sample by sample (one `f64` kept per 50 ms window), so the
/// shootout service measures an upload exactly as the render will without keeping it.
#[derive(Debug, Clone)]
pub struct GatedRmsMeter {
    window: usize,
    filled: usize,
    sum: f64,
    powers: Vec<f64>,
}

impl GatedRmsMeter {
    /// A meter for mono audio at `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            window: (sample_rate as usize / 20).max(1),
            filled: 0,
            sum: 0.0,
            powers: Vec::new(),
        }
    }

    /// Adds one mono sample.
    pub fn push(&mut self, sample: f32) {
        self.sum += f64::from(sample) * f64::from(sample);
        self.filled += 1;
        if self.filled == self.window {
            self.powers.push(self.sum / self.window as f64);
            self.filled = 0;
            self.sum = 0.0;
        }
    }

    /// The gated RMS in dBFS, or `None` if nothing rises above −70 dBFS.
    pub fn finish(mut self) -> Option<f64> {
        if self.filled > 0 {
            self.powers.push(self.sum / self.filled as f64);
        }
        let absolute = 10f64.powf(-70.0 / 10.0);
        let loud: Vec<f64> = self.powers.into_iter().filter(|&p| p > absolute).collect();
        if loud.is_empty() {
            return None;
        }
        let mean = loud.iter().sum::<f64>() / loud.len() as f64;
        let relative = mean * 10f64.powf(-20.0 / 10.0);
        let kept: Vec<f64> = loud.into_iter().filter(|&p| p > relative).collect();
        let power = kept.iter().sum::<f64>() / kept.len().max(1) as f64;
        Some(10.0 * power.max(1e-20).log10())
    }
}

/// Outcome of levelling one chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelReport {
    /// Loudness before levelling.
    pub input_lufs: f64,
    /// Make-up gain applied before the limiter, dB.
    pub gain_db: f64,
    /// Final integrated loudness.
    pub output_lufs: f64,
    /// Final true peak.
    pub true_peak_dbtp: f64,
    /// Largest gain reduction the limiter applied, dB (≥ 0).
    pub max_limiter_reduction_db: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the output is within ±0.1 LU of the target.
    #[serde(default = "reached_default")]
    pub reached_target: bool,
    /// Why the target was not reached (how close it got), when it was not.
    #[serde(default)]
    pub note: Option<String>,
}

fn reached_default() -> bool {
    true
}

/// Levels `samples` in place to `target_lufs` with a true peak ≤ `ceiling_dbtp`.
///
/// The gain is found by a secant search on measured loudness against gain (the limiter
/// makes that curve flatter than 1 dB per dB as it works harder, so a plain "add the
/// error" step stalls on loud targets). A target the limiter cannot reach under the
/// ceiling, and a silent chain, are reported outcomes ([`LevelReport::note`]), not errors.
pub fn level_output(
    samples: &mut [f32],
    sample_rate: u32,
    target_lufs: f64,
    ceiling_dbtp: f64,
    cancel: &CancelToken,
) -> Result<LevelReport> {
    let source = samples.to_vec();
    let input_lufs = integrated_lufs(&source, sample_rate)?;
    if input_lufs <= SILENCE_LUFS {
        let true_peak_dbtp = true_peak_dbtp(&source, sample_rate)?;
        return Ok(LevelReport {
            input_lufs,
            gain_db: 0.0,
            output_lufs: input_lufs,
            true_peak_dbtp,
            max_limiter_reduction_db: 0.0,
            iterations: 0,
            reached_target: false,
            note: Some(format!(
                "the chain's output is silent ({input_lufs:.1} LUFS), so it was not levelled; \
                 check its noise gate and gains"
            )),
        });
    }
    let mut gain_db = target_lufs - input_lufs;
    let mut limiter_ceiling_db = ceiling_dbtp - LIMITER_MARGIN_DB;
    let mut best: Option<(f64, LevelReport, Vec<f32>)> = None;
    let mut previous: Option<(f64, f64)> = None;
    let limiter = TruePeakLimiter::new(&source, sample_rate);
    for iteration in 1..=MAX_ITERATIONS {
        cancel.check()?;
        let (candidate, reduction) = limiter.apply(10f64.powf(gain_db / 20.0), limiter_ceiling_db);
        let (output_lufs, peak) = loudness_and_true_peak(&candidate, sample_rate)?;
        let report = LevelReport {
            input_lufs,
            gain_db,
            output_lufs,
            true_peak_dbtp: peak,
            max_limiter_reduction_db: reduction,
            iterations: iteration,
            reached_target: true,
            note: None,
        };
        let error = (output_lufs - target_lufs).abs();
        let peak_ok = peak <= ceiling_dbtp;
        if peak_ok && best.as_ref().is_none_or(|(e, _, _)| error < *e) {
            best = Some((error, report, candidate));
        }
        if peak_ok && error <= AIM_LU {
            break;
        }
        if !peak_ok {
            // The limiter's estimate missed an inter-sample peak: tighten its ceiling and
            // measure again at the same gain (the loudness/gain curve changed).
            limiter_ceiling_db -= (peak - ceiling_dbtp) + 0.05;
            previous = None;
            continue;
        }
        // Secant slope (LU per dB), bounded: 1 without limiting, flatter with it.
        let slope = previous
            .filter(|(g, _)| (gain_db - g).abs() > 1e-6)
            .map_or(1.0, |(g, l)| (output_lufs - l) / (gain_db - g))
            .clamp(MIN_SLOPE, 1.0);
        if slope <= MIN_SLOPE && output_lufs < target_lufs && previous.is_some() {
            // More gain no longer makes it louder: the limiter is at its limit.
            break;
        }
        previous = Some((gain_db, output_lufs));
        gain_db += ((target_lufs - output_lufs) / slope).clamp(-MAX_STEP_DB, MAX_STEP_DB);
    }
    let (error, mut report, levelled) = best.ok_or_else(|| {
        RenderError::Loudness(format!(
            "could not bring the true peak under {ceiling_dbtp} dBTP"
        ))
    })?;
    if error > LEVEL_TOLERANCE_LU {
        report.reached_target = false;
        report.note = Some(format!(
            "reached {:.2} LUFS, {:.2} LU from the {target_lufs:.1} LUFS target: the limiter \
             cannot make this chain louder under the {ceiling_dbtp} dBTP ceiling",
            report.output_lufs,
            report.output_lufs - target_lufs
        ));
    }
    samples.copy_from_slice(&levelled);
    Ok(report)
}

/// 4× polyphase interpolation taps (Hann-windowed sinc, 16 taps per phase).
fn interpolation_phases() -> [[f64; 16]; 3] {
    let mut phases = [[0.0f64; 16]; 3];
    for (p, phase) in phases.iter_mut().enumerate() {
        let offset = (p + 1) as f64 / 4.0;
        for (k, tap) in phase.iter_mut().enumerate() {
            let x = k as f64 - 7.0 - offset;
            let sinc = if x.abs() < 1e-12 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let window = 0.5 + 0.5 * (std::f64::consts::PI * x / 8.5).cos();
            *tap = sinc * window;
        }
        let sum: f64 = phase.iter().sum();
        phase.iter_mut().for_each(|t| *t /= sum);
    }
    phases
}

/// Per-sample peak estimate including the inter-sample peaks on either side.
fn oversampled_peaks(samples: &[f32]) -> Vec<f64> {
    let phases = interpolation_phases();
    let len = samples.len();
    // Zero padding on both sides lets the interpolator read without bounds checks.
    let mut padded = vec![0.0f64; len + 16];
    for (slot, &s) in padded[7..].iter_mut().zip(samples) {
        *slot = f64::from(s);
    }
    let between: Vec<f64> = padded
        .windows(16)
        .take(len)
        .map(|taps| {
            phases
                .iter()
                .map(|phase| {
                    phase
                        .iter()
                        .zip(taps)
                        .map(|(h, x)| h * x)
                        .sum::<f64>()
                        .abs()
                })
                .fold(0.0f64, f64::max)
        })
        .collect();
    (0..len)
        .map(|n| {
            let before = if n > 0 { between[n - 1] } else { 0.0 };
            f64::from(samples[n].abs()).max(between[n]).max(before)
        })
        .collect()
}

/// A look-ahead true-peak limiter prepared for one signal: the oversampled peak
/// envelope is computed once, and since it scales with any gain applied before the
/// limiter, each levelling iteration reuses it.
pub struct TruePeakLimiter<'a> {
    source: &'a [f32],
    peaks: Vec<f64>,
    sample_rate: u32,
}

impl<'a> TruePeakLimiter<'a> {
    /// Analyses `source` (its inter-sample peaks included).
    pub fn new(source: &'a [f32], sample_rate: u32) -> Self {
        Self {
            source,
            peaks: oversampled_peaks(source),
            sample_rate,
        }
    }

    /// Returns `source · gain`, limited so its oversampled peak stays ≤ `ceiling_db`,
    /// and the deepest gain reduction in dB.
    pub fn apply(&self, gain: f64, ceiling_db: f64) -> (Vec<f32>, f64) {
        let ceiling = 10f64.powf(ceiling_db / 20.0);
        let required: Vec<f64> = self
            .peaks
            .iter()
            .map(|&p| {
                let peak = p * gain;
                if peak > ceiling { ceiling / peak } else { 1.0 }
            })
            .collect();
        if required.iter().all(|&g| g >= 1.0) {
            let plain = self
                .source
                .iter()
                .map(|&s| (f64::from(s) * gain) as f32)
                .collect();
            return (plain, 0.0);
        }
        let rate = f64::from(self.sample_rate.max(1));
        let lookahead = ((LOOKAHEAD_SECONDS * rate) as usize).max(2);
        let window_min = forward_window_min(&required, lookahead);
        // Box average of the look-ahead minimum: each output ≤ the requirement at its own
        // index, because every averaged minimum covers that index (the first samples,
        // whose average includes padding, are clamped to their own minimum).
        let mut running = 0.0f64;
        let mut smoothed = Vec::with_capacity(required.len());
        for n in 0..required.len() {
            running += window_min[n];
            if n >= lookahead {
                running -= window_min[n - lookahead];
            }
            let padding = lookahead.saturating_sub(n + 1) as f64;
            smoothed.push(((running + padding) / lookahead as f64).min(window_min[n]));
        }
        let release = 1.0 - (-1.0 / (RELEASE_SECONDS * rate)).exp();
        let mut envelope = 1.0f64;
        let mut deepest = 1.0f64;
        let limited = self
            .source
            .iter()
            .zip(&smoothed)
            .map(|(&sample, &target)| {
                envelope = (envelope + release * (1.0 - envelope)).min(target);
                deepest = deepest.min(envelope);
                (f64::from(sample) * gain * envelope) as f32
            })
            .collect();
        (limited, -20.0 * deepest.log10())
    }
}

/// `out[n] = min(values[n..n + width])`, via a monotonic deque.
fn forward_window_min(values: &[f64], width: usize) -> Vec<f64> {
    let len = values.len();
    let mut out = vec![1.0f64; len];
    let mut deque: VecDeque<usize> = VecDeque::new();
    // Walk backwards so the window [n, n + width) is the deque's content.
    for n in (0..len).rev() {
        while deque.back().is_some_and(|&j| values[j] >= values[n]) {
            deque.pop_back();
        }
        deque.push_back(n);
        while deque.front().is_some_and(|&j| j >= n + width) {
            deque.pop_front();
        }
        if let Some(&j) = deque.front() {
            out[n] = values[j];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, amplitude: f64, rate: u32, seconds: f64) -> Vec<f32> {
        (0..(seconds * f64::from(rate)) as usize)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn ebu_tech_3341_sine_at_minus_23_dbfs_reads_minus_23_lufs() {
        // Tech 3341 case 1/2: 1 kHz sine at −23 dBFS (peak), mono counts as one channel
        // of a stereo pair, so −23 dBFS stereo equals −23 LUFS; in mono it reads 3 dB lower.
        for rate in [44_100, 48_000] {
            let amplitude = 10f64.powf(-23.0 / 20.0);
            let tone = sine(1000.0, amplitude, rate, 20.0);
            let mut meter = EbuR128::new(2, rate, Mode::I).unwrap();
            let stereo: Vec<f32> = tone.iter().flat_map(|&s| [s, s]).collect();
            meter.add_frames_f32(&stereo).unwrap();
            let lufs = meter.loudness_global().unwrap();
            assert!((lufs + 23.0).abs() <= 0.1, "{rate}: {lufs}");
            let mono = integrated_lufs(&tone, rate).unwrap();
            assert!((mono + 26.01).abs() <= 0.1, "{rate}: mono {mono}");
        }
    }

    #[test]
    fn silence_measures_as_finite_floor() {
        let silence = vec![0.0f32; 48_000];
        assert_eq!(integrated_lufs(&silence, 48_000).unwrap(), -200.0);
        assert_eq!(true_peak_dbtp(&silence, 48_000).unwrap(), -200.0);
        assert_eq!(loudness_range_lu(&silence, 48_000).unwrap(), 0.0);
        assert!(gated_rms_dbfs(&silence, 48_000).is_none());
        let report = level_output(
            &mut silence.clone(),
            48_000,
            -14.0,
            -1.0,
            &CancelToken::new(),
        )
        .unwrap();
        assert!(!report.reached_target);
        assert!(report.note.unwrap().contains("silent"));
    }

    #[test]
    fn limiter_holds_a_ceiling_on_a_hot_inter_sample_signal() {
        // fs/4 sine with a 45° phase: samples at ±0.707·A, true peak A.
        let signal: Vec<f32> = (0..48_000)
            .map(|i| {
                (1.5 * (std::f64::consts::FRAC_PI_2 * i as f64 + std::f64::consts::FRAC_PI_4).sin())
                    as f32
            })
            .collect();
        let (signal, reduction) = TruePeakLimiter::new(&signal, 48_000).apply(1.0, -1.0);
        assert!(reduction > 4.0);
        assert!(true_peak_dbtp(&signal, 48_000).unwrap() <= -0.9);
    }

    #[test]
    fn levelling_hits_the_target_or_says_it_cannot() {
        // A sparse click train: to read −14 LUFS its peaks must be limited hard.
        let rate = 48_000;
        let mut clicks = vec![0.0f32; rate as usize * 4];
        for i in (0..clicks.len()).step_by(4800) {
            clicks[i] = 0.5;
        }
        let mut reachable = sine(220.0, 0.05, rate, 4.0);
        let report = level_output(&mut reachable, rate, -14.0, -1.0, &CancelToken::new()).unwrap();
        assert!((report.output_lufs + 14.0).abs() <= LEVEL_TOLERANCE_LU);
        assert!(report.true_peak_dbtp <= -1.0);
        // A single-sample click at −1 dBTP holds almost no energy: −5 LUFS is out of reach.
        let report = level_output(&mut clicks, rate, -5.0, -1.0, &CancelToken::new()).unwrap();
        assert!(!report.reached_target);
        assert!(report.true_peak_dbtp <= -1.0);
        let note = report.note.unwrap();
        assert!(note.contains("-5.0 LUFS target"), "{note}");
    }

    #[test]
    fn gated_rms_ignores_pauses() {
        let mut tone = sine(220.0, 0.1, 48_000, 2.0);
        let level = gated_rms_dbfs(&tone, 48_000).unwrap();
        tone.extend(vec![0.0; 96_000]);
        let with_pause = gated_rms_dbfs(&tone, 48_000).unwrap();
        assert!((level - with_pause).abs() < 0.01);
        assert!((level - (20.0 * (0.1f64 / 2f64.sqrt()).log10())).abs() < 0.05);
    }
}
