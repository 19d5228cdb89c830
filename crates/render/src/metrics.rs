//! Per-chain measurements.
//!
//! Contract: [`measure`] returns only finite numbers for any finite input, silence
//! included (levels floor at −200 dB, spectral figures read 0, rates read 0). Spectral
//! figures come from a Welch-averaged power spectrum (4096-point Hann, 50 % overlap);
//! level statistics from 50 ms windows; transients from a 10 ms energy envelope.

use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::loudness::{finite_or_floor, integrated_lufs, loudness_range_lu, true_peak_dbtp};

const FFT_SIZE: usize = 4096;
const FLOOR_DB: f64 = -200.0;

/// Every measurement of one rendered chain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChainMetrics {
    /// RMS level, dBFS.
    pub rms_dbfs: f64,
    /// Sample peak, dBFS.
    pub peak_dbfs: f64,
    /// True peak (BS.1770-4), dBTP.
    pub true_peak_dbtp: f64,
    /// Peak minus RMS, dB.
    pub crest_factor_db: f64,
    /// Integrated loudness, LUFS.
    pub integrated_lufs: f64,
    /// Loudness range (EBU Tech 3342), LU.
    pub loudness_range_lu: f64,
    /// P95 − P5 of 50 ms window RMS (windows above −70 dBFS), dB.
    pub dynamic_range_db: f64,
    /// Spectral centroid, Hz.
    pub spectral_centroid_hz: f64,
    /// Frequency below which 85 % of the power lies, Hz.
    pub spectral_rolloff_hz: f64,
    /// Spectral flatness (geometric / arithmetic mean power), 0..=1.
    pub spectral_flatness: f64,
    /// Spectral bandwidth (power-weighted standard deviation around the centroid), Hz.
    pub spectral_bandwidth_hz: f64,
    /// Share of power below 250 Hz, dB relative to the total.
    pub low_band_db: f64,
    /// Share of power in 250–2000 Hz, dB relative to the total.
    pub mid_band_db: f64,
    /// Share of power above 2 kHz, dB relative to the total.
    pub high_band_db: f64,
    /// Detected note onsets per second.
    pub transient_density_per_s: f64,
    /// Mean time from onset to envelope peak, ms.
    pub attack_time_ms: f64,
    /// Mean envelope fall over the 300 ms after each peak, dB/s.
    pub decay_rate_db_per_s: f64,
}

fn db(power_ratio: f64) -> f64 {
    finite_or_floor(10.0 * power_ratio.max(1e-20).log10(), FLOOR_DB)
}

/// Measures a rendered chain at `sample_rate`.
pub fn measure(samples: &[f32], sample_rate: u32) -> Result<ChainMetrics> {
    let rate = f64::from(sample_rate.max(1));
    let mean_square =
        samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len().max(1) as f64;
    let peak = samples
        .iter()
        .fold(0.0f64, |m, &s| m.max(f64::from(s.abs())));
    let rms_dbfs = db(mean_square);
    let peak_dbfs = db(peak * peak);
    let crest_factor_db = if mean_square > 0.0 {
        peak_dbfs - rms_dbfs
    } else {
        0.0
    };
    let spectrum = mean_power_spectrum(samples);
    let spectral = spectral_figures(&spectrum, rate);
    let envelope = envelope_db(samples, sample_rate);
    let onsets = onset_frames(&envelope);
    let (attack_time_ms, decay_rate_db_per_s) = attack_and_decay(&envelope, &onsets);
    let duration = samples.len() as f64 / rate;
    Ok(ChainMetrics {
        rms_dbfs,
        peak_dbfs,
        true_peak_dbtp: true_peak_dbtp(samples, sample_rate)?,
        crest_factor_db,
        integrated_lufs: integrated_lufs(samples, sample_rate)?,
        loudness_range_lu: loudness_range_lu(samples, sample_rate)?,
        dynamic_range_db: dynamic_range_db(samples, sample_rate),
        spectral_centroid_hz: spectral.centroid,
        spectral_rolloff_hz: spectral.rolloff,
        spectral_flatness: spectral.flatness,
        spectral_bandwidth_hz: spectral.bandwidth,
        low_band_db: spectral.low_db,
        mid_band_db: spectral.mid_db,
        high_band_db: spectral.high_db,
        transient_density_per_s: if duration > 0.0 {
            onsets.len() as f64 / duration
        } else {
            0.0
        },
        attack_time_ms,
        decay_rate_db_per_s,
    })
}

