//! Cabinet IR convolution: uniform partitioned overlap-save FFT convolution (realfft).
//!
//! Contract: [`PartitionedConvolver::process`] returns exactly the first `input.len()`
//! samples of the linear convolution `input * ir` (no added latency), equal to direct
//! convolution within float rounding. The IR is split into partitions of `BLOCK`
//! samples; each input block is transformed once and multiplied against every
//! partition's spectrum through a frequency-domain delay line.
//!
//! IR normalisation rule ([`normalise_ir`]): the IR is scaled to unit energy
//! (Σ h² = 1), the rule of the NAM plugin (which normalises IR energy) taken at 0 dB
//! instead of its −18 dB, so a broadband signal keeps roughly its RMS through the IR
//! and the mix control blends dry and wet at comparable levels.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

use crate::error::{RenderError, Result};
use crate::progress::CancelToken;

/// Partition (and hop) size in samples.
pub const BLOCK: usize = 1024;

/// Scales `ir` to unit energy; an all-zero IR is left as is (the caller refuses it).
pub fn normalise_ir(ir: &mut [f32]) {
    let energy: f64 = ir.iter().map(|&h| f64::from(h) * f64::from(h)).sum();
    if energy > 0.0 && energy.is_finite() {
        let gain = (1.0 / energy.sqrt()) as f32;
        ir.iter_mut().for_each(|h| *h *= gain);
    }
}

/// A prepared convolver for one IR.
pub struct PartitionedConvolver {
    partitions: Vec<Vec<Complex<f32>>>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
}

impl PartitionedConvolver {
    /// Transforms the IR's partitions once.
    pub fn new(ir: &[f32]) -> Result<Self> {
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(2 * BLOCK);
        let inverse = planner.plan_fft_inverse(2 * BLOCK);
        let mut partitions = Vec::with_capacity(ir.len().div_ceil(BLOCK));
        let mut frame = vec![0.0f32; 2 * BLOCK];
        for part in ir.chunks(BLOCK) {
            frame.fill(0.0);
            frame[..part.len()].copy_from_slice(part);
            let mut spectrum = forward.make_output_vec();
            forward
                .process(&mut frame, &mut spectrum)
                .map_err(|e| RenderError::InvalidSpec(format!("IR transform failed: {e}")))?;
            partitions.push(spectrum);
        }
        Ok(Self {
            partitions,
            forward,
            inverse,
        })
    }

    /// Convolves `input`, returning `input.len()` samples; checks `cancel` as it goes.
    pub fn process(&self, input: &[f32], cancel: &CancelToken) -> Result<Vec<f32>> {
        let bins = BLOCK + 1;
        let count = self.partitions.len().max(1);
        // Ring of input-block spectra: slot `b % count` holds block `b`.
        let mut history = vec![vec![Complex::new(0.0f32, 0.0); bins]; count];
        let mut frame = vec![0.0f32; 2 * BLOCK];
        let mut window = vec![0.0f32; 2 * BLOCK];
        let mut accumulator = vec![Complex::new(0.0f32, 0.0); bins];
        let mut time = vec![0.0f32; 2 * BLOCK];
        let mut output = Vec::with_capacity(input.len());
        let scale = 1.0 / (2 * BLOCK) as f32;
        let transform_error =
            |e: realfft::FftError| RenderError::InvalidSpec(format!("convolution FFT failed: {e}"));

        for (block_index, block) in input.chunks(BLOCK).enumerate() {
            if block_index % 64 == 0 {
                cancel.check()?;
            }
            // Overlap-save: the frame is the previous block followed by this one.
            window.copy_within(BLOCK.., 0);
            window[BLOCK..].fill(0.0);
            window[BLOCK..BLOCK + block.len()].copy_from_slice(block);
            frame.copy_from_slice(&window);
            let slot = block_index % count;
            if let Some(target) = history.get_mut(slot) {
                self.forward
                    .process(&mut frame, target)
                    .map_err(transform_error)?;
            }
            accumulator.fill(Complex::new(0.0, 0.0));
            for (lag, partition) in self.partitions.iter().enumerate() {
                if lag > block_index {
                    break;
                }
                let past = &history[(block_index - lag) % count];
                for ((acc, x), h) in accumulator.iter_mut().zip(past).zip(partition) {
                    *acc += x * h;
                }
            }
            // DC and Nyquist bins of a real signal's spectrum are real.
            if let Some(first) = accumulator.first_mut() {
                first.im = 0.0;
            }
            if let Some(last) = accumulator.last_mut() {
                last.im = 0.0;
            }
            self.inverse
                .process(&mut accumulator, &mut time)
                .map_err(transform_error)?;
            output.extend(time[BLOCK..BLOCK + block.len()].iter().map(|s| s * scale));
        }
        Ok(output)
    }
}

/// Direct-form convolution truncated to `input.len()`: the reference for tests.
pub fn direct_convolution(input: &[f32], ir: &[f32]) -> Vec<f32> {
    (0..input.len())
        .map(|n| {
            let taps = ir.len().min(n + 1);
            (0..taps)
                .map(|k| f64::from(ir[k]) * f64::from(input[n - k]))
                .sum::<f64>() as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in -1..1 (xorshift), so tests need no RNG crate.
    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.max(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn assert_matches_direct(ir: &[f32], input: &[f32]) {
        let convolver = PartitionedConvolver::new(ir).unwrap();
        let fast = convolver.process(input, &CancelToken::new()).unwrap();
        let slow = direct_convolution(input, ir);
        assert_eq!(fast.len(), slow.len());
        let peak = slow.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let worst = fast
            .iter()
            .zip(&slow)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= 1e-5 * peak.max(1.0) * 10.0,
            "worst {worst}, peak {peak}"
        );
    }

    #[test]
    fn short_ir_equals_direct_convolution() {
        let mut ir = noise(244, 7);
        normalise_ir(&mut ir);
        assert_matches_direct(&ir, &noise(5000, 3));
    }

    #[test]
    fn long_synthesised_ir_equals_direct_convolution() {
        // 0.5 s at 48 kHz of exponentially decaying, one-pole low-passed noise.
        let rate = 48_000.0f32;
        let mut ir = noise(24_000, 11);
        let mut smoothed = 0.0f32;
        for (i, h) in ir.iter_mut().enumerate() {
            smoothed += 0.3 * (*h - smoothed);
            *h = smoothed * (-(i as f32) / (0.08 * rate)).exp();
        }
        normalise_ir(&mut ir);
        let energy: f32 = ir.iter().map(|h| h * h).sum();
        assert!((energy - 1.0).abs() < 1e-4);
        assert_matches_direct(&ir, &noise(30_000, 5));
    }

    #[test]
    fn cancellation_is_observed() {
        let convolver = PartitionedConvolver::new(&[1.0; 10]).unwrap();
        let token = CancelToken::new();
        token.cancel();
        assert!(matches!(
            convolver.process(&noise(10_000, 1), &token),
            Err(RenderError::Cancelled)
        ));
    }
}
