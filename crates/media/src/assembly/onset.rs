//! Analysis features for phrase cutting, on a common 5 ms hop grid.
//!
//! Contract: frame `i` is centred on sample `i * hop`. [`energy_db`] is the
//! mean-square level of a 20 ms window around it (floored at
//! [`ENERGY_FLOOR_DB`]); [`onsets`] are frames where the half-wave rectified,
//! log-compressed spectral flux (21 ms window, 10 ms hop) peaks above an
//! adaptive threshold, aligned to the steepest rise of the level. NaN and
//! infinite input samples are treated as silence.

use realfft::RealFftPlanner;

/// Level assigned to digital silence, so comparisons stay finite.
pub const ENERGY_FLOOR_DB: f32 = -120.0;

/// Flux frames are this many analysis hops apart (10 ms).
const FLUX_HOPS: usize = 2;

/// Hop between analysis frames: 5 ms, at least one sample.
pub fn hop_for(sample_rate: u32) -> usize {
    ((sample_rate as usize) / 200).max(1)
}

fn clean(sample: f32) -> f32 {
    if sample.is_finite() { sample } else { 0.0 }
}

/// Number of analysis frames covering `len` samples.
pub fn frame_count(len: usize, hop: usize) -> usize {
    len.div_ceil(hop)
}

/// Short-term level in dBFS per frame (20 ms window centred on the frame).
pub fn energy_db(signal: &[f32], hop: usize) -> Vec<f32> {
    let frames = frame_count(signal.len(), hop);
    // Mean square per hop-sized block, then a 4-block moving average centred
    // on each frame: long enough to smooth over one period of a low E string
    // (12 ms), short enough to find the gap before an attack.
    let block_ms: Vec<f64> = (0..frames)
        .map(|i| {
            let block = signal.get(i * hop..((i + 1) * hop).min(signal.len()));
            let block = block.unwrap_or(&[]);
            let sum: f64 = block.iter().map(|&s| f64::from(clean(s)).powi(2)).sum();
            sum / block.len().max(1) as f64
        })
        .collect();
    (0..frames)
        .map(|i| {
            let lo = i.saturating_sub(2);
            let hi = (i + 2).min(frames);
            let window = block_ms.get(lo..hi).unwrap_or(&[]);
            let mean = window.iter().sum::<f64>() / window.len().max(1) as f64;
            let db = 10.0 * mean.max(1e-30).log10();
            (db as f32).max(ENERGY_FLOOR_DB)
        })
        .collect()
}

/// Onset frames (sorted): spectral-flux peaks, each moved to the steepest
/// rise of `energy` (from [`energy_db`]) within ±30 ms, because the flux
/// window and hop place an attack only to within about 15 ms.
pub fn onsets(signal: &[f32], sample_rate: u32, hop: usize, energy: &[f32]) -> Vec<usize> {
    // Flux on a coarser grid (FLUX_HOPS analysis hops): the refinement
    // below restores 5 ms precision, and it halves the FFT work.
    let flux_hop = hop * FLUX_HOPS;
    let flux = spectral_flux(signal, sample_rate, flux_hop);
    let radius = ((30.0 * sample_rate as f32 / 1000.0 / hop as f32) as usize).max(1);
    let mut refined: Vec<usize> = pick_peaks(&flux, flux_hop, sample_rate)
        .into_iter()
        .map(|peak| steepest_rise(energy, peak * FLUX_HOPS, radius))
        .collect();
    refined.dedup();
    refined
}

/// Frame in `peak ± radius` where the level rises fastest.
fn steepest_rise(energy: &[f32], peak: usize, radius: usize) -> usize {
    let level = |frame: usize| energy.get(frame).copied().unwrap_or(ENERGY_FLOOR_DB);
    let mut best = (f32::NEG_INFINITY, peak);
    for frame in peak.saturating_sub(radius)..=peak + radius {
        if frame >= energy.len() {
            break;
        }
        let rise = level(frame + 1) - level(frame.saturating_sub(1));
        if rise > best.0 {
            best = (rise, frame);
        }
    }
    best.1
}

/// Window of roughly 21 ms (1024 at 48 kHz), a power of two for the FFT.
fn fft_size_for(sample_rate: u32) -> usize {
    ((sample_rate as usize) / 50).max(64).next_power_of_two()
}

/// Rectified log-magnitude flux per frame; frame 0 is 0.
fn spectral_flux(signal: &[f32], sample_rate: u32, hop: usize) -> Vec<f32> {
    let frames = frame_count(signal.len(), hop);
    let size = fft_size_for(sample_rate);
    let half = size / 2;
    let window: Vec<f32> = (0..size)
        .map(|n| {
            let phase = std::f32::consts::TAU * n as f32 / size as f32;
            0.5 - 0.5 * phase.cos()
        })
        .collect();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(size);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut previous = vec![0.0f32; spectrum.len()];
    let mut flux = Vec::with_capacity(frames);
    for frame in 0..frames {
        // Window centred on the frame; outside the signal is silence.
        let centre = frame * hop;
        let first = centre.saturating_sub(half);
        let skip = half.saturating_sub(centre);
        input.fill(0.0);
        let available = signal.get(first..).unwrap_or(&[]);
        for ((slot, &sample), &weight) in input
            .iter_mut()
            .skip(skip)
            .zip(available)
            .zip(window.iter().skip(skip))
        {
            *slot = clean(sample) * weight;
        }
        if fft
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .is_err()
        {
            flux.push(0.0);
            continue;
        }
        let mut sum = 0.0f32;
        for (bin, prev) in spectrum.iter().zip(previous.iter_mut()) {
            // log(1 + γ|X|) compresses dynamics so soft notes still register.
            let magnitude = (1.0 + 10.0 * bin.norm()).ln();
            sum += (magnitude - *prev).max(0.0);
            *prev = magnitude;
        }
        flux.push(if frame == 0 { 0.0 } else { sum });
    }
    flux
}

/// Local maxima above `1.5 × local mean + 10% of the global maximum`.
fn pick_peaks(flux: &[f32], hop: usize, sample_rate: u32) -> Vec<usize> {
    let frames_per_ms = sample_rate as f32 / 1000.0 / hop as f32;
    let local_max_radius = ((25.0 * frames_per_ms) as usize).max(1);
    let mean_radius = ((150.0 * frames_per_ms) as usize).max(1);
    let min_gap = ((50.0 * frames_per_ms) as usize).max(1);
    let global_max = flux.iter().copied().fold(0.0f32, f32::max);
    if global_max <= f32::EPSILON {
        return Vec::new();
    }
    let delta = 0.1 * global_max;
    let mut peaks: Vec<usize> = Vec::new();
    for (i, &value) in flux.iter().enumerate() {
        let neighbourhood = flux
            .get(i.saturating_sub(local_max_radius)..(i + local_max_radius + 1).min(flux.len()))
            .unwrap_or(&[]);
        if neighbourhood.iter().any(|&v| v > value) {
            continue;
        }
        let around = flux
            .get(i.saturating_sub(mean_radius)..(i + mean_radius + 1).min(flux.len()))
            .unwrap_or(&[]);
        let mean = around.iter().sum::<f32>() / around.len().max(1) as f32;
        if value < 1.5 * mean + delta {
            continue;
        }
        if peaks.last().is_some_and(|&last| i - last < min_gap) {
            continue;
        }
        peaks.push(i);
    }
    peaks
}