/// Welch-averaged power spectrum, `FFT_SIZE / 2 + 1` bins (all zeros for silence).
pub fn mean_power_spectrum(samples: &[f32]) -> Vec<f64> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(FFT_SIZE);
    let window: Vec<f64> = (0..FFT_SIZE)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / FFT_SIZE as f64).cos())
        .collect();
    let mut sum = vec![0.0f64; FFT_SIZE / 2 + 1];
    let mut frame = vec![0.0f64; FFT_SIZE];
    let mut spectrum = fft.make_output_vec();
    let mut frames = 0usize;
    let mut start = 0usize;
    while start < samples.len() {
        let end = (start + FFT_SIZE).min(samples.len());
        frame.fill(0.0);
        for (i, &s) in samples[start..end].iter().enumerate() {
            frame[i] = f64::from(s) * window[i];
        }
        if fft.process(&mut frame, &mut spectrum).is_ok() {
            for (acc, bin) in sum.iter_mut().zip(&spectrum) {
                *acc += bin.norm_sqr();
            }
            frames += 1;
        }
        start += FFT_SIZE / 2;
    }
    let scale = 1.0 / frames.max(1) as f64;
    sum.iter_mut().for_each(|p| *p *= scale);
    sum
}

/// Frequency of bin `i` of [`mean_power_spectrum`].
pub fn bin_frequency(bin: usize, sample_rate: u32) -> f64 {
    bin as f64 * f64::from(sample_rate) / FFT_SIZE as f64
}

struct Spectral {
    centroid: f64,
    rolloff: f64,
    flatness: f64,
    bandwidth: f64,
    low_db: f64,
    mid_db: f64,
    high_db: f64,
}

fn spectral_figures(power: &[f64], rate: f64) -> Spectral {
    let frequency = |i: usize| i as f64 * rate / FFT_SIZE as f64;
    // Ignore DC and sub-audio bins.
    let bins: Vec<(f64, f64)> = power
        .iter()
        .enumerate()
        .map(|(i, &p)| (frequency(i), p))
        .filter(|&(f, _)| f >= 20.0)
        .collect();
    let total: f64 = bins.iter().map(|&(_, p)| p).sum();
    if total <= 1e-30 || bins.is_empty() {
        return Spectral {
            centroid: 0.0,
            rolloff: 0.0,
            flatness: 0.0,
            bandwidth: 0.0,
            low_db: FLOOR_DB,
            mid_db: FLOOR_DB,
            high_db: FLOOR_DB,
        };
    }
    let centroid = bins.iter().map(|&(f, p)| f * p).sum::<f64>() / total;
    let bandwidth = (bins
        .iter()
        .map(|&(f, p)| (f - centroid).powi(2) * p)
        .sum::<f64>()
        / total)
        .sqrt();
    let mut cumulative = 0.0;
    let mut rolloff = bins.last().map_or(0.0, |&(f, _)| f);
    for &(f, p) in &bins {
        cumulative += p;
        if cumulative >= 0.85 * total {
            rolloff = f;
            break;
        }
    }
    let epsilon = total / bins.len() as f64 * 1e-12;
    let log_mean = bins.iter().map(|&(_, p)| (p + epsilon).ln()).sum::<f64>() / bins.len() as f64;
    let flatness = (log_mean.exp() / (total / bins.len() as f64)).clamp(0.0, 1.0);
    let band = |low: f64, high: f64| {
        db(bins
            .iter()
            .filter(|&&(f, _)| f >= low && f < high)
            .map(|&(_, p)| p)
            .sum::<f64>()
            / total)
    };
    Spectral {
        centroid,
        rolloff,
        flatness,
        bandwidth,
        low_db: band(0.0, 250.0),
        mid_db: band(250.0, 2000.0),
        high_db: band(2000.0, f64::INFINITY),
    }
}

fn dynamic_range_db(samples: &[f32], sample_rate: u32) -> f64 {
    let window = (sample_rate as usize / 20).max(1);
    let mut levels: Vec<f64> = samples
        .chunks(window)
        .map(|w| db(w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len() as f64))
        .filter(|&l| l > -70.0)
        .collect();
    if levels.len() < 2 {
        return 0.0;
    }
    levels.sort_by(f64::total_cmp);
    let at = |q: f64| levels[((levels.len() - 1) as f64 * q).round() as usize];
    at(0.95) - at(0.05)
}

const ENVELOPE_FRAME_SECONDS: f64 = 0.010;

/// 10 ms RMS envelope in dB.
fn envelope_db(samples: &[f32], sample_rate: u32) -> Vec<f64> {
    let frame = ((f64::from(sample_rate) * ENVELOPE_FRAME_SECONDS) as usize).max(1);
    samples
        .chunks(frame)
        .map(|w| db(w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len() as f64))
        .collect()
}

/// Frames where the envelope jumps ≥ 8 dB above its last 30 ms minimum, within 40 dB of
/// the loudest frame, at least 50 ms apart.
fn onset_frames(envelope: &[f64]) -> Vec<usize> {
    let loudest = envelope.iter().copied().fold(FLOOR_DB, f64::max);
    if loudest <= -100.0 {
        return Vec::new();
    }
    let mut onsets: Vec<usize> = Vec::new();
    for i in 3..envelope.len() {
        let recent_min = envelope[i - 3..i]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let far_enough = onsets.last().is_none_or(|&last| i - last >= 5);
        if envelope[i] - recent_min >= 8.0 && envelope[i] > loudest - 40.0 && far_enough {
            onsets.push(i);
        }
    }
    onsets
}

fn attack_and_decay(envelope: &[f64], onsets: &[usize]) -> (f64, f64) {
    if onsets.is_empty() {
        return (0.0, 0.0);
    }
    let frame_ms = ENVELOPE_FRAME_SECONDS * 1000.0;
    let mut attack_sum = 0.0;
    let mut decay_sum = 0.0;
    let mut decays = 0usize;
    for &onset in onsets {
        let search_end = (onset + 20).min(envelope.len());
        let (peak_frame, peak_db) = envelope[onset..search_end].iter().enumerate().fold(
            (0usize, FLOOR_DB),
            |best, (i, &v)| if v > best.1 { (i, v) } else { best },
        );
        attack_sum += (peak_frame as f64 + 1.0) * frame_ms;
        let after = onset + peak_frame + 30;
        if let Some(&later) = envelope.get(after) {
            decay_sum += (peak_db - later).max(0.0) / 0.3;
            decays += 1;
        }
    }
    let attack = attack_sum / onsets.len() as f64;
    let decay = if decays > 0 {
        decay_sum / decays as f64
    } else {
        0.0
    };
    (attack, decay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_finite(m: &ChainMetrics) -> bool {
        let v = serde_json::to_value(m).unwrap();
        v.as_object()
            .unwrap()
            .values()
            .all(|x| x.as_f64().is_some_and(f64::is_finite))
    }

    #[test]
    fn silence_and_near_silence_give_finite_metrics() {
        for signal in [
            vec![0.0f32; 48_000],
            vec![1e-30f32; 48_000],
            vec![0.0f32; 3],
            Vec::new(),
        ] {
            let m = measure(&signal, 48_000).unwrap();
            assert!(all_finite(&m), "{m:?}");
        }
        let m = measure(&vec![0.0f32; 48_000], 48_000).unwrap();
        assert_eq!(m.spectral_centroid_hz, 0.0);
        assert_eq!(m.transient_density_per_s, 0.0);
    }

    #[test]
    fn sine_metrics_match_theory() {
        let rate = 48_000;
        let tone: Vec<f32> = (0..rate * 2)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / rate as f64).sin()) as f32
            })
            .collect();
        let m = measure(&tone, rate as u32).unwrap();
        assert!(all_finite(&m));
        assert!((m.crest_factor_db - 3.01).abs() < 0.05);
        assert!((m.spectral_centroid_hz - 1000.0).abs() < 20.0);
        assert!(m.mid_band_db > -0.1);
        assert!(m.spectral_flatness < 0.01);
    }

    #[test]
    fn plucks_are_counted_as_transients() {
        let rate = 48_000usize;
        let mut signal = vec![0.0f32; rate * 4];
        for note in 0..8 {
            let start = note * rate / 2;
            for i in 0..rate / 2 {
                let t = i as f64 / rate as f64;
                signal[start + i] =
                    (0.5 * (-t * 8.0).exp() * (2.0 * std::f64::consts::PI * 196.0 * t).sin())
                        as f32;
            }
        }
        let m = measure(&signal, rate as u32).unwrap();
        assert!(
            (m.transient_density_per_s - 2.0).abs() < 0.3,
            "{}",
            m.transient_density_per_s
        );
        assert!(
            m.decay_rate_db_per_s > 40.0 && m.decay_rate_db_per_s < 100.0,
            "{}",
            m.decay_rate_db_per_s
        );
        assert!(m.attack_time_ms <= 30.0);
    }
}
